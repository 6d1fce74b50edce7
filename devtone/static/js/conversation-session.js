/**
 * ConversationSession: one conversation as a page follows it, the same for the visitor's
 * chat (chat.js, also inside the widget) and an agent's open transcript (dashboard.js).
 *
 * It owns the wiring, in the order that loses nothing: the outbox first (what a previous
 * page left unsent shows at once and is sent again with the same client_id), then the
 * history page by page, then the live feed on a TierNegotiator (with tier reports) from the
 * cursor the page reached, shared with the browser's other tabs on the same conversation
 * where it can (shared-feed.js). The outbox pauses while no tier delivers and resumes when one
 * does. Every entry, from any of them, confirms the outbox's copy before the page sees it.
 *
 * The page says what to do with what arrives, through `handlers` (each optional):
 *   entry(message, {live})   one log entry: from the history, the feed (live) or a POST answer
 *   conversation(json)       the conversation's state: with each history page and feed answer
 *   typing(detail)           the other side is (or stopped) typing
 *   hello(detail)            a tier proved itself
 *   state(detail)            the negotiator's statechange (for the indicator)
 *   denied(error)            the token or session no longer opens the conversation
 *   pending({clientId, body}), failed({clientId, error, permanent})   the outbox's news
 * No DOM here: the page renders.
 */
import { newClientId } from "./api.js";
import { OUTBOX_KEY_PREFIX, Outbox } from "./outbox.js";
import { ConversationFeed } from "./realtime/feeds.js";
import { feedNegotiator } from "./realtime/shared-feed.js";
import { reportTierChanges } from "./realtime/tier-report.js";

/** Entries read per history request. */
export const HISTORY_PAGE = 200;
/** States in which the server is reachable: the outbox sends only then. */
const DELIVERING = new Set(["live", "polling"]);

export class ConversationSession {
  #api;
  #id;
  #base;
  #negotiateUrl;
  #token;
  #handlers;
  #outbox;
  #negotiator = null;
  #createNegotiator;
  #reportTiers;
  #closed = false;

