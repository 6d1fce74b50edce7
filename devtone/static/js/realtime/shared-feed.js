/**
 * SharedFeed: one feed for every tab of this origin (issue 17, "one stream per browser").
 *
 * The tabs that follow the same feed (the lock name: the feed's stream URL, which names the
 * page kind and, for a visitor, the conversation and its token) elect a leader with Web
 * Locks: whoever holds the lock runs the one TierNegotiator (SSE, long-poll or poll) and
 * relays everything it dispatches (entries, the feed's events, hello, denied, statechange)
 * over a BroadcastChannel of the same name. The others hold no connection: they show what
 * is relayed, so every tab's indicator shows the leader's tier.
 *
 * - Joining: a follower asks who leads (`join`); the leader answers with its state, and the
 *   follower reads once over HTTP what came after its own cursor (for the dashboard, a
 *   snapshot), holding what is relayed meanwhile, so it misses nothing of what was relayed
 *   before it listened. An entry relayed past a gap (seq > cursor + 1) is read the same way.
 * - Each tab keeps its own cursor and drops what it has already shown.
 * - Hand-over: the lock passes to a waiting tab when the leader closes, or freezes (the
 *   page's `freeze` event: it steps down, and asks again on `resume`). A leader that stops
 *   beating (a hung page: no `beat` for STALE_MS) has its lock stolen by a visible
 *   follower. The new leader starts its negotiator from its own cursor: every tab has seen
 *   the same relay, and a lower start only replays entries the others drop (a start above
 *   what this tab showed would skip them here).
 * - Closing: the lock is released and the channel closed; another tab takes over.
 *
 * Same events and getters as a TierNegotiator, so pages need no change (feedNegotiator()
 * picks one or the other). Without Web Locks or BroadcastChannel each tab keeps its own.
 */
import { TierNegotiator } from "./negotiator.js";

/** How often a leader says it is alive, and how long followers wait before they take over. */
export const BEAT_MS = 5000;
export const STALE_MS = 20000;

const PAGE_EVENTS = ["statechange", "hello", "denied"];

/** Whether this browser can share a feed across tabs. */
export function canShare({ locks = globalThis.navigator?.locks, BroadcastChannel = globalThis.BroadcastChannel } = {}) {
  return typeof locks?.request === "function" && typeof BroadcastChannel === "function";
}

/**
 * A negotiator for `options` ({negotiateUrl, feed}) shared by this origin's tabs where the
 * browser can, else the tab's own TierNegotiator. `apis` injects browser APIs (tests).
 */
export function feedNegotiator(options, apis = {}) {
  return canShare(apis) && options.feed?.at ? new SharedFeed(options, apis) : new TierNegotiator(options);
}

export class SharedFeed extends EventTarget {
  #options;
  #feed;
  #name;
  #locks;
  #BroadcastChannel;
  #fetch;
  #document;
  #setTimeout;
  #clearTimeout;
  #now;
  #createNegotiator;

  #channel = null;
  #negotiator = null; // the leader's
  #lockRequest = null; // AbortController of the lock request, until it is granted
  #lock = null; // the lock this tab holds: {request, release}
  #state = "connecting";
  #tier = "none";
  #nextRetryAt = null;
  #cursor;
  #catchingUp = null; // the catch-up read in flight; what is relayed meanwhile waits in #held
  #held = [];
  #joined = false; // a leader answered since this tab listens
  #lastHeard = 0; // when the leader last said anything
  #timer = null; // the beat (leader) or the staleness check (follower)
  #started = false;
  #closed = false;

