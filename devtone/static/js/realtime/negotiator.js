/**
 * TierNegotiator: picks how a feed (feeds.js: a conversation's log, or the dashboard) reaches
 * the page and keeps it working: the ladder of DESIGN.md §2, the head start (the tier below
 * delivers from t = 0 while the top tier proves itself, the state staying `connecting` until
 * hello or the deadline: no flicker) and the climb back. docs/realtime.md describes the
 * ladder, its parts (one module each, all in this folder) and the events
 * (`statechange`, `message`, the feed's own, `hello`, `denied`).
 *
 * One state machine (connecting | live | polling | offline), one state setter (#setState),
 * one owner of timers (a Timers, which #setState clears on every transition). Browser APIs
 * are injected (browser-apis.js) so it runs in Node tests without a DOM. Exactly one tier
 * delivers at a time, and every tier starts from the same cursor, so nothing is shown twice.
 */
import { browserApis } from "./browser-apis.js";
import { ConversationFeed } from "./feeds.js";
import { StreamLimits } from "./limits.js";
import { Probe } from "./probe.js";
import { because, CODES } from "./reasons.js";
import { Retries } from "./retries.js";
import { NegotiateRequest, allowedTiers, headStartTier, mergeTimings, tierBelowLimits } from "./tiers.js";
import { Timers } from "./timers.js";
import { DeliveringTier, createTransport } from "./tier-transport.js";
import { listenForWakeUps, wakeUpAction } from "./wakeups.js";
import { Watchdog } from "./watchdog.js";

export { DEFAULT_TIMINGS, mergeTimings } from "./tiers.js";

const HELLO = because(CODES.upgrade, "hello"); // a tier proved itself

/** Chooses a tier, delivers what its feed carries once and in order, and reconnects with backoff. */
export class TierNegotiator extends EventTarget {
  #feed;
  #transportOptions; // what TIERS entries need to make transports; #make() adds the timings
  #browser; // {window, document}: where the wake-ups come from
  #logger;
  #now;

  #state = "connecting";
  #tier = "none";
  #nextRetryAt = null;
  #cursor;
  #timings = mergeTimings();
  #delivering; // the one tier (of the allowed ones) whose transport may deliver entries
  #headStart = false; // a lower tier delivers, unannounced, while the top tier proves itself
  #probe; // the top tier, tried in the background while a lower tier delivers
  #retries; // offline retries since any tier last proved itself
  #generation = 0; // bumped on every (re)connect and on close; stale async results compare it
  #negotiation; // the negotiate request
  #timers; // every timer of the negotiator and its parts
  #watchdog; // of the delivering transport while live
  #limits; // the server's stream limits, as learnt from its 429s
  #stopWakeUps = null; // removes the wake-up listeners on close()
  #port; // what a tier's transport calls back into (tier-transport.js)
  #started = false;
  #closed = false;

