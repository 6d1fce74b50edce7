/**
 * TierNegotiator: picks how a conversation's entries reach the page and keeps it working.
 *
 * One state machine (connecting | live | polling | offline), one state setter (#setState),
 * one owner of timers (#schedule / #clearTimers). Browser APIs are injected so it runs in
 * Node tests without a DOM. Events: `statechange` (detail {state, tier, previous, reason,
 * nextRetryAt}), `message` (detail = one new entry, in seq order), `hello` (detail = the
 * server's hello data: time, tier, cursor, heartbeat).
 */
import { backoff } from "./backoff.js";
import { SseTransport } from "./transports.js";

/** Timings used until the server's negotiate answer arrives (same as the server's defaults). */
export const DEFAULT_TIMINGS = Object.freeze({
  hello_timeout_ms: 10000,
  heartbeat_ms: 15000,
  watchdog_heartbeats: 2.5,
  longpoll_wait_s: 25,
  poll_interval_ms: 30000,
  backoff: Object.freeze({ initial_ms: 1000, max_ms: 30000, jitter: 0.2 }),
});

// Tiers in order of preference. Long-poll and poll slot in after SSE as more entries here;
// the negotiator walks down the list when a tier fails and climbs back to the first one.
const TIERS = [
  {
    tier: "sse",
    label: "SSE",
    create: ({ streamUrl, EventSource }) => new SseTransport({ url: streamUrl, EventSource }),
  },
];

/** Merge the server's timings over the defaults, keeping a default for anything unusable. */
export function mergeTimings(server = {}) {
  const pick = (value, fallback) => (Number.isFinite(value) && value >= 0 ? value : fallback);
  const timings = {};
  for (const [key, fallback] of Object.entries(DEFAULT_TIMINGS)) {
    if (key !== "backoff") timings[key] = pick(server?.[key], fallback);
  }
  timings.backoff = {};
  for (const [key, fallback] of Object.entries(DEFAULT_TIMINGS.backoff)) {
    timings.backoff[key] = pick(server?.backoff?.[key], fallback);
  }
  return timings;
}

/** Chooses a tier, delivers each new entry once and in order, and reconnects with backoff. */
export class TierNegotiator extends EventTarget {
  #negotiateUrl;
  #streamUrl;
  #fetch;
  #EventSource;
  #window;
  #document;
  #setTimeout;
  #clearTimeout;
  #logger;
  #now;
  #random;

  #state = "connecting";
  #tier = "none";
  #nextRetryAt = null;
  #cursor;
  #timings = mergeTimings();
  #tiers = []; // the TIERS entries the server allows, in order
  #tierIndex = -1; // index in #tiers of the running transport
  #transport = null;
  #attempt = 0; // retries since the last hello
  #generation = 0; // bumped on every (re)connect and on close; stale async results compare it
  #abort = null; // AbortController of the negotiate request in flight
  #timers = new Set();
  #watchdog = null;
  #lastEventAt = 0;
  #listeners = []; // [target, type, handler] to remove on close()
  #started = false;
  #closed = false;

  /** Options are the URLs, the starting cursor and injectable browser APIs (for tests). */
  constructor({
    negotiateUrl,
    streamUrl,
    cursor = 0,
    fetch = (...args) => globalThis.fetch(...args),
    EventSource = globalThis.EventSource,
    window = globalThis,
    document = globalThis.document,
    setTimeout = (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout = (id) => globalThis.clearTimeout(id),
    logger = globalThis.console,
    now = () => Date.now(),
    random = Math.random,
  } = {}) {
    super();
    if (!negotiateUrl || !streamUrl) throw new TypeError("negotiateUrl and streamUrl are required");
    this.#negotiateUrl = negotiateUrl;
    this.#streamUrl = streamUrl;
    this.#cursor = Number.isInteger(cursor) && cursor > 0 ? cursor : 0;
    this.#fetch = fetch;
    this.#EventSource = EventSource;
    this.#window = window;
    this.#document = document;
    this.#setTimeout = setTimeout;
    this.#clearTimeout = clearTimeout;
    this.#logger = logger;
    this.#now = now;
    this.#random = random;
  }

  /** connecting | live | polling | offline */
  get state() {
    return this.#state;
  }

  /** sse | longpoll | poll | none */
  get tier() {
    return this.#tier;
  }

  /** Highest seq delivered so far; entries at or below it are dropped. */
  get cursor() {
    return this.#cursor;
  }

  /** Epoch ms of the next scheduled retry while offline, else null. */
  get nextRetryAt() {
    return this.#nextRetryAt;
  }

  /** Negotiate, then open the best tier; resolves when the first attempt has been made. */
  start() {
    if (this.#started || this.#closed) return Promise.resolve();
    this.#started = true;
    this.#listen(this.#window, "online", () => this.#wake("browser online"));
    this.#listen(this.#window, "pageshow", (event) =>
      // Back from the back/forward cache: the old stream is gone even if it looks live.
      this.#wake("page shown", Boolean(event?.persisted)),
    );
    this.#listen(this.#document, "visibilitychange", () => {
      if (this.#document?.visibilityState === "visible") this.#wake("tab visible");
    });
    return this.#connect("start");
  }

