/**
 * TierNegotiator: picks how a conversation's entries reach the page and keeps it working.
 *
 * One state machine (connecting | live | polling | offline), one state setter (#setState),
 * one owner of timers (#schedule / #clearTimers). Browser APIs are injected so it runs in
 * Node tests without a DOM.
 *
 * The ladder (DESIGN.md §2): the server's allowed tiers, in the server's order (normally
 * SSE, long-poll, poll). A tier that fails hands over to the next one; the last one failing
 * means offline, retried with backoff from the top. While a lower tier delivers, the top
 * tier is probed in the background with the same backoff; the probe delivers nothing until
 * it proves itself (hello), then it replaces the lower tier. Exactly one tier delivers at
 * a time, and every tier starts from the same cursor, so nothing is shown twice.
 *
 * Events:
 * - `statechange`, detail {state, tier, previous, reason, nextRetryAt}: on every change of
 *   state or tier, and also when only nextRetryAt changes (the next retry while offline,
 *   or the next background retry of the top tier while on a lower one);
 * - `message`, detail = one new entry, in seq order, each seq once;
 * - `hello`, detail = what proved the tier (SSE: the server's hello; long-poll and poll:
 *   {tier, cursor, conversation} of the first answer);
 * - `denied`, detail {status, code, message}: the token no longer opens the conversation.
 *   The negotiator has then stopped for good (as after close()).
 */
import { backoff } from "./backoff.js";
import { TIERS, mergeTimings } from "./tiers.js";

export { DEFAULT_TIMINGS, mergeTimings } from "./tiers.js";

/** Chooses a tier, delivers each new entry once and in order, and reconnects with backoff. */
export class TierNegotiator extends EventTarget {
  #negotiateUrl;
  #streamUrl;
  #messagesUrl;
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
  #tiers = []; // the TIERS entries the server allows, in the server's order
  #tierIndex = -1; // index in #tiers of the delivering (or trying) transport
  #transport = null; // the one transport that may deliver entries
  #probe = null; // the top tier, tried in the background while a lower tier delivers
  #probeBacklog = []; // entries a probe sent before its hello, delivered only after it
  #probeTimer = null;
  #attempt = 0; // offline retries since any tier last proved itself
  #probeAttempt = 0; // background retries of the top tier since it last said hello
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
    streamUrl = null,
    messagesUrl = null,
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
    if (!negotiateUrl || !(streamUrl || messagesUrl)) {
      throw new TypeError("negotiateUrl and a streamUrl or messagesUrl are required");
    }
    this.#negotiateUrl = negotiateUrl;
    this.#streamUrl = streamUrl;
    this.#messagesUrl = messagesUrl;
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

