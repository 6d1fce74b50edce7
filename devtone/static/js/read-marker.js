/**
 * ReadMarker: moves one side's read ("seen") mark on one conversation, one POST per burst:
 * an agent's in the dashboard, the visitor's on the chat page and in the widget.
 *
 * The page says "read up to seq" each time its person is shown a new entry
 * (`seen(seq)`); the marker waits `delayMs` so a burst of messages becomes one POST of the
 * highest seq, never sends two at a time, and never sends a seq at or below the mark the
 * server already has. A POST that fails is not retried by itself (the next entry, or the
 * tab becoming visible again, marks anew): a read mark is worth no retry loop.
 *
 * Knows no DOM; `send(seq)` (a promise) and the timers are injected, so it runs in Node tests.
 */

/** How long to gather entries before one read POST. */
export const READ_DELAY_MS = 500;

/** Coalesces "read up to seq" into at most one POST in flight, of the highest seq. */
export class ReadMarker {
  #send;
  #setTimeout;
  #clearTimeout;
  #delayMs;
  #marked; // the highest seq the server has (or is being sent)
  #wanted; // the highest seq the page has shown its person
  #timer = null;
  #inFlight = false;
  #closed = false;

  /** `readSeq` is the side's mark on the server; `send(seq)` posts the mark. */
  constructor({
    send,
    readSeq = 0,
    setTimeout = (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout = (id) => globalThis.clearTimeout(id),
    delayMs = READ_DELAY_MS,
  } = {}) {
    if (typeof send !== "function") throw new TypeError("ReadMarker needs send()");
    this.#send = send;
    this.#setTimeout = setTimeout;
    this.#clearTimeout = clearTimeout;
    this.#delayMs = delayMs;
    this.#marked = Number.isInteger(readSeq) ? readSeq : 0;
    this.#wanted = this.#marked;
  }

  /** The highest seq sent (or being sent) as read. */
  get marked() {
    return this.#marked;
  }

  /** Its person has been shown everything up to `seq`: mark it read soon. */
  seen(seq) {
    if (this.#closed || !Number.isInteger(seq) || seq <= this.#wanted) return;
    this.#wanted = seq;
    this.#schedule();
  }

  /** The server reports its mark (a conversation update): nothing at or below it is sent. */
  acknowledge(readSeq) {
    if (Number.isInteger(readSeq) && readSeq > this.#marked) this.#marked = readSeq;
  }

  /**
   * Stop: the conversation closed. What its person was already shown is marked now rather
   * than dropped (they read it, even if they closed within the burst delay); after that,
   * nothing more goes. A POST in flight finishes.
   */
  close() {
    const pending = this.#timer !== null;
    if (pending) this.#clearTimeout(this.#timer);
    this.#timer = null;
    if (pending && !this.#inFlight) this.#flush();
    this.#closed = true;
  }

  #schedule() {
    if (this.#closed || this.#timer !== null || this.#inFlight || this.#wanted <= this.#marked) return;
    this.#timer = this.#setTimeout(() => {
      this.#timer = null;
      this.#flush();
    }, this.#delayMs);
  }

  async #flush() {
    if (this.#closed || this.#wanted <= this.#marked) return;
    // Runs synchronously up to the send, so close() can flush and then close.
    const seq = this.#wanted;
    const before = this.#marked;
    this.#inFlight = true;
    this.#marked = seq; // what came in meanwhile must not send the same seq again
    try {
      await this.#send(seq);
    } catch {
      // Not marked after all (unless the server said so meanwhile): the next seen() of
      // anything above the mark tries again.
      if (this.#marked === seq) this.#marked = before;
      this.#wanted = this.#marked;
      this.#inFlight = false;
      return; // no retry of its own (see above)
    }
    this.#inFlight = false;
    this.#schedule(); // entries that arrived during the POST
  }
}