  /** Stop for good: every timer, listener, request and stream. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#generation += 1;
    this.#clearTimers();
    this.#stopTransport();
    this.#abortNegotiate();
    for (const [target, type, handler] of this.#listeners) target.removeEventListener(type, handler);
    this.#listeners = [];
    this.#setState("offline", "none", "closed");
  }

  // ── state ────────────────────────────────────────────────────────────────────────────

  #setState(state, tier, reason, nextRetryAt = null) {
    if (state === this.#state && tier === this.#tier) return;
    const previous = { state: this.#state, tier: this.#tier };
    this.#clearTimers(); // every transition starts from zero timers
    this.#state = state;
    this.#tier = tier;
    this.#nextRetryAt = nextRetryAt;
    this.dispatchEvent(
      new CustomEvent("statechange", { detail: { state, tier, previous, reason, nextRetryAt } }),
    );
  }

  // ── timers: the only place that calls setTimeout / clearTimeout ───────────────────────

  #schedule(fn, ms) {
    const id = this.#setTimeout(() => {
      this.#timers.delete(id);
      fn();
    }, ms);
    this.#timers.add(id);
    return id;
  }

  #cancel(id) {
    if (id === null || !this.#timers.has(id)) return;
    this.#timers.delete(id);
    this.#clearTimeout(id);
  }

  #clearTimers() {
    for (const id of this.#timers) this.#clearTimeout(id);
    this.#timers.clear();
    this.#watchdog = null;
  }

  // ── connecting ───────────────────────────────────────────────────────────────────────

  async #connect(reason) {
    if (this.#closed) return;
    const generation = ++this.#generation;
    this.#stopTransport();
    this.#abortNegotiate();
    this.#setState("connecting", "none", reason);
    this.#clearTimers(); // also when we were already connecting (a wake-up during negotiate)
    // A negotiate request that never answers must not leave us "connecting" forever.
    this.#schedule(() => {
      this.#abortNegotiate();
      this.#retryLater("negotiate timeout");
    }, this.#timings.hello_timeout_ms);

    let allowed;
    try {
      ({ allowed, timings: this.#timings } = await this.#negotiate());
    } catch (error) {
      if (generation !== this.#generation) return; // closed or superseded meanwhile
      this.#retryLater(`negotiate failed: ${error?.message ?? error}`);
      return;
    }
    if (generation !== this.#generation) return;

    this.#tiers = TIERS.filter(({ tier }) => allowed.includes(tier));
    if (this.#tiers.length === 0) {
      this.#retryLater("no tier allowed");
      return;
    }
    this.#openTier(0, reason);
  }

  async #negotiate() {
    const controller = typeof AbortController === "function" ? new AbortController() : null;
    this.#abort = controller;
    try {
      const response = await this.#fetch(this.#negotiateUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: controller?.signal,
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = await response.json();
      if (!Array.isArray(body?.tiers)) throw new Error("no tiers in negotiate response");
      return { allowed: body.tiers, timings: mergeTimings(body.timings) };
    } finally {
      if (this.#abort === controller) this.#abort = null;
    }
  }

  #abortNegotiate() {
    const controller = this.#abort;
    this.#abort = null;
    controller?.abort();
  }

  #openTier(index, reason) {
    const { tier, create } = this.#tiers[index];
    const transport = create({ streamUrl: this.#streamUrl, EventSource: this.#EventSource });
    const generation = this.#generation;
    // Callbacks from a transport we have since replaced are ignored.
    const live = () => generation === this.#generation && transport === this.#transport;
    transport.onhello = (data) => live() && this.#onHello(data);
    transport.onentry = (message) => live() && this.#onEntry(message);
    transport.onping = () => live() && this.#onActivity();
    transport.onerror = (why) => live() && this.#onTransportError(why);
    transport.onclosed = (why) => live() && this.#tierFailed(`${this.#label()} ${why}`);
    this.#transport = transport;
    this.#tierIndex = index;

    this.#setState("connecting", tier, reason);
    this.#armHelloTimeout();
    transport.start(this.#cursor);
  }

  #armHelloTimeout() {
    this.#clearTimers();
    // A buffering proxy accepts the connection and then delivers nothing: hello proves bytes flow.
    this.#schedule(() => this.#tierFailed(`${this.#label()} timeout`), this.#timings.hello_timeout_ms);
  }

  // ── transport callbacks ──────────────────────────────────────────────────────────────

  #onHello(data) {
    this.#attempt = 0; // only hello proves the tier works; an open socket proves nothing
    this.#setState("live", this.#tier, "hello");
    this.#onActivity();
    this.dispatchEvent(new CustomEvent("hello", { detail: data }));
  }

  #onEntry(message) {
    this.#onActivity();
    const seq = message?.seq;
    if (!Number.isInteger(seq) || seq <= this.#cursor) return; // already delivered
    // seq > cursor + 1 would be a gap; the server reads gaps from the database before
    // sending, so we trust its order and simply move on.
    this.#cursor = seq;
    this.dispatchEvent(new CustomEvent("message", { detail: message }));
  }

  #onActivity() {
    this.#lastEventAt = this.#now();
    if (this.#state !== "live") return;
    this.#cancel(this.#watchdog);
    // Heartbeats are named events, so silence for this long means a dead stream.
    this.#watchdog = this.#schedule(() => {
      this.#watchdog = null;
      this.#tierFailed(`${this.#label()} stream silent for ${this.#watchdogMs()}ms`);
    }, this.#watchdogMs());
  }

  #onTransportError(why) {
    // The browser is reconnecting by itself; it is live again only when hello comes back.
    if (this.#state !== "live") return;
    this.#setState("connecting", this.#tier, why);
    this.#armHelloTimeout();
  }

  // ── failing and retrying ─────────────────────────────────────────────────────────────

  #tierFailed(reason) {
    const next = this.#tiers[this.#tierIndex + 1];
    this.#logger?.info?.(next ? `${reason}, falling back to ${next.label}` : reason);
    this.#stopTransport();
    if (next) this.#openTier(this.#tierIndex + 1, reason);
    else this.#retryLater(reason);
  }

  #retryLater(reason) {
    this.#stopTransport();
    this.#abortNegotiate();
    this.#generation += 1; // late answers from what just failed are ignored
    this.#attempt += 1;
    const { initial_ms, max_ms, jitter } = this.#timings.backoff;
    const ms = backoff(this.#attempt, {
      initialMs: initial_ms,
      maxMs: max_ms,
      jitter,
      random: this.#random,
    });
    this.#logger?.info?.(`Retrying connection in ${ms}ms (attempt ${this.#attempt})`);
    this.#setState("offline", "none", reason, this.#now() + ms);
    this.#clearTimers();
    this.#schedule(() => this.#connect("retry"), ms);
  }

  #wake(reason, force = false) {
    if (this.#closed) return;
    if (this.#state === "offline") {
      this.#connect(reason);
    } else if (this.#state === "live" && (force || this.#now() - this.#lastEventAt > this.#watchdogMs())) {
      // Timers are throttled in background tabs and stop during sleep, so the watchdog
      // may not have fired yet although the stream is long dead.
      this.#connect(reason);
    }
  }

  // ── helpers ──────────────────────────────────────────────────────────────────────────

  #stopTransport() {
    const transport = this.#transport;
    this.#transport = null;
    transport?.stop();
  }

  #watchdogMs() {
    return this.#timings.heartbeat_ms * this.#timings.watchdog_heartbeats;
  }

  #label() {
    return this.#tiers[this.#tierIndex]?.label ?? this.#tier;
  }

  #listen(target, type, handler) {
    if (!target?.addEventListener) return;
    target.addEventListener(type, handler);
    this.#listeners.push([target, type, handler]);
  }
}