  /** Epoch ms of the next scheduled retry (offline) or background retry (polling), else null. */
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
    this.#shutdown("closed");
  }

  // ── state ────────────────────────────────────────────────────────────────────────────

  #setState(state, tier, reason, nextRetryAt = null) {
    const previous = { state: this.#state, tier: this.#tier };
    if (state === this.#state && tier === this.#tier) {
      // Not a transition: only the announced retry time may have moved.
      if (nextRetryAt === this.#nextRetryAt) return;
    } else {
      this.#clearTimers(); // every transition starts from zero timers…
      this.#stopProbe(); // …and without a background probe, which belongs to one state
    }
    this.#state = state;
    this.#tier = tier;
    this.#nextRetryAt = nextRetryAt;
    this.dispatchEvent(
      new CustomEvent("statechange", { detail: { state, tier, previous, reason, nextRetryAt } }),
    );
  }

  #shutdown(reason) {
    if (this.#closed) return false;
    this.#closed = true;
    this.#generation += 1;
    this.#clearTimers();
    this.#stopProbe();
    this.#stopTransport();
    this.#abortNegotiate();
    for (const [target, type, handler] of this.#listeners) target.removeEventListener(type, handler);
    this.#listeners = [];
    this.#setState("offline", "none", reason);
    return true;
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
    this.#probeTimer = null;
  }

  #backoffMs(attempt) {
    const { initial_ms, max_ms, jitter } = this.#timings.backoff;
    // A fresh jitter draw for every attempt, so clients dropped together spread out.
    return backoff(attempt, { initialMs: initial_ms, maxMs: max_ms, jitter, random: this.#random });
  }

  // ── connecting ───────────────────────────────────────────────────────────────────────

  async #connect(reason) {
    if (this.#closed) return;
    const generation = ++this.#generation;
    this.#stopProbe();
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

    // The server's list and its order; names we do not know (or cannot serve) are skipped.
    const names = [...new Set(allowed)].filter((name) => Object.hasOwn(TIERS, name));
    this.#tiers = names.map((name) => TIERS[name]).filter((entry) => entry.available(this.#tierOptions()));
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
        cache: "no-store",
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

  /** What the TIERS entries need to make their transports. */
  #tierOptions() {
    return {
      streamUrl: this.#streamUrl,
      messagesUrl: this.#messagesUrl,
      EventSource: this.#EventSource,
      fetch: this.#fetch,
      setTimeout: this.#setTimeout,
      clearTimeout: this.#clearTimeout,
      now: this.#now,
      timings: this.#timings,
    };
  }

  /** A new transport for a tier, with its callbacks routed. */
  #create(entry) {
    const transport = entry.create(this.#tierOptions());
    // Callbacks are routed by who the transport is *now*: the delivering one, the probe,
    // or neither (replaced or stopped, so its late callbacks are ignored).
    const route = (onMain, onProbe) => (arg) => {
      if (this.#closed) return;
      if (transport === this.#transport) onMain(arg);
      else if (transport === this.#probe) onProbe(arg);
    };
    const label = entry.label;
    transport.onhello = route(
      (data) => this.#onHello(data),
      (data) => this.#promoteProbe(data),
    );
    transport.onentry = route(
      (message) => this.#onEntry(message),
      (message) => this.#probeBacklog.push(message), // not before hello
    );
    transport.onping = route(
      () => this.#onActivity(),
      () => {},
    );
    transport.onerror = route(
      (why) => this.#onTransportError(why),
      () => {}, // SSE reconnecting by itself; the probe's hello timeout still runs
    );
    transport.onclosed = route(
      (why) => this.#tierFailed(`${label} ${why}`),
      (why) => this.#probeFailed(`${label} ${why}`),
    );
    transport.ondenied = route(
      (error) => this.#deny(label, error),
      (error) => this.#deny(label, error),
    );
    return transport;
  }

  #openTier(index, reason) {
    const entry = this.#tiers[index];
    const transport = this.#create(entry);
    this.#transport = transport;
    this.#tierIndex = index;

    this.#setState("connecting", entry.tier, reason);
    this.#clearTimers();
    if (entry.helloTimeout) {
      // A buffering proxy accepts the connection and then delivers nothing: hello proves bytes flow.
      this.#armHelloTimeout();
    }
    try {
      transport.start(this.#cursor);
    } catch (error) {
      // e.g. EventSource refusing the URL: a failed tier like any other.
      this.#tierFailed(`${entry.label} failed: ${error?.message ?? error}`);
    }
  }

  #armHelloTimeout() {
    this.#clearTimers();
    this.#schedule(() => this.#tierFailed(`${this.#label()} timeout`), this.#timings.hello_timeout_ms);
  }

  // ── callbacks of the delivering transport ────────────────────────────────────────────

  #onHello(data) {
    const entry = this.#tiers[this.#tierIndex];
    this.#attempt = 0; // only a proof resets it; an open socket proves nothing
    if (this.#tierIndex === 0) {
      this.#probeAttempt = 0;
      this.#setState(entry.state, entry.tier, "hello");
    } else if (this.#probe) {
      this.#setState(entry.state, entry.tier, "hello"); // a probe is already on its way up
    } else {
      // Below the top tier: deliver from here, and keep trying to climb back.
      this.#scheduleProbe(entry.state, entry.tier, "hello");
    }
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

  // ── the background probe of the top tier ─────────────────────────────────────────────

  /** Enter (or stay in) `state`/`tier` with the next background retry of the top tier armed. */
  #scheduleProbe(state, tier, reason) {
    this.#cancel(this.#probeTimer);
    this.#probeAttempt += 1;
    const ms = this.#backoffMs(this.#probeAttempt);
    this.#logger?.info?.(`Retrying connection in ${ms}ms (attempt ${this.#probeAttempt})`);
    this.#setState(state, tier, reason, this.#now() + ms); // same state: only the retry time moves
    this.#probeTimer = this.#schedule(() => this.#startProbe(), ms);
  }

  #startProbe() {
    this.#cancel(this.#probeTimer);
    this.#probeTimer = null;
    if (this.#closed || this.#probe || this.#tierIndex <= 0) return;
    const entry = this.#tiers[0];
    const probe = this.#create(entry);
    this.#probe = probe;
    this.#probeBacklog = [];
    if (entry.helloTimeout) {
      this.#probeTimer = this.#schedule(
        () => this.#probeFailed(`${entry.label} timeout`),
        this.#timings.hello_timeout_ms,
      );
    }
    try {
      probe.start(this.#cursor);
    } catch (error) {
      this.#probeFailed(`${entry.label} failed: ${error?.message ?? error}`);
    }
  }

  #probeFailed(reason) {
    this.#stopProbe();
    this.#logger?.info?.(reason);
    this.#scheduleProbe(this.#state, this.#tier, reason);
  }

  #promoteProbe(data) {
    const probe = this.#probe;
    const backlog = this.#probeBacklog;
    this.#probe = null; // taken out first, so the transition below does not stop it
    this.#probeBacklog = [];
    this.#cancel(this.#probeTimer);
    this.#probeTimer = null;
    this.#stopTransport(); // the lower tier: from here on it delivers nothing
    this.#transport = probe;
    this.#tierIndex = 0;
    this.#logger?.info?.(`Polling stopped - ${this.#tiers[0].label} reconnected`);
    this.#onHello(data);
    // Whatever the lower tier already delivered is at or below the cursor and dropped.
    for (const message of backlog) {
      if (this.#transport !== probe) return;
      this.#onEntry(message);
    }
  }

  #stopProbe() {
    const probe = this.#probe;
    this.#probe = null;
    this.#probeBacklog = [];
    this.#cancel(this.#probeTimer);
    this.#probeTimer = null;
    probe?.stop();
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
    this.#stopProbe();
    this.#stopTransport();
    this.#abortNegotiate();
    this.#generation += 1; // late answers from what just failed are ignored
    this.#attempt += 1;
    const ms = this.#backoffMs(this.#attempt);
    this.#logger?.info?.(`Retrying connection in ${ms}ms (attempt ${this.#attempt})`);
    this.#setState("offline", "none", reason, this.#now() + ms);
    this.#clearTimers();
    this.#schedule(() => this.#connect("retry"), ms);
  }

  #deny(label, error) {
    this.#logger?.info?.(`${label} denied: HTTP ${error?.status}`);
    if (this.#shutdown("denied")) this.dispatchEvent(new CustomEvent("denied", { detail: error }));
  }

  #wake(reason, force = false) {
    if (this.#closed) return;
    if (this.#state === "offline") {
      this.#connect(reason);
    } else if (this.#state === "live" && (force || this.#now() - this.#lastEventAt > this.#watchdogMs())) {
      // Timers are throttled in background tabs and stop during sleep, so the watchdog
      // may not have fired yet although the stream is long dead.
      this.#connect(reason);
    } else if (this.#tierIndex > 0 && this.#state !== "connecting" && !this.#probe) {
      // On a lower tier: try to climb back now rather than at the scheduled time. Like
      // the offline wake-up, this does not count as an attempt.
      this.#setState(this.#state, this.#tier, reason, null);
      this.#startProbe();
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
