/**
 * The tiers the client knows and the timings it runs them with; the server's
 * GET /api/realtime/negotiate says which tiers are allowed, in which order, and overrides
 * the timings. Pure data and factories: no timers, no DOM.
 */
import { because, CODES } from "./reasons.js";
import { LongPollTransport, PollTransport, SseTransport } from "./transports.js";

/** Timings used until the server's negotiate answer arrives (same as the server's defaults). */
export const DEFAULT_TIMINGS = Object.freeze({
  hello_timeout_ms: 10000,
  heartbeat_ms: 15000,
  watchdog_heartbeats: 2.5,
  longpoll_wait_s: 25,
  poll_interval_ms: 30000,
  backoff: Object.freeze({ initial_ms: 1000, max_ms: 30000, jitter: 0.2 }),
});

/**
 * Every tier by name. `label` is how log lines name it; `state` is what the indicator shows
 * once the tier proved itself; `helloTimeout` says whether the negotiator bounds the wait
 * for that proof (the HTTP tiers bound each request themselves); `holdsConnection` says
 * whether the server counts it against its stream limits (a stream, a waiting long-poll);
 * `available(options)` says
 * whether the page gave what the tier needs (a URL, EventSource); `create(options)` makes
 * its transport. options: {feed, EventSource, fetch, setTimeout, clearTimeout, now, timings},
 * plus the feed's URLs as `streamUrl` and `messagesUrl` (the HTTP tiers' URL: a
 * conversation's messages or the dashboard's snapshot).
 */
export const TIERS = Object.freeze({
  sse: Object.freeze({
    tier: "sse",
    label: "SSE",
    state: "live",
    helloTimeout: true,
    holdsConnection: true,
    statusHidden: true, // EventSource never shows the HTTP status of a refused stream
    available: ({ streamUrl, EventSource }) => Boolean(streamUrl) && typeof EventSource === "function",
    create: ({ feed, EventSource }) => new SseTransport({ feed, EventSource }),
  }),
  longpoll: Object.freeze({
    tier: "longpoll",
    label: "long-poll",
    state: "polling",
    helloTimeout: false,
    holdsConnection: true,
    available: ({ messagesUrl }) => Boolean(messagesUrl),
    create: ({ feed, fetch, setTimeout, clearTimeout, now, timings }) =>
      new LongPollTransport({
        feed,
        fetch,
        setTimeout,
        clearTimeout,
        now,
        waitS: timings.longpoll_wait_s,
        firstTimeoutMs: proofTimeoutMs(timings),
      }),
  }),
  poll: Object.freeze({
    tier: "poll",
    label: "poll",
    state: "polling",
    helloTimeout: false,
    holdsConnection: false,
    available: ({ messagesUrl }) => Boolean(messagesUrl),
    create: ({ feed, fetch, setTimeout, clearTimeout, now, timings }) =>
      new PollTransport({
        feed,
        fetch,
        setTimeout,
        clearTimeout,
        now,
        intervalMs: timings.poll_interval_ms,
        timeoutMs: proofTimeoutMs(timings),
      }),
  }),
});

/**
 * The TIERS entries of the server's allowed `names`, in the server's order; a name we do not
 * know, a repeat, or a tier the page cannot serve (`available(options)`) is skipped.
 */
export function allowedTiers(names, options) {
  return [...new Set(names)]
    .filter((name) => Object.hasOwn(TIERS, name))
    .map((name) => TIERS[name])
    .filter((entry) => entry.available(options));
}

/**
 * Where to go when the server limits open streams (429 too_many_streams): the index of the
 * first tier below `index` that holds no connection (poll), or -1 if there is none.
 */
export function tierBelowLimits(tiers, index) {
  return tiers.findIndex((entry, i) => i > index && !entry.holdsConnection);
}

/**
 * The head start (negotiator.js): the index of the tier that delivers while the top tier
 * proves itself — the next one, when the top tier must say hello within a deadline (SSE)
 * and the next one need not (an HTTP tier answers, or fails, by itself) — else -1.
 */
export function headStartTier(tiers) {
  const [top, next] = tiers;
  return top?.helloTimeout && next && !next.helloTimeout ? 1 : -1;
}

/**
 * How long a request that does not wait (the first long-poll, every poll) may take: as long
 * as SSE gets to say hello, since it is the same question — do bytes get through? — with
 * a floor, so a tiny setting cannot fail a healthy server.
 */
export function proofTimeoutMs(timings) {
  return Math.max(1000, timings.hello_timeout_ms);
}

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

/**
 * The negotiate request (DESIGN.md §2, step 1): GET /api/realtime/negotiate answers which
 * tiers the server allows, in its order, and the timings to run them with. The negotiator
 * makes one at a time; abort() drops it, and its promise then rejects like any failure.
 */
export class NegotiateRequest {
  #url;
  #fetch;
  #controller = null; // AbortController of the request in flight

  constructor({ url, fetch }) {
    this.#url = url;
    this.#fetch = fetch;
  }

  /**
   * {allowed, timings}: the server's tier names in its order, its timings over the defaults.
   * Rejects with {code, reason} (reasons.js); one that never answers is given up after
   * `timeoutMs`, on `timers` (the caller's Timers), so the page is not left connecting.
   */
  async send({ timers, timeoutMs }) {
    const controller = typeof AbortController === "function" ? new AbortController() : null;
    this.#controller = controller;
    let timedOut = false;
    const timer = timers.schedule(() => {
      timedOut = true;
      this.abort();
    }, timeoutMs);
    try {
      return await this.#ask(controller);
    } catch (error) {
      throw timedOut
        ? because(CODES.timeout, "negotiate timeout")
        : because(CODES.failed, `negotiate failed: ${error?.message ?? error}`);
    } finally {
      timers.cancel(timer);
      if (this.#controller === controller) this.#controller = null;
    }
  }

  async #ask(controller) {
    const response = await this.#fetch(this.#url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
      signal: controller?.signal,
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = await response.json();
    if (!Array.isArray(body?.tiers)) throw new Error("no tiers in negotiate response");
    return { allowed: body.tiers, timings: mergeTimings(body.timings) };
  }

  /** Drop the request in flight, if any. */
  abort() {
    const controller = this.#controller;
    this.#controller = null;
    controller?.abort();
  }
}
