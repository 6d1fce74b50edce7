/**
 * TierNegotiator: picks how a feed (feeds.js: a conversation's log, or the dashboard) reaches
 * the page and keeps it working.
 *
 * One state machine (connecting | live | polling | offline), one state setter (#setState),
 * one owner of timers (a Timers, which #setState clears on every transition). Browser APIs
 * are injected so it runs in Node tests without a DOM.
 *
 * The ladder (DESIGN.md §2): the server's allowed tiers, in the server's order (normally
 * SSE, long-poll, poll). A tier that fails hands over to the next one; the last one failing
 * means offline, retried with backoff from the top. While a lower tier delivers, the top
 * tier is probed in the background with the same backoff; the probe delivers nothing until
 * it proves itself (hello), then it replaces the lower tier. Exactly one tier delivers at
 * a time, and every tier starts from the same cursor, so nothing is shown twice.
 *
 * This module is the state machine; each of its parts has its own: feeds.js (URLs, cursor,
 * what arrives means), tiers.js (tiers, timings and the negotiate request),
 * transports.js (one per tier), transport-routing.js (whose handlers a transport's callbacks
 * reach: the delivering tier's, the probe's, or none once it is replaced), timers.js (the
 * timer owner), retries.js (attempts and their backoff), watchdog.js (silent streams),
 * probe.js (the background climb back to the top tier), wakeups.js (hints to retry now),
 * limits.js (the server's stream limits: on a 429 the page polls, and climbs back no sooner
 * than Retry-After).
 *
 * Events:
 * - `statechange`, detail {state, tier, previous, code, reason, nextRetryAt}: on every change
 *   of state or tier (`code` from reasons.js, `reason` the words logged), and also when only nextRetryAt changes (the next retry while offline,
 *   or the next background retry of the top tier while on a lower one);
 * - `message`, detail = one new entry, in seq order, each seq once (conversation feed);
 * - one event per type the feed passes through, detail = its data, only from the delivering
 *   transport: `conversation` and `typing` (conversation feed; HTTP answers bring a
 *   `conversation` each), `snapshot`, `conversation`, `stats`, `typing` (dashboard feed);
 * - `hello`, detail = what proved the tier (SSE: the server's hello; long-poll and poll:
 *   the tier and the feed's reading of the first answer, e.g. {tier, cursor, conversation});
 * - `denied`, detail {status, code, message}: the token or session no longer opens the
 *   feed. The negotiator has then stopped for good (as after close()).
 */
import { ConversationFeed } from "./feeds.js";
import { StreamLimits } from "./limits.js";
import { Probe } from "./probe.js";
import { because, CODES } from "./reasons.js";
import { Retries } from "./retries.js";
import { NegotiateRequest, allowedTiers, mergeTimings, tierBelowLimits } from "./tiers.js";
import { Timers } from "./timers.js";
import { routeTransport } from "./transport-routing.js";
import { listenForWakeUps } from "./wakeups.js";
import { Watchdog } from "./watchdog.js";

export { DEFAULT_TIMINGS, mergeTimings } from "./tiers.js";

const HELLO = because(CODES.upgrade, "hello"); // a tier proved itself

/** Chooses a tier, delivers what its feed carries once and in order, and reconnects with backoff. */
export class TierNegotiator extends EventTarget {
  #feed;
  #transportOptions; // what TIERS entries need to make transports; #tierOptions() adds the timings
  #browser; // {window, document}: where the wake-ups come from
  #logger;
  #now;

  #state = "connecting";
  #tier = "none";
  #nextRetryAt = null;
  #cursor;
  #timings = mergeTimings();
  #tiers = []; // the TIERS entries the server allows, in the server's order
  #tierIndex = -1; // index in #tiers of the delivering (or trying) transport
  #transport = null; // the one transport that may deliver entries
  #probe; // the top tier, tried in the background while a lower tier delivers
  #retries; // offline retries since any tier last proved itself
  #generation = 0; // bumped on every (re)connect and on close; stale async results compare it
  #negotiation; // the negotiate request
  #timers; // every timer of the negotiator and its parts
  #watchdog; // of the delivering transport while live
  #limits; // the server's stream limits, as learnt from its 429s
  #stopWakeUps = null; // removes the wake-up listeners on close()
  #started = false;
  #closed = false;

