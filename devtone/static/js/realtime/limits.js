/**
 * StreamLimits: what the negotiator knows about the server's stream limits (429
 * `too_many_streams`: too many streams and long-poll waits open on this conversation, or in
 * this server process).
 *
 * A long-poll sees the 429 itself. An EventSource cannot: a refused stream only ends
 * CLOSED, like a 502. So when a stream ends for good, `explain(url)` asks again with a HEAD
 * of the same URL (the server checks the limit, then sends no body and holds no slot): a
 * 429 there means "limited", anything else means an ordinary failure.
 *
 * While limited the client polls (a poll holds no connection) and comes back to its
 * streams no sooner than the server's Retry-After: `holdOffMs()` is the least wait the
 * negotiator gives its next retry, on top of its own backoff. Holds no timer.
 */

/** Milliseconds a response's Retry-After asks for (seconds or an HTTP date), or null. */
export function retryAfterMs(response, now = Date.now()) {
  const value = response?.headers?.get?.("Retry-After");
  if (value == null || value === "") return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** A 429 as the negotiator's transports report it: {reason, retryAfterMs}. */
export function refusalOf(response, now = Date.now()) {
  return { reason: `HTTP ${response.status}`, retryAfterMs: retryAfterMs(response, now) ?? 0 };
}

export class StreamLimits {
  #fetch;
  #now;
  #until = 0; // epoch ms before which streams are not tried again
  #controllers = new Set(); // the HEAD requests in flight

  /** fetch and now() are the negotiator's (injectable for tests). */
  constructor({ fetch, now }) {
    this.#fetch = fetch;
    this.#now = now;
  }

  /** Whether a refusal's Retry-After has not run out yet. */
  get limited() {
    return this.#now() < this.#until;
  }

  /** The server refused a stream or a wait ({retryAfterMs}): hold off until it says. */
  refused({ retryAfterMs }) {
    this.#until = Math.max(this.#until, this.#now() + (retryAfterMs ?? 0));
  }

  /** A stream proved itself: whatever limit there was has cleared. */
  clear() {
    this.#until = 0;
  }

  /** The least wait (ms) before the next try of a stream: what is left of Retry-After. */
  holdOffMs() {
    return Math.max(0, this.#until - this.#now());
  }

  /** Why a stream at `url` ended: a refusal (429, recorded) as {reason, retryAfterMs}, else null. */
  async explain(url) {
    const controller = typeof AbortController === "function" ? new AbortController() : null;
    if (controller) this.#controllers.add(controller);
    try {
      const response = await this.#fetch(url, {
        method: "HEAD",
        credentials: "same-origin",
        cache: "no-store",
        signal: controller?.signal,
      });
      if (response.status !== 429) return null;
      const refusal = refusalOf(response, this.#now());
      this.refused(refusal);
      return refusal;
    } catch {
      return null; // unreachable, or aborted: nothing learnt
    } finally {
      this.#controllers.delete(controller);
    }
  }

  /** Drop every question in flight (their answers come back null). */
  abort() {
    for (const controller of this.#controllers) controller.abort();
    this.#controllers.clear();
  }
}
