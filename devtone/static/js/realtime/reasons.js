/**
 * Why a connection moves: the one table of reason codes, shared by the negotiator (every
 * `statechange` carries a code), the tier report (it sends the code as it is) and the
 * server (`REPORT_REASONS` in devtone/feeds/connection_log.py; a test holds the two lists
 * equal). As centrifuge-js does with its codes.ts, every move carries `{code, reason}`: the
 * code from this table for metrics, the words for the log. Nothing turns words into codes.
 */

/** Every code, with what it means. */
export const CODES = Object.freeze({
  timeout: "timeout", // no hello in time, or a request that never answered
  silent: "silent", // the watchdog: a live stream stopped delivering
  closed: "closed", // the stream ended for good (a 502, a wrong content type), or close()
  failed: "failed", // a network or HTTP error, an answer that is not the feed's
  rate_limited: "rate_limited", // 429: too many streams
  upgrade: "upgrade", // a tier proved itself (hello)
  reconnect: "reconnect", // the start, a scheduled retry, a wake-up from the browser
  other: "other", // none of the above (no tier allowed, an invalid event)
});

/** A move's reason: `code` from CODES, `reason` the words to log (the code if none). */
export function because(code, reason = code) {
  if (!Object.hasOwn(CODES, code)) throw new TypeError(`unknown reason code: ${code}`);
  return Object.freeze({ code, reason });
}