  /** The negotiate URL, the feed (or `streamUrl`, `messagesUrl` and `cursor`: a
   * ConversationFeed's), and injectable browser APIs (browser-apis.js), for tests. */
  constructor({ negotiateUrl, feed = null, streamUrl = null, messagesUrl = null, cursor = 0, ...apis } = {}) {
    super();
    const { fetch, EventSource, window, document, setTimeout, clearTimeout, logger, now, random } =
      browserApis(apis);
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
    this.#delivering = new DeliveringTier((entry) => this.#make(entry));
    this.#probe = new Probe({
      timers: this.#timers,
      retries: new Retries({ timings, random, logger }),
      onDue: () => this.#climbNow(),
      onFailed: (why) => this.#probeFailed(why),
    });
    this.#port = {
      feed: this.#feed,
      limits: this.#limits,
      probe: this.#probe,
      isClosed: () => this.#closed,
      delivering: () => this.#delivering.transport,
      streamUrl: () => this.#feed.streamUrlAt(this.#cursor),
      hello: (data) => this.#onHello(data),
      deliver: (type, data) => this.#onDelivery(type, data),
      activity: () => this.#onActivity(),
      trouble: (why) => this.#onTransportError(why),
      failed: (why) => this.#tierFailed(why),
      limited: (refusal) => this.#onLimited(refusal),
      denied: (label, error) => this.#deny(label, error),
      promote: (data) => this.#promote(data),
    };
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
    const detail = { state, tier, previous, code: why.code, reason: why.reason, nextRetryAt };
    this.dispatchEvent(new CustomEvent("statechange", { detail }));
  }

  #shutdown(why) {
    if (this.#closed) return false;
    this.#closed = true;
    this.#generation += 1;
    this.#timers.clear();
    this.#probe.stop();
    this.#delivering.stop();
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
    this.#headStart = false;
    this.#probe.stop();
    this.#delivering.stop();
    this.#negotiation.abort();
    this.#setState("connecting", "none", why);
    this.#timers.clear(); // also when we were already connecting (a wake-up during negotiate)
    let allowed;
    try {
      const timeoutMs = this.#timings.hello_timeout_ms;
      ({ allowed, timings: this.#timings } = await this.#negotiation.send({ timers: this.#timers, timeoutMs }));
    } catch (why) {
      if (generation === this.#generation) this.#retryLater(why); // unless closed or superseded
      return;
    }
    if (generation !== this.#generation) return;

    const tiers = allowedTiers(allowed, this.#transportOptions); // in the server's order
    this.#delivering.tiers = tiers;
    if (tiers.length === 0) {
      this.#retryLater(because(CODES.other, "no tier allowed"));
      return;
    }
    const below = headStartTier(tiers);
    if (below > 0) this.#openHeadStart(below, why);
    else this.#openTier(0, why);
  }

  /** A transport of the TIERS `entry`, wired to this negotiator (tier-transport.js). */
  #make(entry) {
    return createTransport(entry, { ...this.#transportOptions, timings: this.#timings }, this.#port);
  }

  #openTier(index, why) {
    const entry = this.#delivering.tiers[index];
    this.#delivering.index = index; // the hello timeout's words name it
    this.#setState("connecting", entry.tier, why);
    this.#timers.clear();
    if (entry.helloTimeout) {
      // A buffering proxy accepts the connection and then delivers nothing: hello proves bytes flow.
      this.#armHelloTimeout();
    }
    this.#startTransport(index);
  }

  /** The top tier tried as the probe while the tier at `below` delivers (the head start). */
  #openHeadStart(below, why) {
    this.#setState("connecting", this.#delivering.tiers[0].tier, why);
    this.#timers.clear();
    this.#headStart = true;
    this.#startTransport(below);
    if (this.#headStart) this.#climbNow(); // the probe's hello timeout is the deadline
  }

  /** Make the tier at `index` deliver from the cursor; one that cannot even start (a URL
   * EventSource refuses) has failed like any other. */
  #startTransport(index) {
    const error = this.#delivering.start(index, this.#cursor);
    if (error) this.#tierFailed(because(CODES.failed, `${this.#delivering.label} failed: ${error?.message ?? error}`));
  }

  #armHelloTimeout() {
    this.#timers.clear();
    const timedOut = because(CODES.timeout, `${this.#delivering.label} timeout`);
    this.#timers.schedule(() => this.#tierFailed(timedOut), this.#timings.hello_timeout_ms);
  }

  // ── callbacks of the delivering transport ────────────────────────────────────────────

  #onHello(data) {
    const { entry, index } = this.#delivering;
    this.#retries.reset(); // only a proof resets it; an open socket proves nothing
    this.#delivering.proven = true;
    if (this.#headStart) {
      // The lower tier delivers from here; the state waits for the top tier's verdict.
    } else if (index === 0) {
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
    this.#watchdog.arm((ms) => this.#tierFailed(because(CODES.silent, `${this.#delivering.label} stream silent for ${ms}ms`)));
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

  /** The probe's try failed: at the end of a head start, the lower tier is announced. */
  #probeFailed(why) {
    const { entry, transport, tiers, index, proven } = this.#delivering;
    // Too many streams while a tier that waits on a connection delivers: its waits count
    // too (perhaps only this page's own fills the limit, keeping its stream out for ever),
    // so go below the limits (poll) where there is a tier there.
    const limited = transport && why.code === CODES.rate_limited && entry.holdsConnection;
    if (!this.#headStart) {
      const below = limited ? tierBelowLimits(tiers, index) : -1;
      if (below > 0) {
        this.#fallTo(below, why);
        return;
      }
      this.#logger?.info?.(why.reason);
      this.#climbLater(this.#state, this.#tier, why);
      return;
    }
    this.#headStart = false;
    if (!transport || limited) {
      // Every lower tier failed meanwhile (offline), or the limits: see above.
      this.#fallTo(transport ? tierBelowLimits(tiers, index) : -1, why);
      return;
    }
    this.#logger?.info?.(`${why.reason}, falling back to ${entry.label}`);
    if (proven) this.#climbLater(entry.state, entry.tier, why);
    else this.#setState("connecting", entry.tier, why); // its first answer decides (own timeout)
  }

  /** Try the top tier now, in the background: the probe's wait is over, or a wake-up. */
  #climbNow() {
    if (this.#closed || this.#probe.running || this.#delivering.index <= 0) return;
    const entry = this.#delivering.tiers[0];
    const timeouts = { helloTimeoutMs: this.#timings.hello_timeout_ms };
    this.#probe.start(entry, this.#make(entry), { cursor: this.#cursor, ...timeouts });
  }

  /** The probe's try said hello: it becomes the delivering transport; the lower tier stops. */
  #promote(data) {
    // Taken out of the probe first, so the transition in #onHello does not stop it.
    const { transport, backlog } = this.#probe.release();
    const below = this.#delivering.label;
    this.#delivering.takeOver(transport); // the lower tier stops: from here on it delivers nothing
    const top = this.#delivering.label;
    const words = this.#headStart ? `Head start over - ${top} said hello, ${below} stopped` : null;
    this.#headStart = false;
    this.#logger?.info?.(words ?? `Polling stopped - ${top} reconnected`);
    this.#onHello(data);
    // Whatever the lower tier already delivered is at or below the cursor and dropped.
    for (const [type, data] of backlog) {
      if (this.#delivering.transport !== transport) return;
      this.#onDelivery(type, data);
    }
  }

  // ── failing and retrying ─────────────────────────────────────────────────────────────

  #tierFailed(why) {
    this.#fallTo(this.#delivering.index + 1, why);
  }

  /** Stop the delivering tier and open the one at `index`; none there: offline, retry later. */
  #fallTo(index, why) {
    const next = this.#delivering.tiers[index];
    this.#logger?.info?.(next ? `${why.reason}, falling back to ${next.label}` : why.reason);
    this.#delivering.stop();
    if (this.#headStart) {
      // Unannounced: the state still waits for the top tier, which is still proving itself.
      if (next) this.#startTransport(index);
    } else if (next) {
      this.#openTier(index, why);
    } else {
      this.#retryLater(why);
    }
  }

  #retryLater(why) {
    this.#headStart = false;
    this.#probe.stop();
    this.#delivering.stop();
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
    const { entry, tiers, index } = this.#delivering;
    const below = entry.holdsConnection ? tierBelowLimits(tiers, index) : -1;
    this.#fallTo(below, because(CODES.rate_limited, `${entry.label} refused: ${refusal.reason}`));
  }

  #deny(label, error) {
    this.#logger?.info?.(`${label} denied: HTTP ${error?.status}`);
    if (this.#shutdown(because(CODES.failed, "denied"))) this.dispatchEvent(new CustomEvent("denied", { detail: error }));
  }

  #wake(why, force = false) {
    if (this.#closed) return;
    const now = { state: this.#state, force, overdue: this.#watchdog.overdue };
    const action = wakeUpAction({ ...now, below: this.#delivering.index > 0, climbing: this.#probe.running });
    if (action === "reconnect") {
      this.#connect(why);
    } else if (action === "climb") {
      this.#setState(this.#state, this.#tier, why, null);
      this.#climbNow();
    }
  }
}
