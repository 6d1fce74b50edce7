/**
 * Wake-ups: the browser's hints that now is a good moment to reconnect rather than wait for
 * the next scheduled retry (DESIGN.md §2, step 5): this module listens for them, stops
 * listening, and says what one should make the negotiator do (wakeUpAction).
 *
 * `window` and `document` are injected, so it runs in Node tests without a DOM; a target
 * without addEventListener is skipped.
 */

/**
 * Call `wake(reason, force)` when the browser comes back online, the tab becomes visible
 * again, or the page is shown; `force` is true when it came back from the back/forward cache.
 * Returns a function that removes every listener added here.
 */
export function listenForWakeUps({ window, document }, wake) {
  const listeners = []; // [target, type, handler]
  const listen = (target, type, handler) => {
    if (!target?.addEventListener) return;
    target.addEventListener(type, handler);
    listeners.push([target, type, handler]);
  };
  listen(window, "online", () => wake("browser online"));
  listen(window, "pageshow", (event) =>
    // Back from the back/forward cache: the old stream is gone even if it looks live.
    wake("page shown", Boolean(event?.persisted)),
  );
  listen(document, "visibilitychange", () => {
    if (document?.visibilityState === "visible") wake("tab visible");
  });
  return () => {
    for (const [target, type, handler] of listeners) target.removeEventListener(type, handler);
    listeners.length = 0;
  };
}

/**
 * What a wake-up does to a negotiator in `state` (and, when live, whose watchdog is
 * `overdue`; `below`: it delivers from a lower tier; `climbing`: its probe is trying the
 * top tier): "reconnect", "climb" (try the top tier now, in the background) or null.
 */
export function wakeUpAction({ state, force = false, overdue = false, below = false, climbing = false }) {
  // Offline: retry now, without counting it as an attempt.
  if (state === "offline") return "reconnect";
  // Timers are throttled in background tabs and stop during sleep, so the watchdog may
  // not have fired yet although the stream is long dead.
  if (state === "live" && (force || overdue)) return "reconnect";
  // On a lower tier: climb back now rather than at the scheduled time (not an attempt either).
  if (below && state !== "connecting" && !climbing) return "climb";
  return null;
}
