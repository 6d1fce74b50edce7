/**
 * Tier reports: tells the server (POST /api/realtime/report) each time a TierNegotiator moves
 * from one tier to another — a fallback or an upgrade — and why, so operators see in their
 * logs and metrics how often clients fall back. It only listens to the negotiator's
 * `statechange` events; no DOM, no timers. Best effort: one request per change, never
 * retried, failures ignored (a report must never disturb the chat it describes).
 */

import { CODES } from "./reasons.js";

const TIERS = new Set(["sse", "longpoll", "poll"]);

/**
 * Report `negotiator`'s tier changes to `url`; `kind` is "conversation" or "dashboard".
 * A change is between two real tiers: passing through none (connecting, offline) is not
 * one, so sse → offline → poll reports sse → poll. Returns a function that stops reporting.
 */
export function reportTierChanges(
  negotiator,
  {
    url = "/api/realtime/report",
    kind = null,
    fetch = (...args) => globalThis.fetch(...args),
    page = globalThis.window,
  } = {},
) {
  let last = null; // the last real tier the negotiator was on
  // A page that is going away (a reload, a link followed) closes its stream itself: the
  // fallback that follows is no failure of the network, and is not reported. Back from
  // the back-forward cache, the page reports again, from the tier it is on then.
  let leaving = false;
  const onPageHide = () => {
    leaving = true;
  };
  const onPageShow = () => {
    leaving = false;
    last = null;
  };
  page?.addEventListener?.("pagehide", onPageHide);
  page?.addEventListener?.("pageshow", onPageShow);
  const onStateChange = ({ detail }) => {
    const tier = detail?.tier;
    // A tab sharing another tab's feed (shared-feed.js) shows its changes; that tab reports them.
    if (leaving || detail?.relayed || !TIERS.has(tier) || tier === last) return;
    const from = last;
    last = tier;
    if (from === null) return; // the first tier of a page is no change
    // The negotiator's code, as it is: one table (reasons.js) for both ends.
    const body = { from, to: tier, reason: Object.hasOwn(CODES, detail.code) ? detail.code : CODES.other };
    if (kind) body.kind = kind;
    try {
      // keepalive: a report made as the page goes away still leaves.
      Promise.resolve(
        fetch(url, {
          method: "POST",
          keepalive: true,
          credentials: "same-origin",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        }),
      ).catch(() => {});
    } catch {
      // A fetch that throws at once (no network API) loses only a report.
    }
  };
  negotiator.addEventListener("statechange", onStateChange);
  return () => {
    negotiator.removeEventListener("statechange", onStateChange);
    page?.removeEventListener?.("pagehide", onPageHide);
    page?.removeEventListener?.("pageshow", onPageShow);
  };
}
