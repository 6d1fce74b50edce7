/**
 * Ask devtone whether this site may frame the chat (DEVTONE_EMBED_ORIGINS), before
 * showing anything: a launcher that opens a refused frame is worse than none. The
 * browser names the asking page's origin itself (the Origin header of a CORS request),
 * so the answer cannot be talked into a yes. A site left out gets one console message
 * naming the setting. `then(words, inHours)` also hears whether it is within office
 * hours (for the hideOutOfHours option). Without fetch (very old browsers) the launcher
 * shows, as it always did.
 */
export function whenAllowed(window, origin, locale, then) {
  if (typeof window.fetch !== "function") return then({}, true);
  const hidden = (why) => {
    if (window.console && window.console.warn) window.console.warn(`devtone: the chat widget stays hidden: ${why}`);
  };
  window
    .fetch(`${origin}/embed/allowed?locale=${encodeURIComponent(locale)}`, { mode: "cors", credentials: "omit" })
    .then((response) => (response.ok ? response.json() : null))
    .then(
      (answer) => {
        // The launcher's few words come in the visitor's language with the answer.
        if (answer && answer.allowed === true) then(answer.words || {}, answer.in_hours !== false);
        else hidden(`add ${window.location.origin} to DEVTONE_EMBED_ORIGINS on the devtone server (${origin}).`);
      },
      () => hidden(`${origin} could not be reached.`),
    );
}
