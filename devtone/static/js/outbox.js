/**
 * Outbox: the visitor's messages on their way to the server, sent one at a time in the
 * order they were typed.
 *
 * Each message gets a client_id once and keeps it through every retry and across a
 * reload, so the server (idempotent on client_id) stores it at most once. Network
 * failures and 5xx are retried with backoff; after `maxAttempts` the message, and every
 * one queued behind it, is marked failed until the visitor retries (or types another
 * message). A 429 (too many messages for now) is no failure: nothing is sent before its
 * Retry-After (or the backoff, if longer), and it is retried until it goes through. A 401
 * (the sender's sign-in ended) refuses no message: the queue stays stored and paused, and
 * is sent after the next sign-in. Another refusal (4xx: 413, 422, a closed conversation)
 * takes that one message out of the queue, failed, so the rest go on. A failed message
 * stays, marked, until its writer retries (`retry`) or discards it (`drop`). While the
 * connection is down (`pause()`) nothing is sent; `resume()` sends the queue at once, in
 * order.
 * The unsent queue, failed messages included, lives in storage under
 * `devtone.outbox.<conversationId>` (an agent's under its own prefix, so a visitor and an
 * agent in one browser never share a queue): a reload shows them again, failed ones as
 * failed. Tabs of one conversation share that key: each writes back only its own messages
 * and keeps the others' (a tab that loads takes up every message stored), so a message
 * typed in one tab is never lost because another tab saved after it.
 *
 * Never touches the DOM: it reports through events, each detail carrying the clientId:
 * - `pending` {clientId, body, createdAt, kind?}: show it as "sending" (again); `kind`
 *   "note" for an agent's private note (sent with it);
 * - `sent` {clientId, message}: the POST answer, with the stored message and its seq;
 * - `failed` {clientId, body, error, permanent}: not sent; `permanent` when the server
 *   refused it (the error's status says why: 409 closed, 403/404 no longer yours…); a 401
 *   is not permanent: the message waits, stored, for the next sign-in. `error` is null for
 *   a message that had failed before the page was loaded (its `pending` comes first).
 */
import { backoff } from "./realtime/retries.js";

/** Storage key prefix; the conversation id follows. */
export const OUTBOX_KEY_PREFIX = "devtone.outbox.";
/** Storage key prefix of an agent's replies on the dashboard. */
export const AGENT_OUTBOX_KEY_PREFIX = "devtone.agent-outbox.";

/** Whether a failed POST may be sent again as it is (no answer, 5xx, 408, 429). */
export function isRetryable(error) {
  const status = error?.status;
  if (!Number.isInteger(status) || status === 0) return true; // no answer, timeout, abort
  return status >= 500 || status === 408 || status === 429;
}

/** The visitor's unsent messages for one conversation, in typed order. */
export class Outbox extends EventTarget {
  #key;
  #post;
  #storage;
  #newClientId;
  #setTimeout;
  #clearTimeout;
  #random;
  #now;
  #maxAttempts;
  #timeoutMs;

  #queue = []; // [{clientId, body, createdAt, attempts, failed}], typed order
  #refused = new Map(); // clientId → item the server refused, kept so "retry" can resend it
  #known = new Set(); // every clientId this tab has held: what it no longer holds is settled
  #flight = null; // {item, controller, timer}: the one POST in flight
  #retryTimer = null;
  #holdUntil = 0; // epoch ms: a 429's Retry-After, before which nothing is sent
  #paused = false;
  #started = false;
  #closed = false;

