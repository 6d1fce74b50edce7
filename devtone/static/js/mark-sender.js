/**
 * MarkSender: moves one side's marks on one conversation — `delivered` (its client has the
 * entries) and `seen` (its person had them on screen) — an agent's in the dashboard, the
 * visitor's on the chat page and in the widget, through POST …/marks.
 *
 * The page says "have up to seq" as entries reach it (`delivered(seq)`) and "seen up to
 * seq" when they are on screen with the tab visible (`seen(seq)`). The sender gathers a
 * burst for `delayMs`, then sends both marks in one POST; never two at a time, and at most
 * one per `intervalMs` (the other side hears of each move: one mark per side per second).
 * Whatever rises meanwhile goes in the next POST, carrying the newest marks: the last one
 * is never dropped. Nothing at or below what the server has is sent. A POST that got no
 * answer (or a 5xx, 408, 429) is tried again after a backoff, so a visitor who read a reply
 * during a network blip still shows it "Seen"; one the server refused (another 4xx) is not:
 * the next entry, or the tab becoming visible again, marks anew.
 *
 * Knows no DOM; `send(marks)` (a promise) and the timers are injected, so it runs in Node tests.
 */

/** How long to gather a burst of entries before one POST. */
export const MARK_DELAY_MS = 250;
/** The shortest time between two POSTs of one conversation's marks. */
export const MARK_INTERVAL_MS = 1000;

const NAMES = ["delivered", "seen"];

import { isRetryable } from "./outbox.js";
import { backoff } from "./realtime/retries.js";

/** The marks worth a POST: those of `wanted` above `sent` ({} if none). */
export function marksToSend(wanted, sent) {
  const due = {};
  for (const name of NAMES) if (wanted[name] > sent[name]) due[name] = wanted[name];
  return due;
}

/** Coalesces one side's marks into at most one POST in flight, one per interval. */
export class MarkSender {
  #send;
  #setTimeout;
  #clearTimeout;
  #now;
  #delayMs;
  #intervalMs;
  #sent = { delivered: 0, seen: 0 }; // what the server has (or is being sent)
  #wanted = { delivered: 0, seen: 0 }; // what the page has reported
  #timer = null;
  #inFlight = false;
  #lastSentAt = -Infinity;
  #failures = 0; // POSTs failed in a row for a reason worth a retry
  #retryAt = -Infinity; // no POST before this (the backoff after a failure)
  #random;
  #closed = false;

  /** `marks` are the side's marks on the server; `send(marks)` posts {delivered?, seen?}. */
  constructor({
    send,
    marks = {},
    setTimeout = (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout = (id) => globalThis.clearTimeout(id),
    now = () => Date.now(),
    delayMs = MARK_DELAY_MS,
    intervalMs = MARK_INTERVAL_MS,
    random = Math.random,
  } = {}) {
    if (typeof send !== "function") throw new TypeError("MarkSender needs send()");
    this.#send = send;
    this.#setTimeout = setTimeout;
    this.#clearTimeout = clearTimeout;
    this.#now = now;
    this.#delayMs = delayMs;
    this.#intervalMs = intervalMs;
    this.#random = random;
    this.acknowledge(marks);
  }

  /** The marks sent (or being sent), or acknowledged by the server. */
  get marks() {
    return { ...this.#sent };
  }

  /** The page has every entry up to `seq`. */
  delivered(seq) {
    this.#want({ delivered: seq });
  }

  /** Its person has been shown everything up to `seq` (and so the client has it). */
  seen(seq) {
    this.#want({ delivered: seq, seen: seq });
  }

  /** The server reports the side's marks (a conversation update): nothing at or below them is sent. */
  acknowledge(marks) {
    for (const name of NAMES) {
      const seq = marks?.[name];
      if (!Number.isInteger(seq)) continue;
      this.#sent[name] = Math.max(this.#sent[name], seq);
      this.#wanted[name] = Math.max(this.#wanted[name], this.#sent[name]);
    }
  }

  /**
   * Stop: the conversation was left. What its person was already shown is marked now
   * rather than dropped (they saw it, even if they left within the delay); after that,
   * nothing more goes. A POST in flight finishes.
   */
  close() {
    const pending = this.#timer !== null;
    if (pending) this.#clearTimeout(this.#timer);
    this.#timer = null;
    if (pending && !this.#inFlight) this.#flush();
    this.#closed = true;
  }

  #want(marks) {
    if (this.#closed) return;
    let rose = false;
    for (const name of NAMES) {
      const seq = marks[name];
      if (!Number.isInteger(seq) || seq <= this.#wanted[name]) continue;
      this.#wanted[name] = seq;
      rose = true;
    }
    if (rose) this.#schedule();
  }

  #schedule() {
    if (this.#closed || this.#timer !== null || this.#inFlight) return;
    if (Object.keys(marksToSend(this.#wanted, this.#sent)).length === 0) return;
    const now = this.#now();
    const wait = Math.max(this.#delayMs, this.#lastSentAt + this.#intervalMs - now, this.#retryAt - now);
    this.#timer = this.#setTimeout(() => {
      this.#timer = null;
      this.#flush();
    }, wait);
  }

  async #flush() {
    const due = marksToSend(this.#wanted, this.#sent);
    if (this.#closed || Object.keys(due).length === 0) return;
    // Runs synchronously up to the send, so close() can flush and then close.
    const before = { ...this.#sent };
    this.#inFlight = true;
    this.#lastSentAt = this.#now();
    Object.assign(this.#sent, due); // what comes in meanwhile must not send the same again
    try {
      await this.#send(due);
      this.#failures = 0;
      this.#retryAt = -Infinity;
    } catch (error) {
      // Not marked after all (unless the server said so meanwhile). Unanswered: still
      // wanted, and tried again after the backoff. Refused: the next report of it tries
      // again. Either way a mark that rose during the POST still goes.
      const retry = isRetryable(error);
      if (retry) {
        this.#failures += 1;
        this.#retryAt = this.#now() + Math.max(backoff(this.#failures, { random: this.#random }), error?.retryAfterMs ?? 0);
      }
      for (const name of Object.keys(due)) {
        if (this.#sent[name] === due[name]) this.#sent[name] = before[name];
        if (!retry && this.#wanted[name] === due[name]) this.#wanted[name] = this.#sent[name];
      }
    }
    this.#inFlight = false;
    this.#schedule(); // marks that rose during the POST: the trailing edge (no retry of its own)
  }
}