  /**
   * `api` is the page's ApiClient; `base` the API's URL prefix; `token` the visitor's (the
   * stream and long-poll URLs carry it, as EventSource cannot send headers), none for an
   * agent's cookie session. `outboxKeyPrefix` names where unsent messages are kept.
   */
  constructor({
    api,
    conversationId,
    base = "/api",
    negotiateUrl = "/api/realtime/negotiate",
    token = null,
    outboxKeyPrefix = OUTBOX_KEY_PREFIX,
    handlers = {},
    storage,
    createNegotiator = (options) => feedNegotiator(options), // shared by this browser's tabs
    locks = globalThis.navigator?.locks,
    reportTiers = reportTierChanges,
  }) {
    this.#api = api;
    this.#id = String(conversationId);
    this.#base = base.replace(/\/+$/, "");
    this.#negotiateUrl = negotiateUrl;
    this.#token = token;
    this.#handlers = handlers;
    this.#createNegotiator = createNegotiator;
    this.#reportTiers = reportTiers;
    this.#outbox = new Outbox({
      conversationId,
      keyPrefix: outboxKeyPrefix,
      newClientId,
      ...(storage ? { storage } : {}),
      post: async (body, clientId, { signal, kind }) => {
        // The outbox retries, one message at a time: the request itself never does. Tabs of
        // one conversation take turns (a Web Lock, granted in the order asked), so messages
        // typed in several tabs are sent one at a time, in the order they were sent off.
        const send = () => api.postMessage(conversationId, body, clientId, { retry: false, signal, kind });
        const answer = await inTurn(locks, `devtone.outbox ${outboxKeyPrefix}${conversationId}`, signal, send);
        return answer?.message;
      },
    });
    this.#outbox.addEventListener("pending", ({ detail }) => this.#tell("pending", detail));
    this.#outbox.addEventListener("sent", ({ detail }) => this.#deliver(detail.message, false));
    this.#outbox.addEventListener("failed", ({ detail }) => this.#tell("failed", detail));
  }

  /** The conversation's id, as a string. */
  get id() {
    return this.#id;
  }

  /** Whether the outbox waits for the connection to come back. */
  get paused() {
    return this.#outbox.paused;
  }

  /**
   * Show what was left unsent and start sending it, then read the history page by page.
   * Rejects with the API's error (the page decides: forget the visitor, or connect anyway,
   * since the feed replays everything after its cursor).
   */
  async open() {
    this.#outbox.start();
    let after = 0;
    for (;;) {
      const { messages, cursor, conversation } = await this.#api.listMessages(this.#id, after, HISTORY_PAGE);
      if (this.#closed) return;
      for (const message of messages) this.#deliver(message, false);
      if (conversation) this.#tell("conversation", conversation);
      // Stop at the end, and also if a page brings nothing new (never loop forever).
      if (!messages.length || cursor <= after || cursor >= (conversation?.last_seq ?? cursor)) return;
      after = cursor;
    }
  }

  /** Follow the log live from `cursor`, the highest seq the page shows. */
  follow(cursor) {
    if (this.#closed || this.#negotiator) return;
    const url = `${this.#base}/conversations/${encodeURIComponent(this.#id)}`;
    const query = this.#token ? `?token=${encodeURIComponent(this.#token)}` : "";
    const feed = new ConversationFeed({
      streamUrl: `${url}/events${query}`,
      messagesUrl: `${url}/messages${query}`,
      cursor,
    });
    const negotiator = this.#createNegotiator({ negotiateUrl: this.#negotiateUrl, feed });
    this.#reportTiers(negotiator, { url: `${this.#base}/realtime/report`, kind: "conversation" });
    negotiator.addEventListener("statechange", ({ detail }) => this.#stateChanged(detail));
    negotiator.addEventListener("message", ({ detail }) => this.#deliver(detail, true));
    for (const type of ["conversation", "typing", "hello", "denied"]) {
      negotiator.addEventListener(type, ({ detail }) => this.#tell(type, detail));
    }
    this.#negotiator = negotiator;
    negotiator.start();
  }

  /** Queue a message (`kind` "note": an agent's note): shown at once as pending, sent in
   *  order when the server answers. */
  send(body, kind = "text") {
    if (!this.#closed) this.#outbox.add(body, kind);
  }

  /** Send a failed message again, with its client_id. */
  retry(clientId) {
    if (!this.#closed) this.#outbox.retry(clientId);
  }

  /** Forget a failed message (its writer discarded it). */
  drop(clientId) {
    if (!this.#closed) this.#outbox.drop(clientId);
  }

  /** Try the outbox now (the browser came back online). */
  resume() {
    if (!this.#closed) this.#outbox.resume();
  }

  /** Stop everything; unsent messages stay stored and go when the conversation is opened again. */
  close() {
    this.#end();
    this.#outbox.close();
  }

  /** Stop everything and forget the unsent messages (the visitor left this conversation). */
  discard() {
    this.#end();
    this.#outbox.discard();
  }

  #end() {
    // The negotiator first: its last statechange (offline) still reaches the page, so no
    // indicator keeps showing the state of a conversation that was left.
    const negotiator = this.#negotiator;
    this.#negotiator = null;
    negotiator?.close();
    this.#closed = true;
  }

  #stateChanged(detail) {
    // Typed while offline: kept in order, sent in order once the server answers again.
    // Only on the way in: a statechange that merely moves the next retry time must not
    // cut a failing message's own backoff short.
    const delivering = DELIVERING.has(detail.state);
    if (delivering && !DELIVERING.has(detail.previous?.state)) this.#outbox.resume();
    else if (detail.state === "offline") this.#outbox.pause();
    this.#tell("state", detail);
  }

  #deliver(message, live) {
    if (this.#closed || !message) return;
    this.#outbox.confirm(message); // the feed or the POST answer, whichever comes first
    this.#handlers.entry?.(message, { live });
  }

  #tell(type, detail) {
    if (!this.#closed) this.#handlers[type]?.(detail);
  }
}

/** `send()` while holding the Web Lock `name` (tabs take turns), or at once without one. */
async function inTurn(locks, name, signal, send) {
  if (typeof locks?.request !== "function") return send();
  let sending = false;
  try {
    return await locks.request(name, { signal }, () => {
      sending = true;
      return send();
    });
  } catch (error) {
    if (sending || error?.name === "AbortError") throw error; // the POST's own failure, or given up
    return send(); // Web Locks refused (the widget's third-party frame): no turns to take
  }
}