  /**
   * `post(body, clientId, {signal})` resolves to the stored message or rejects with an
   * error carrying `status` (0 or none = no answer). `keyPrefix` names the stored queue.
   * Storage, ids, timers and randomness are injectable for tests.
   */
  constructor({
    conversationId,
    post,
    keyPrefix = OUTBOX_KEY_PREFIX,
    newClientId,
    storage = defaultStorage(),
    setTimeout = (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout = (id) => globalThis.clearTimeout(id),
    random = Math.random,
    now = () => Date.now(),
    maxAttempts = 5,
    timeoutMs = 15000,
  } = {}) {
    super();
    if (conversationId == null || typeof post !== "function" || typeof newClientId !== "function") {
      throw new TypeError("Outbox needs a conversationId, post() and newClientId()");
    }
    this.#key = `${keyPrefix}${conversationId}`;
    this.#post = post;
    this.#storage = storage;
    this.#newClientId = newClientId;
    this.#setTimeout = setTimeout;
    this.#clearTimeout = clearTimeout;
    this.#random = random;
    this.#now = now;
    this.#maxAttempts = Math.max(1, maxAttempts);
    this.#timeoutMs = timeoutMs;
    this.#queue = this.#load();
  }

  /** The storage key of this conversation's unsent messages. */
  get key() {
    return this.#key;
  }

  /** Unsent messages in order: {clientId, body, createdAt, state: "sending"|"failed"}. */
  get items() {
    return this.#queue.map(({ clientId, body, createdAt, failed }) => ({
      clientId,
      body,
      createdAt,
      state: failed ? "failed" : "sending",
    }));
  }

  /** Whether sending waits for the connection to come back. */
  get paused() {
    return this.#paused;
  }

  /** Show what a previous page left unsent (a `pending` each, then `failed` for those that
   *  had failed) and start sending. */
  start() {
    if (this.#started || this.#closed) return;
    this.#started = true;
    for (const item of [...this.#queue, ...this.#refused.values()]) {
      this.#announce(item);
      if (item.failed) this.#emit("failed", { clientId: item.clientId, body: item.body, error: null, permanent: item.refused });
    }
    this.#pump();
  }

  /**
   * Queue a new message (`kind` "note": an agent's private note); returns its client_id.
   * Failed messages before it are retried too.
   */
  add(body, kind = "text") {
    if (this.#closed) return null;
    this.#unfail(); // typing again is a retry: the order must hold, so all go together
    const item = { clientId: this.#newClientId(), body, createdAt: new Date(this.#now()).toISOString() };
    if (kind === "note") item.kind = "note";
    Object.assign(item, { attempts: 0, failed: false, refused: false });
    this.#known.add(item.clientId);
    this.#queue.push(item);
    this.#save();
    this.#announce(item);
    this.#pump();
    return item.clientId;
  }

  /** Send a failed message again with its client_id; false if there is no such message. */
  retry(clientId) {
    if (this.#closed) return false;
    const refused = this.#refused.get(clientId);
    if (refused) {
      // Refused messages left the queue; a retry puts it back at the end.
      this.#refused.delete(clientId);
      Object.assign(refused, { attempts: 0, failed: false, refused: false });
      this.#queue.push(refused);
      this.#save();
      this.#announce(refused);
    } else if (this.#queue.some((item) => item.clientId === clientId)) {
      this.#unfail();
      this.#cancelRetry(); // the visitor asked: no more waiting
    } else {
      return false;
    }
    this.#pump();
    return true;
  }

  /** Forget a failed message: its writer discarded it. False if there is no such message. */
  drop(clientId) {
    if (this.#refused.delete(clientId)) {
      this.#save();
      return true;
    }
    const index = this.#queue.findIndex((item) => item.clientId === clientId && item.failed);
    if (index === -1) return false;
    this.#queue.splice(index, 1);
    this.#save();
    this.#pump();
    return true;
  }

  /** A stored message seen anywhere (stream, history): its queued copy is done. */
  confirm(message) {
    const clientId = message?.client_id;
    if (!clientId || !Number.isInteger(message?.seq)) return false;
    if (this.#refused.delete(clientId)) this.#save(); // stored after all (another tab sent it)
    const index = this.#queue.findIndex((item) => item.clientId === clientId);
    if (index === -1) return false;
    this.#queue.splice(index, 1);
    this.#save();
    // A POST for it may still be in flight; its answer is ignored and then the next goes.
    if (index === 0) this.#cancelRetry();
    this.#pump();
    return true;
  }

  /** The connection is down: send nothing until resume(). */
  pause() {
    this.#paused = true;
    this.#cancelRetry();
  }

  /** The connection is back (or the browser says online): send the queue now, in order. */
  resume() {
    if (this.#closed) return;
    this.#paused = false;
    this.#cancelRetry();
    this.#pump();
  }

  /** Stop sending: abort the POST in flight and clear the timer. The queue stays stored. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelRetry();
    const flight = this.#flight;
    this.#flight = null;
    if (flight) {
      this.#clearTimeout(flight.timer);
      flight.controller.abort();
    }
  }

  /** Close and forget the stored queue, every tab's (the conversation is over or no
   *  longer ours). */
  discard() {
    this.close();
    this.#queue = [];
    this.#refused.clear();
    try {
      this.#storage?.removeItem(this.#key);
    } catch {
      // Storage that throws holds nothing to forget.
    }
  }

  // ── sending ──────────────────────────────────────────────────────────────────────────

  #pump() {
    if (!this.#started || this.#closed || this.#paused || this.#flight || this.#retryTimer !== null) return;
    const item = this.#queue[0];
    if (!item || item.failed) return; // a failed head holds the rest back, to keep the order
    const holdMs = this.#holdUntil - this.#now();
    if (holdMs > 0) {
      this.#later(holdMs); // resume(), retry() or a new message must not cut a 429's wait short
      return;
    }
    this.#send(item);
  }

  async #send(item) {
    const controller = new AbortController();
    const flight = { item, controller, timer: null };
    // A POST that never answers must not hold the queue forever.
    flight.timer = this.#setTimeout(() => controller.abort(), this.#timeoutMs);
    this.#flight = flight;
    item.attempts += 1;

    let message = null;
    let error = null;
    try {
      message = await this.#post(item.body, item.clientId, { signal: controller.signal, kind: item.kind ?? "text" });
    } catch (caught) {
      error = caught ?? new Error("not sent");
    }
    if (this.#flight !== flight) return; // closed meanwhile
    this.#clearTimeout(flight.timer);
    this.#flight = null;

    if (!this.#queue.includes(item)) {
      this.#pump(); // confirmed by the stream while the POST was out
      return;
    }
    if (!error && !Number.isInteger(message?.seq)) error = new Error("The server's answer had no message");
    if (!error) {
      this.#queue.splice(this.#queue.indexOf(item), 1);
      this.#save();
      this.#emit("sent", { clientId: item.clientId, message });
    } else if (error.status === 401) {
      // The sender is signed out, the message is not refused: it stays first in the queue
      // (and in storage), nothing more is sent, and it goes after the next sign-in.
      this.#paused = true;
      this.#emit("failed", { clientId: item.clientId, body: item.body, error, permanent: false });
      return;
    } else if (!isRetryable(error)) {
      this.#queue.splice(this.#queue.indexOf(item), 1);
      Object.assign(item, { failed: true, refused: true });
      this.#refused.set(item.clientId, item);
      this.#save();
      this.#emit("failed", { clientId: item.clientId, body: item.body, error, permanent: true });
    } else if (item.attempts >= this.#maxAttempts && error.status !== 429) {
      for (const queued of this.#queue) queued.failed = true;
      this.#save();
      for (const queued of this.#queue) {
        this.#emit("failed", { clientId: queued.clientId, body: queued.body, error, permanent: false });
      }
      return;
    } else {
      const ms = Math.max(backoff(item.attempts, { random: this.#random }), error.retryAfterMs ?? 0);
      if (error.status === 429) this.#holdUntil = this.#now() + ms;
      this.#later(ms);
      return;
    }
    this.#pump();
  }

  /** Pump again after `ms` (the one retry timer). */
  #later(ms) {
    this.#retryTimer = this.#setTimeout(() => {
      this.#retryTimer = null;
      this.#pump();
    }, ms);
  }

  #unfail() {
    let unfailed = false;
    for (const item of this.#queue) {
      if (!item.failed) continue;
      Object.assign(item, { failed: false, attempts: 0 });
      this.#announce(item);
      unfailed = true;
    }
    if (unfailed) this.#save();
  }

  #cancelRetry() {
    if (this.#retryTimer === null) return;
    this.#clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  #announce({ clientId, body, createdAt, kind }) {
    this.#emit("pending", { clientId, body, createdAt, ...(kind ? { kind } : {}) });
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  // ── storage: wrapped, because it throws in some private modes and when full ──────────

  #load() {
    const items = this.#stored().map((entry) => ({
      clientId: entry.client_id,
      body: entry.body,
      createdAt: entry.created_at ?? null,
      attempts: 0,
      failed: entry.failed === true || entry.refused === true,
      refused: entry.refused === true,
      ...(entry.kind === "note" ? { kind: "note" } : {}),
    }));
    for (const item of items) this.#known.add(item.clientId);
    // Refused messages wait apart (the rest went on without them); the others, in order.
    for (const item of items) if (item.refused) this.#refused.set(item.clientId, item);
    return items.filter((item) => !item.refused);
  }

  /** What storage holds for this conversation, every tab's, as stored; [] if unreadable. */
  #stored() {
    try {
      const stored = JSON.parse(this.#storage?.getItem(this.#key) ?? "[]");
      if (!Array.isArray(stored)) return [];
      return stored.filter((entry) => typeof entry?.client_id === "string" && typeof entry?.body === "string");
    } catch {
      return [];
    }
  }

  #save() {
    const mine = [...this.#queue, ...this.#refused.values()].map(({ clientId, body, createdAt, failed, refused, kind }) => ({
      client_id: clientId,
      body,
      created_at: createdAt,
      ...(kind ? { kind } : {}),
      ...(failed ? { failed: true } : {}),
      ...(refused ? { refused: true } : {}),
    }));
    // Another tab's messages stay as it stored them; ours are replaced, or gone if settled.
    const others = this.#stored().filter((entry) => !this.#known.has(entry.client_id));
    const stored = sortedByTime([...others, ...mine]);
    try {
      if (stored.length === 0) this.#storage?.removeItem(this.#key);
      else this.#storage?.setItem(this.#key, JSON.stringify(stored));
    } catch {
      // Without storage the queue still works; it just will not survive a reload.
    }
  }
}

/** Stored messages in the order they were typed (a stable sort; ISO times compare as text). */
function sortedByTime(entries) {
  return entries
    .map((entry, index) => [entry.created_at ?? "", index, entry])
    .sort(([a, i], [b, j]) => (a < b ? -1 : a > b ? 1 : i - j))
    .map(([, , entry]) => entry);
}

function defaultStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // reading localStorage itself throws when storage is blocked
  }
}
