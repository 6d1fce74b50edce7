/**
 * Uploads: the files a writer sends, on their way to the server, one at a time in the
 * order they were chosen; an upload is a message, so it behaves as the Outbox's do.
 *
 * Each file gets a client_id once and keeps it through every retry, so the server (which
 * stores an upload once per client_id) never stores it twice. No answer, a 5xx or a 429
 * is tried again with backoff; after `maxAttempts` it is marked failed until its writer
 * retries or discards it. A refusal (413 too large, 415 a type not taken, 422, 409 a
 * closed conversation) fails it at once, `permanent`, and the next goes on. Files live
 * in memory only (a browser cannot keep a file across a reload; storage holds text):
 * an upload left when the page is left is gone, as if never chosen.
 *
 * Never touches the DOM: the same events as the Outbox, each detail with the clientId:
 * `pending` {clientId, body: the file's name, createdAt}, `sent` {clientId, message},
 * `failed` {clientId, body, error, permanent}.
 */
import { isRetryable } from "./outbox.js";
import { backoff } from "./realtime/retries.js";

export class Uploads extends EventTarget {
  #post;
  #newClientId;
  #setTimeout;
  #clearTimeout;
  #random;
  #now;
  #maxAttempts;
  #timeoutMs;

  #queue = []; // [{clientId, file, createdAt, attempts, failed}]: waiting or failed, in order
  #flight = null; // {item, controller, timer}
  #retryTimer = null;
  #paused = false;
  #closed = false;

  /** `post(file, clientId, {signal})` resolves to the stored message, or rejects with a `status`. */
  constructor({
    post,
    newClientId,
    setTimeout = (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout = (id) => globalThis.clearTimeout(id),
    random = Math.random,
    now = () => Date.now(),
    maxAttempts = 5,
    timeoutMs = 120_000, // a 10 MB file on a slow line takes a while
  }) {
    super();
    this.#post = post;
    this.#newClientId = newClientId;
    this.#setTimeout = setTimeout;
    this.#clearTimeout = clearTimeout;
    this.#random = random;
    this.#now = now;
    this.#maxAttempts = Math.max(1, maxAttempts);
    this.#timeoutMs = timeoutMs;
  }

  /** Queue a file; returns its client_id. */
  add(file) {
    if (this.#closed) return null;
    const item = { clientId: this.#newClientId(), file, createdAt: new Date(this.#now()).toISOString() };
    Object.assign(item, { attempts: 0, failed: false });
    this.#queue.push(item);
    this.#emit("pending", { clientId: item.clientId, body: file.name, createdAt: item.createdAt });
    this.#pump();
    return item.clientId;
  }

  /** Send a failed upload again, same client_id; false if this queue never had it. */
  retry(clientId) {
    const item = this.#queue.find((queued) => queued.clientId === clientId);
    if (!item || this.#closed) return false;
    if (item.failed) {
      Object.assign(item, { failed: false, attempts: 0 });
      this.#emit("pending", { clientId, body: item.file.name, createdAt: item.createdAt });
    }
    this.#cancelRetry();
    this.#pump();
    return true;
  }

  /** Forget a failed upload; false if there is none with this id. */
  drop(clientId) {
    const index = this.#queue.findIndex((item) => item.clientId === clientId && item.failed);
    if (index === -1) return false;
    this.#queue.splice(index, 1);
    this.#pump();
    return true;
  }

  /** A stored message seen anywhere (the feed, the history): its upload is done. */
  confirm(message) {
    const index = this.#queue.findIndex((item) => item.clientId === message?.client_id);
    if (index === -1 || !Number.isInteger(message?.seq)) return false;
    this.#queue.splice(index, 1);
    this.#pump();
    return true;
  }

  /** The connection is down: send nothing until resume(). */
  pause() {
    this.#paused = true;
    this.#cancelRetry();
  }

  /** The connection is back: send what waits, now. */
  resume() {
    this.#paused = false;
    this.#cancelRetry();
    this.#pump();
  }

  /** Stop: abort the upload in flight, clear the timer, forget the queue. */
  close() {
    this.#closed = true;
    this.#cancelRetry();
    const flight = this.#flight;
    this.#flight = null;
    if (flight) {
      this.#clearTimeout(flight.timer);
      flight.controller.abort();
    }
    this.#queue = [];
  }

  #pump() {
    if (this.#closed || this.#paused || this.#flight || this.#retryTimer !== null) return;
    const item = this.#queue.find((queued) => !queued.failed);
    if (item) this.#send(item);
  }

  async #send(item) {
    const controller = new AbortController();
    const flight = { item, controller, timer: this.#setTimeout(() => controller.abort(), this.#timeoutMs) };
    this.#flight = flight;
    item.attempts += 1;
    let message = null;
    let error = null;
    try {
      message = await this.#post(item.file, item.clientId, { signal: controller.signal });
    } catch (caught) {
      error = caught ?? new Error("not sent");
    }
    if (this.#flight !== flight) return; // closed meanwhile
    this.#clearTimeout(flight.timer);
    this.#flight = null;
    if (!this.#queue.includes(item)) {
      this.#pump(); // confirmed by the feed while it was on its way
      return;
    }
    if (!error && !Number.isInteger(message?.seq)) error = new Error("The server's answer had no message");
    if (!error) {
      this.#queue.splice(this.#queue.indexOf(item), 1);
      this.#emit("sent", { clientId: item.clientId, message });
    } else if (!isRetryable(error) || item.attempts >= this.#maxAttempts) {
      item.failed = true;
      const permanent = !isRetryable(error) && error.status !== 401;
      this.#emit("failed", { clientId: item.clientId, body: item.file.name, error, permanent });
    } else {
      const ms = Math.max(backoff(item.attempts, { random: this.#random }), error.retryAfterMs ?? 0);
      this.#retryTimer = this.#setTimeout(() => {
        this.#retryTimer = null;
        this.#pump();
      }, ms);
      return;
    }
    this.#pump();
  }

  #cancelRetry() {
    if (this.#retryTimer === null) return;
    this.#clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