  /**
   * Options are the negotiate URL, the feed, and injectable browser APIs (for tests).
   * `streamUrl`, `messagesUrl` and `cursor` without a feed are short for a ConversationFeed.
   */
  constructor({
    negotiateUrl,
    feed = null,
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
    this.#feed = feed ?? new ConversationFeed({ streamUrl, messagesUrl, cursor });
    const { streamUrl: stream, pollUrl } = this.#feed;
    if (!negotiateUrl || !(stream || pollUrl)) {
      throw new TypeError("negotiateUrl and a streamUrl or messagesUrl are required");
    }
    this.#cursor = this.#feed.cursor;
    const urls = { streamUrl: stream, messagesUrl: pollUrl }; // what TIERS `available` checks
    this.#transportOptions = { feed: this.#feed, ...urls, EventSource, fetch, setTimeout, clearTimeout, now };
    this.#browser = { window, document };
    this.#logger = logger;
    this.#now = now;
    this.#negotiation = new NegotiateRequest({ url: negotiateUrl, fetch });
    this.#timers = new Timers({ setTimeout, clearTimeout });
    const timings = () => this.#timings;
    this.#retries = new Retries({ timings, random, logger });
    this.#watchdog = new Watchdog({ timers: this.#timers, now, timings });
    this.#limits = new StreamLimits({ fetch, now });
    this.#probe = new Probe({
      timers: this.#timers,
      retries: new Retries({ timings, random, logger }),
      logger,
      onDue: () => this.#climbNow(),
      onFailed: (why) => this.#climbLater(this.#state, this.#tier, why),
    });
  }

  /** connecting | live | polling | offline */
  get state() {
    return this.#state;
  }

  /** sse | longpoll | poll | none */
  get tier() {
    return this.#tier;
  }

  /** The feed's cursor: the highest seq delivered (entries at or below it are dropped), or the last etag. */
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
    this.#stopWakeUps = listenForWakeUps(this.#browser, (reason, force) =>
      this.#wake(because(CODES.reconnect, reason), force),
    );
    return this.#connect(because(CODES.reconnect, "start"));
  }

  /** Stop for good: every timer, listener, request and stream. */
  close() {
    this.#shutdown(because(CODES.closed));
  }

  // ── state ────────────────────────────────────────────────────────────────────────────

  /** The one state setter; `why` is {code, reason} (reasons.js). */
  #setState(state, tier, why, nextRetryAt = null) {
    const previous = { state: this.#state, tier: this.#tier };
    if (state === this.#state && tier === this.#tier) {
      // Not a transition: only the announced retry time may have moved.
      if (nextRetryAt === this.#nextRetryAt) return;
    } else {
      this.#timers.clear(); // every transition starts from zero timers…
      this.#probe.stop(); // …and without a background probe, which belongs to one state
    }
    this.#state = state;
    this.#tier = tier;
    this.#nextRetryAt = nextRetryAt;
    this.dispatchEvent(
      new CustomEvent("statechange", {
        detail: { state, tier, previous, code: why.code, reason: why.reason, nextRetryAt },
      }),
    );
  }

  #shutdown(why) {
    if (this.#closed) return false;
    this.#closed = true;
    this.#generation += 1;
    this.#timers.clear();
    this.#probe.stop();
    this.#stopTransport();
    this.#negotiation.abort();
    this.#limits.abort();
    this.#stopWakeUps?.();
    this.#stopWakeUps = null;
    this.#setState("offline", "none", why);
    return true;
  }

  // ── connecting ───────────────────────────────────────────────────────────────────────

  async #connect(why) {
    if (this.#closed) return;
    const generation = ++this.#generation;
    this.#probe.stop();
    this.#stopTransport();
    this.#negotiation.abort();
    this.#setState("connecting", "none", why);
    this.#timers.clear(); // also when we were already connecting (a wake-up during negotiate)
    // A negotiate request that never answers must not leave us "connecting" forever.
    this.#timers.schedule(() => {
      this.#negotiation.abort();
      this.#retryLater(because(CODES.timeout, "negotiate timeout"));
    }, this.#timings.hello_timeout_ms);

    let allowed;
    try {
      ({ allowed, timings: this.#timings } = await this.#negotiation.send());
    } catch (error) {
      if (generation !== this.#generation) return; // closed or superseded meanwhile
      this.#retryLater(because(CODES.failed, `negotiate failed: ${error?.message ?? error}`));
      return;
    }
    if (generation !== this.#generation) return;

    this.#tiers = allowedTiers(allowed, this.#tierOptions()); // in the server's order
    if (this.#tiers.length === 0) {
      this.#retryLater(because(CODES.other, "no tier allowed"));
      return;
    }
    this.#openTier(0, why);
  }

  /** What the TIERS entries need to make their transports. */
  #tierOptions() {
    return { ...this.#transportOptions, timings: this.#timings };
  }

  /** A new transport for a tier, its callbacks routed (transport-routing.js) by its role now. */
  #create(entry) {
    const transport = entry.create(this.#tierOptions());
    const label = entry.label;
    const deny = (error) => this.#deny(label, error);
    const roles = {
      isClosed: () => this.#closed,
      isMain: (t) => t === this.#transport,
      isProbe: (t) => this.#probe.carries(t),
    };
    const main = {
      onhello: (data) => this.#onHello(data),
      onevent: (type, data) => this.#onDelivery(type, data),
      onping: () => this.#onActivity(),
      // A transport names its code (reasons.js); one that does not has failed.
      onerror: (reason, code = CODES.failed) => this.#onTransportError(because(code, reason)),
      onclosed: (reason, code = CODES.failed) => {
        this.#tierFailed(because(code, `${label} ${reason}`));
        const fallback = this.#transport; // still delivering when the answer comes?
        this.#explain(entry, (refusal) => refusal && fallback && this.#transport === fallback && this.#onLimited(refusal));
      },
      onlimited: (refusal) => this.#onLimited(refusal),
      ondenied: deny,
    };
    // The probe's try ignores pings and errors (SSE reconnecting by itself; its hello timeout runs).
    const probe = {
      onhello: (data) => this.#promote(data),
      onevent: (type, data) => this.#probe.hold([type, data]), // not before hello
      onclosed: (reason, code = CODES.failed) => {
        const why = because(code, `${label} ${reason}`);
        this.#explain(entry, () => this.#probe.carries(transport) && this.#probe.fail(why));
      },
      onlimited: (refusal) => {
        this.#limits.refused(refusal); // first: the probe's next wait honours Retry-After
        this.#probe.fail(because(CODES.rate_limited, `${label} refused: ${refusal.reason}`));
      },
      ondenied: deny,
    };
    routeTransport(transport, roles, main, probe);
    // An entry is an event of the feed's entry type; the feed drops those already delivered.
    transport.onentry = (message) => transport.onevent(this.#feed.entryEvent, message);
    return transport;
  }

  #openTier(index, why) {
    const entry = this.#tiers[index];
    const transport = this.#create(entry);
    this.#transport = transport;
    this.#tierIndex = index;

    this.#setState("connecting", entry.tier, why);
    this.#timers.clear();
    if (entry.helloTimeout) {
      // A buffering proxy accepts the connection and then delivers nothing: hello proves bytes flow.
      this.#armHelloTimeout();
    }
    try {
      transport.start(this.#cursor);
    } catch (error) {
      // e.g. EventSource refusing the URL: a failed tier like any other.
      this.#tierFailed(because(CODES.failed, `${entry.label} failed: ${error?.message ?? error}`));
    }
  }

  #armHelloTimeout() {
    this.#timers.clear();
    const timedOut = because(CODES.timeout, `${this.#label()} timeout`);
    this.#timers.schedule(() => this.#tierFailed(timedOut), this.#timings.hello_timeout_ms);
  }

  // ── callbacks of the delivering transport ────────────────────────────────────────────

  #onHello(data) {
    const entry = this.#tiers[this.#tierIndex];
    this.#retries.reset(); // only a proof resets it; an open socket proves nothing
    if (this.#tierIndex === 0) {
      this.#probe.reset();
      this.#limits.clear();
      this.#setState(entry.state, entry.tier, HELLO);
    } else if (this.#probe.running) {
      this.#setState(entry.state, entry.tier, HELLO); // a probe is already on its way up
    } else {
      // Below the top tier: deliver from here, and keep trying to climb back.
      this.#climbLater(entry.state, entry.tier, HELLO);
    }
    this.#onActivity();
    this.dispatchEvent(new CustomEvent("hello", { detail: data }));
  }

  /** One entry or event of the delivering transport: the feed says whether it is new. */
  #onDelivery(type, data) {
    this.#onActivity();
    const cursor = this.#feed.accept(this.#cursor, type, data);
    if (cursor === null) return; // already delivered
    this.#cursor = cursor;
    this.dispatchEvent(new CustomEvent(type, { detail: data }));
  }

  #onActivity() {
    this.#watchdog.feed();
    if (this.#state !== "live") return;
    this.#watchdog.arm((ms) => this.#tierFailed(because(CODES.silent, `${this.#label()} stream silent for ${ms}ms`)));
  }

  #onTransportError(why) {
    // The browser is reconnecting by itself; it is live again only when hello comes back.
    if (this.#state !== "live") return;
    this.#setState("connecting", this.#tier, why);
    this.#armHelloTimeout();
  }

  // ── climbing back to the top tier (the probe does the climbing) ───────────────────────

  /** Enter (or stay in) `state`/`tier`, announcing when the probe tries the top tier next. */
  #climbLater(state, tier, why) {
    const announce = (ms) => this.#setState(state, tier, why, this.#now() + ms);
    this.#probe.schedule(announce, this.#limits.holdOffMs()); // never before Retry-After
  }

  /** Try the top tier now, in the background: the probe's wait is over, or a wake-up. */
  #climbNow() {
    if (this.#closed || this.#probe.running || this.#tierIndex <= 0) return;
    const entry = this.#tiers[0];
    this.#probe.start(entry, this.#create(entry), {
      cursor: this.#cursor,
      helloTimeoutMs: this.#timings.hello_timeout_ms,
    });
  }

  /** The probe's try said hello: it becomes the delivering transport; the lower tier stops. */
  #promote(data) {
    // Taken out of the probe first, so the transition in #onHello does not stop it.
    const { transport, backlog } = this.#probe.release();
    this.#stopTransport(); // the lower tier: from here on it delivers nothing
    this.#transport = transport;
    this.#tierIndex = 0;
    this.#logger?.info?.(`Polling stopped - ${this.#tiers[0].label} reconnected`);
    this.#onHello(data);
    // Whatever the lower tier already delivered is at or below the cursor and dropped.
    for (const [type, data] of backlog) {
      if (this.#transport !== transport) return;
      this.#onDelivery(type, data);
    }
  }

  // ── failing and retrying ─────────────────────────────────────────────────────────────

  #tierFailed(why) {
    const next = this.#tiers[this.#tierIndex + 1];
    this.#logger?.info?.(next ? `${why.reason}, falling back to ${next.label}` : why.reason);
    this.#stopTransport();
    if (next) this.#openTier(this.#tierIndex + 1, why);
    else this.#retryLater(why);
  }

  #retryLater(why) {
    this.#probe.stop();
    this.#stopTransport();
    this.#negotiation.abort();
    this.#generation += 1; // late answers from what just failed are ignored
    const ms = this.#retries.next(this.#limits.holdOffMs()); // logs `Retrying connection in …`
    this.#setState("offline", "none", why, this.#now() + ms);
    this.#timers.clear();
    this.#timers.schedule(() => this.#connect(because(CODES.reconnect, "retry")), ms);
  }

  /** Too many streams (429): poll until Retry-After (limits.js), then climb back as usual. */
  #onLimited(refusal) {
    this.#limits.refused(refusal);
    const entry = this.#tiers[this.#tierIndex];
    const below = entry.holdsConnection ? tierBelowLimits(this.#tiers, this.#tierIndex) : -1;
    const why = because(CODES.rate_limited, `${entry.label} refused: ${refusal.reason}`);
    const fallback = below === -1 ? "" : `, falling back to ${this.#tiers[below].label}`;
    this.#logger?.info?.(`${why.reason}${fallback}`);
    this.#stopTransport();
    if (below === -1) this.#retryLater(why);
    else this.#openTier(below, why);
  }

  /** EventSource hides why a stream ended: ask (limits.js), then `then(refusal)` unless closed. */
  #explain(entry, then) {
    if (!entry.statusHidden) return void then(null);
    this.#limits.explain(this.#feed.streamUrlAt(this.#cursor)).then((refusal) => this.#closed || then(refusal));
  }

  #deny(label, error) {
    this.#logger?.info?.(`${label} denied: HTTP ${error?.status}`);
    if (this.#shutdown(because(CODES.failed, "denied"))) this.dispatchEvent(new CustomEvent("denied", { detail: error }));
  }

  #wake(why, force = false) {
    if (this.#closed) return;
    if (this.#state === "offline") {
      this.#connect(why);
    } else if (this.#state === "live" && (force || this.#watchdog.overdue)) {
      // Timers are throttled in background tabs and stop during sleep, so the watchdog
      // may not have fired yet although the stream is long dead.
      this.#connect(why);
    } else if (this.#tierIndex > 0 && this.#state !== "connecting" && !this.#probe.running) {
      // On a lower tier: try to climb back now rather than at the scheduled time. Like
      // the offline wake-up, this does not count as an attempt.
      this.#setState(this.#state, this.#tier, why, null);
      this.#climbNow();
    }
  }

  // ── helpers ──────────────────────────────────────────────────────────────────────────

  #stopTransport() {
    const transport = this.#transport;
    this.#transport = null;
    transport?.stop();
  }

  #label() {
    return this.#tiers[this.#tierIndex]?.label ?? this.#tier;
  }
}
