/**
 * Retries and their delays. backoff(): 1 s, 2 s, 4 s, 8 s, 16 s, 30 s cap, each ±20 % jitter; pure
 * (no timers, no DOM, no state), also used by the outbox and the API client.
 *
 * Retries: counts the connection retries since the last proof (hello) and gives each one its
 * delay, logged as `Retrying connection in 2000ms (attempt 2)`. The negotiator keeps one for
 * its retries while offline and its probe one for the background retries of the top tier.
 *
 * Delays come from backoff() with the current timings (the server's answer to negotiate
 * replaces them) and a fresh jitter draw for every attempt, so clients dropped together
 * spread out.
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

export class Retries {
  #timings;
  #random;
  #logger;
  #attempt = 0;

  /** timings(): the current timings; random: Math.random or a test's. */
  constructor({ timings, random, logger }) {
    this.#timings = timings;
    this.#random = random;
    this.#logger = logger;
  }

  /** Count one more retry and return its delay in ms: the backoff, or `atLeastMs` if longer. */
  next(atLeastMs = 0) {
    this.#attempt += 1;
    const { initial_ms: initialMs, max_ms: maxMs, jitter } = this.#timings().backoff;
    const delay = backoff(this.#attempt, { initialMs, maxMs, jitter, random: this.#random });
    // A server's Retry-After (a limit) wins over a shorter backoff, never over a longer one.
    const ms = Math.max(delay, Math.ceil(atLeastMs));
    this.#logger?.info?.(`Retrying connection in ${ms}ms (attempt ${this.#attempt})`);
    return ms;
  }

  /** Something proved itself: the next retry starts again from the first delay. */
  reset() {
    this.#attempt = 0;
  }
}