  /** `options` as a TierNegotiator's (its feed must have `at(cursor)`); `apis` for tests. */
  constructor(
    options,
    {
      locks = globalThis.navigator?.locks,
      BroadcastChannel = globalThis.BroadcastChannel,
      fetch = (...args) => globalThis.fetch(...args),
      document = globalThis.document,
      setTimeout = (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout = (id) => globalThis.clearTimeout(id),
      now = () => Date.now(),
      createNegotiator = (negotiatorOptions) => new TierNegotiator(negotiatorOptions),
    } = {},
  ) {
    super();
    this.#options = options;
    this.#feed = options.feed;
    this.#name = `devtone.feed ${this.#feed.streamUrl ?? this.#feed.pollUrl}`;
    this.#cursor = this.#feed.cursor;
    this.#locks = locks;
    this.#BroadcastChannel = BroadcastChannel;
    this.#fetch = fetch;
    this.#document = document;
    this.#setTimeout = setTimeout;
    this.#clearTimeout = clearTimeout;
    this.#now = now;
    this.#createNegotiator = createNegotiator;
  }

  /** connecting | live | polling | offline: the leader's. */
  get state() {
    return this.#state;
  }

  /** sse | longpoll | poll | none: the leader's. */
  get tier() {
    return this.#tier;
  }

  /** The highest seq this tab has shown (the dashboard: the last etag). */
  get cursor() {
    return this.#cursor;
  }

  /** The leader's next retry, else null. */
  get nextRetryAt() {
    return this.#nextRetryAt;
  }

  /** Whether this tab holds the feed's one connection. */
  get leading() {
    return this.#negotiator !== null;
  }

  /** Listen to the other tabs, then wait for the lock; resolves at once. */
  start() {
    if (this.#started || this.#closed) return Promise.resolve();
    this.#started = true;
    this.#channel = new this.#BroadcastChannel(this.#name);
    this.#channel.onmessage = ({ data }) => this.#heard(data);
    this.#document?.addEventListener?.("freeze", this.#onFreeze);
    this.#document?.addEventListener?.("resume", this.#onResume);
    this.#post({ type: "join" });
    this.#requestLock();
    this.#tick();
    return Promise.resolve();
  }

  /** Stop for good; if this tab leads, another one takes over. */
  close() {
    if (this.#closed) return;
    this.#stepDown();
    this.#closed = true;
    this.#clearTimeout(this.#timer);
    this.#document?.removeEventListener?.("freeze", this.#onFreeze);
    this.#document?.removeEventListener?.("resume", this.#onResume);
    this.#channel?.close();
    this.#channel = null;
    this.#setState({ state: "offline", tier: "none", code: "closed", reason: "closed", nextRetryAt: null });
  }

  // ── leading ──────────────────────────────────────────────────────────────────────────

  #requestLock({ steal = false } = {}) {
    if (this.#closed || this.#lockRequest || this.#lock) return;
    const request = new AbortController();
    this.#lockRequest = request;
    const options = steal ? { steal: true } : { signal: request.signal };
    const granted = () =>
      new Promise((release) => {
        if (this.#lockRequest === request) this.#lockRequest = null;
        if (this.#closed) return release();
        this.#lock = { request, release };
        this.#lead();
      });
    this.#locks.request(this.#name, options, granted).catch((error) => {
      if (this.#lockRequest === request) this.#lockRequest = null;
      if (this.#closed) return;
      if (error?.name !== "AbortError") {
        // Refused (SecurityError: Chromium denies Web Locks to a third-party frame, the
        // widget's): this tab keeps a stream of its own, as without Web Locks.
        if (!this.#negotiator) this.#lead();
        return;
      }
      // Aborted while waiting (closed, frozen, about to steal), or stolen from us.
      if (this.#lock?.request !== request) return;
      this.#lock = null;
      this.#stepDown(); // stolen: follow the tab that took it, and wait for our turn again
      this.#requestLock();
    });
  }

  #lead() {
    this.#held = [];
    this.#catchingUp = null;
    const negotiator = this.#createNegotiator({ ...this.#options, feed: this.#feed.at(this.#cursor) });
    this.#negotiator = negotiator;
    const relay = (type) =>
      negotiator.addEventListener(type, ({ detail }) => {
        if (this.#negotiator !== negotiator) return;
        this.#post({ type: "event", event: type, detail });
        if (type === "statechange") this.#setState(detail);
        else this.#accept(type, detail); // what this tab showed as a follower is dropped here too
      });
    for (const type of new Set([...PAGE_EVENTS, this.#feed.entryEvent, ...this.#feed.events])) {
      if (type) relay(type);
    }
    this.#post({ type: "beat" });
    negotiator.start();
  }

  /** Give up the connection and the lock (closing, frozen, or the lock was stolen). */
  #stepDown() {
    this.#joined = false; // following again: the next leader's first word brings a catch-up read
    const negotiator = this.#negotiator;
    this.#negotiator = null;
    negotiator?.close();
    this.#lock?.release();
    this.#lock = null;
    this.#lockRequest?.abort();
    this.#lockRequest = null;
  }

  /**
   * The one timer, every BEAT_MS: a leader says it is alive; a follower in view takes over
   * from a leader it has heard before and that went silent (a hung page keeps its lock).
   */
  #tick() {
    this.#clearTimeout(this.#timer);
    if (this.#closed) return;
    if (this.#negotiator) {
      this.#post({ type: "beat" });
    } else if (this.#joined && this.#now() - this.#lastHeard > STALE_MS && this.#document?.visibilityState !== "hidden") {
      this.#joined = false;
      this.#lockRequest?.abort();
      this.#lockRequest = null;
      this.#requestLock({ steal: true });
    }
    this.#timer = this.#setTimeout(() => this.#tick(), BEAT_MS);
  }

  #onFreeze = () => {
    // A frozen page keeps its lock but runs nothing: let another tab lead meanwhile.
    this.#stepDown();
  };

  #onResume = () => {
    if (this.#closed) return;
    this.#post({ type: "join" });
    this.#requestLock();
  };

  // ── following ────────────────────────────────────────────────────────────────────────

  #heard(data) {
    if (this.#closed || !data) return;
    if (data.type === "join") {
      if (this.#negotiator) this.#post({ type: "state", detail: this.#stateDetail() });
      return;
    }
    if (this.#negotiator) return; // a leader listens to nobody else
    this.#lastHeard = this.#now();
    if (!this.#joined) {
      // The first word of a leader since this tab listens: read what was relayed before.
      this.#joined = true;
      this.#catchUp();
    }
    if (data.type === "state" || data.event === "statechange") this.#setState(data.detail);
    else if (data.type === "event") this.#relayed(data.event, data.detail);
  }

  /** Something the leader relayed: shown now, or after the catch-up read in flight. */
  #relayed(type, detail, trustGaps = false) {
    if (this.#catchingUp) {
      this.#held.push([type, detail]);
      return;
    }
    const seq = detail?.seq;
    const gap = type === this.#feed.entryEvent && Number.isInteger(seq) && seq > Number(this.#cursor) + 1;
    if (gap && !trustGaps) {
      this.#held.push([type, detail]);
      this.#catchUp();
      return;
    }
    if (type === "denied") this.close();
    this.#accept(type, detail);
  }

  /** Read once over HTTP what came after this tab's cursor; then what was held, in order. */
  #catchUp() {
    if (this.#catchingUp || !this.#feed.pollUrl) return;
    const reading = this.#read().catch(() => {}); // the relay goes on; a gap asks again
    this.#catchingUp = reading;
    reading.then(() => {
      if (this.#catchingUp !== reading) return; // became the leader meanwhile
      this.#catchingUp = null;
      const held = this.#held;
      this.#held = [];
      for (const [type, detail] of held) this.#relayed(type, detail, true);
    });
  }

  async #read() {
    const limit = 100;
    for (let pages = 0; pages < 50; pages += 1) {
      const url = this.#feed.pollUrlAt(this.#cursor, { waitS: 0, limit, first: true });
      const response = await this.#fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (!response.ok || this.#negotiator || this.#closed) return;
      const answer = this.#feed.read(await response.json(), { cursor: this.#cursor, limit });
      if (answer.failure || this.#negotiator || this.#closed) return;
      for (const entry of answer.entries) this.#accept(this.#feed.entryEvent, entry);
      for (const [type, detail] of answer.events) this.#accept(type, detail);
      if (!answer.full) return;
    }
  }

  /** Show `detail` unless this tab has shown it already (the feed's rule). */
  #accept(type, detail) {
    const cursor = this.#feed.accept(this.#cursor, type, detail);
    if (cursor === null) return;
    this.#show(type, detail, cursor);
  }

  #show(type, detail, cursor) {
    this.#cursor = cursor;
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  // ── state ────────────────────────────────────────────────────────────────────────────

  #stateDetail() {
    return { state: this.#state, tier: this.#tier, nextRetryAt: this.#nextRetryAt, code: "relay", reason: "leader" };
  }

  /** The one state setter: the leader's own, or what it relayed (marked `relayed`). */
  #setState({ state, tier, code, reason, nextRetryAt = null }) {
    const previous = { state: this.#state, tier: this.#tier };
    if (state === previous.state && tier === previous.tier && nextRetryAt === this.#nextRetryAt) return;
    this.#state = state;
    this.#tier = tier;
    this.#nextRetryAt = nextRetryAt;
    const relayed = !this.#negotiator;
    const detail = { state, tier, previous, code, reason, nextRetryAt, relayed };
    this.dispatchEvent(new CustomEvent("statechange", { detail }));
  }

  #post(message) {
    try {
      this.#channel?.postMessage(message);
    } catch {
      // A detail that cannot be cloned is not worth breaking the leader's page for.
    }
  }
}
