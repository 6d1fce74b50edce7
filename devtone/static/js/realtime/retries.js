/**
 * Retries: counts the connection retries since the last proof (hello) and gives each one its
 * delay, logged as `Retrying connection in 2000ms (attempt 2)`. The negotiator keeps one for
 * its retries while offline and its probe one for the background retries of the top tier.
 *
 * Delays come from backoff() with the current timings (the server's answer to negotiate
 * replaces them) and a fresh jitter draw for every attempt, so clients dropped together
 * spread out.
 */
import { backoff } from "./backoff.js";

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
