/**
 * Reconnect delays: 1 s, 2 s, 4 s, 8 s, 16 s, 30 s cap, each ±20 % jitter.
 *
 * Pure: no timers, no DOM, no state. The caller counts attempts.
 */

/**
 * Delay in ms before retry number `attempt` (1-based), with jitter drawn on every call.
 *
 * The cap applies to the base delay; jitter is applied after it, so at the cap the delay
 * still spreads over maxMs ± jitter and a crowd of clients dropped by the same restart
 * does not come back in the same millisecond.
 */
export function backoff(
  attempt,
  { initialMs = 1000, maxMs = 30000, jitter = 0.2, random = Math.random } = {},
) {
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  // 2 ** n overflows to Infinity for huge n; Math.min still yields maxMs.
  const base = Math.min(maxMs, initialMs * 2 ** (n - 1));
  const spread = base * jitter * (2 * random() - 1); // random() in [0, 1) → [-jitter, +jitter)
  return Math.max(0, Math.round(base + spread));
}
