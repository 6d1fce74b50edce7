/**
 * Transports: one way each of getting a feed (feeds.js: a conversation's log, or the
 * dashboard) from the server. A transport knows how to talk (EventSource, one GET at a
 * time); the feed knows the URLs and what the answers mean.
 *
 * Every transport has the same shape, so the negotiator can hold an ordered list of them:
 * `start(cursor)`, `stop()`, and callbacks the owner sets —
 *   `onhello(data)`   the transport proved itself (SSE: the hello event; long-poll and
 *                     poll: their first successful answer, before its entries);
 *   `onentry(message)` one log entry, in the order the server sent it;
 *   `onevent(type, data)` anything else the feed passes through to the page (a
 *                     conversation's state, typing, a dashboard snapshot…), in order;
 *   `onping(data)`    a heartbeat (SSE only);
 *   `onerror(reason, code)` recoverable, the transport is retrying by itself (SSE only);
 *   `onclosed(reason, code)` failed and stopped for good; the owner decides what next
 *                     (`code` is the reason's code in reasons.js);
 *   `ondenied(error)` the token or session no longer opens the feed (the feed's
 *                     deniedStatuses answered to long-poll or poll; {status, code,
 *                     message}); also stopped.
 *   `onlimited(refusal)` the server refused for now (429, long-poll and poll;
 *                     {reason, retryAfterMs}); also stopped. SSE cannot see it: see limits.js.
 * Transports never touch the DOM and never retry once closed: retries belong to the
 * negotiator. The HTTP transports own one timer at a time (a request timeout or the wait
 * before the next request) and `stop()` clears it and aborts the request in flight.
 */
import { ConversationFeed } from "./feeds.js";
import { refusalOf } from "./limits.js";
import { because, CODES } from "./reasons.js";

export { withParam } from "./feeds.js";

// EventSource.CLOSED; spelled out so a test fake need not define the constant.
const CLOSED = 2;

/** Server-Sent Events transport: wraps one EventSource at a time. */
export class SseTransport {
  /** Tier name shown by the indicator (`data-tier`). */
  static tier = "sse";

  onhello = null;
  onentry = null;
  onevent = null;
  onping = null;
  onerror = null;
  onclosed = null;

  #feed;
  #EventSource;
  #source = null;

  /** `feed` says the URL and the events; `url` alone is short for a ConversationFeed's stream. */
  constructor({
    url,
    feed = url ? new ConversationFeed({ streamUrl: url }) : null,
    EventSource = globalThis.EventSource,
  } = {}) {
    if (!feed?.streamUrl) throw new TypeError("SseTransport needs a url");
    if (typeof EventSource !== "function") throw new TypeError("EventSource is not available");
    this.#feed = feed;
    this.#EventSource = EventSource;
  }

  /** Open the stream from `cursor`; a running stream is closed first. */
  start(cursor = this.#feed.cursor) {
    this.stop();
    // On its own reconnects the browser sends Last-Event-ID, which the server prefers over
    // `after`, so the URL's cursor only matters for this first connect.
    const source = new this.#EventSource(this.#feed.streamUrlAt(cursor));
    this.#source = source;
    const on = (type, deliver) =>
      source.addEventListener(type, (event) => {
        const data = this.#parse(source, type, event);
        if (data !== undefined) deliver(data);
      });
    on("hello", (data) => this.onhello?.(data));
    on("ping", (data) => this.onping?.(data));
    if (this.#feed.entryEvent) on(this.#feed.entryEvent, (data) => this.onentry?.(data));
    for (const type of this.#feed.events) on(type, (data) => this.onevent?.(type, data));
    source.addEventListener("error", () => this.#failed(source));
  }

  /** Close the stream; no callback fires after this. */
  stop() {
    const source = this.#source;
    this.#source = null;
    source?.close();
  }

  /** The event's data, or undefined when it must not be delivered. */
  #parse(source, type, event) {
    if (source !== this.#source) return undefined; // a late event from a stream we already dropped
    try {
      return JSON.parse(event.data);
    } catch {
      this.onerror?.(`invalid JSON in ${event.type || type}`, CODES.other);
      return undefined;
    }
  }

  #failed(source) {
    if (source !== this.#source) return;
    if (source.readyState === CLOSED) {
      // A 502, a 401 or a wrong content type: the browser gives up and will not reconnect.
      this.#source = null;
      source.close();
      this.onclosed?.("stream closed", CODES.closed);
    } else {
      // CONNECTING: the browser reconnects by itself (retry: ms, Last-Event-ID).
      this.onerror?.("stream interrupted", CODES.failed);
    }
  }
}

// The server refuses waits above this many seconds (api.py WAIT_MAX).
const WAIT_MAX_S = 30;
// An empty answer to a waiting request faster than this means something in between does
// not wait (a cache, a proxy): slow down rather than loop hot.
const MIN_EMPTY_WAIT_MS = 1000;

/** Long-poll request timeout: the server's wait plus a grace of max(5 s, 20 % of the wait). */
export function longPollTimeoutMs(waitS) {
  const waitMs = waitS * 1000;
  return waitMs + Math.max(5000, waitMs * 0.2);
}

/**
 * The shared part of long-poll and poll: one GET of the feed's pollUrl at a time (e.g.
 * `messages?after=N&wait=S&limit=L`), each with an AbortController and a client-side
 * timeout, so a request a proxy never answers counts as a failure. A status in the feed's
 * deniedStatuses is a denial, never a fallback. Subclasses say when the next request goes
 * and how long it waits (`firstRequest()`, `nextRequest(answer)`).
 */
class HttpTransport {
  onhello = null;
  onentry = null;
  onevent = null;
  onping = null;
  onerror = null;
  onclosed = null;
  ondenied = null;
  onlimited = null;

  #feed;
  #fetch;
  #setTimeout;
  #clearTimeout;
  #now;
  #limit;
  #run = null; // {cursor, proven, controller, timer, timedOut}; null when stopped

  /**
   * `feed` says the URL and what answers mean; `url` alone (which may carry `?token=`) is short
   * for a ConversationFeed's messages. fetch, timers and clock are injectable for tests.
   */
  constructor({
    url,
    feed = url ? new ConversationFeed({ messagesUrl: url }) : null,
    fetch = (...args) => globalThis.fetch(...args),
    setTimeout = (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout = (id) => globalThis.clearTimeout(id),
    now = () => Date.now(),
    limit = 100,
  } = {}) {
    if (!feed?.pollUrl) throw new TypeError(`${new.target.name} needs a url`);
    this.#feed = feed;
    this.#fetch = fetch;
    this.#setTimeout = setTimeout;
    this.#clearTimeout = clearTimeout;
    this.#now = now;
    this.#limit = limit;
  }

  /** Whether a request is in flight or scheduled. */
  get running() {
    return this.#run !== null;
  }

  /** Begin requesting what comes after `cursor`; a running loop is stopped first. */
  start(cursor = this.#feed.cursor) {
    this.stop();
    const run = { cursor, proven: false, controller: null, timer: null, timedOut: false };
    this.#run = run;
    const { delayMs, waitS, timeoutMs } = this.firstRequest();
    this.#later(run, delayMs, waitS, timeoutMs);
  }

  /** Abort the request in flight and clear the timer; no callback fires after this. */
  stop() {
    const run = this.#run;
    this.#run = null;
    if (!run) return;
    if (run.timer !== null) this.#clearTimeout(run.timer);
    run.timer = null;
    run.controller?.abort();
  }

  #later(run, delayMs, waitS, timeoutMs) {
    if (delayMs <= 0) {
      this.#request(run, waitS, timeoutMs);
      return;
    }
    run.timer = this.#setTimeout(() => {
      run.timer = null;
      if (this.#run === run) this.#request(run, waitS, timeoutMs);
    }, delayMs);
  }

  async #request(run, waitS, timeoutMs) {
    const controller = new AbortController();
    run.controller = controller;
    run.timedOut = false;
    run.timer = this.#setTimeout(() => {
      run.timer = null;
      run.timedOut = true;
      controller.abort(); // also ends a body that never finishes arriving
    }, timeoutMs);
    const startedAt = this.#now();
    const url = this.#feed.pollUrlAt(run.cursor, { waitS, limit: this.#limit, first: !run.proven });

    const { answer, failure, denied, limited } = await this.#fetchPage(run, url, controller.signal);
    if (this.#run !== run) return; // stopped meanwhile: say nothing
    this.#clearTimer(run);
    run.controller = null;
    if (denied) {
      this.#run = null;
      this.ondenied?.(denied);
    } else if (limited && this.onlimited) {
      this.#run = null;
      this.onlimited(limited);
    } else if (failure) {
      this.#run = null;
      controller.abort();
      this.onclosed?.(failure.reason, failure.code);
    } else {
      this.#deliver(run, answer, this.#now() - startedAt, waitS);
    }
  }

  /**
   * One GET, as {answer} (read by the feed) or {failure: {code, reason}} or {denied: {status,
   * code, message}} or, for a 429, {limited: {reason, retryAfterMs}, failure}.
   */
  async #fetchPage(run, url, signal, code = CODES.failed) {
    const failed = (reason, as = code) => ({
      failure: run.timedOut ? because(CODES.timeout, "timed out") : because(as, `failed: ${reason}`),
    });
    let response;
    try {
      response = await this.#fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
        signal,
      });
    } catch {
      return failed("network error");
    }
    if (this.#feed.deniedStatuses.has(response.status)) {
      let error = {};
      try {
        error = (await response.json())?.error ?? {};
      } catch {
        // A proxy's HTML page: the status says enough.
      }
      const { status } = response;
      return {
        denied: { status, code: error.code ?? `http_${status}`, message: error.message ?? `HTTP ${status}` },
      };
    }
    if (response.status === 429) {
      return { limited: refusalOf(response, this.#now()), ...failed("HTTP 429", CODES.rate_limited) };
    }
    if (!response.ok) return failed(`HTTP ${response.status}`);
    let body;
    try {
      body = await response.json();
    } catch {
      return failed("answer is not JSON");
    }
    const answer = this.#feed.read(body, { cursor: run.cursor, limit: this.#limit });
    return answer.failure ? failed(answer.failure) : { answer };
  }

  #deliver(run, answer, elapsedMs, waitS) {
    if (!run.proven) {
      run.proven = true;
      this.onhello?.({ tier: this.constructor.tier, ...answer.hello });
    }
    for (const message of answer.entries) {
      if (this.#run !== run) return; // the owner stopped us from a callback
      this.onentry?.(message);
    }
    for (const [type, data] of answer.events) {
      if (this.#run !== run) return;
      this.onevent?.(type, data);
    }
    if (this.#run !== run) return;
    run.cursor = answer.cursor;
    const { empty, full } = answer;
    const next = this.nextRequest({ empty, full, elapsedMs, waitS });
    this.#later(run, next.delayMs, next.waitS, next.timeoutMs);
  }

  #clearTimer(run) {
    if (run.timer !== null) this.#clearTimeout(run.timer);
    run.timer = null;
  }
}

/**
 * Long-poll: the server answers as soon as there is news after the cursor (an entry, a new
 * etag), or with nothing new after `waitS` seconds; the next request goes at once from the
 * returned cursor. The first
 * request does not wait, so the tier proves itself (or fails) within one round trip.
 */
export class LongPollTransport extends HttpTransport {
  /** Tier name shown by the indicator (`data-tier`). */
  static tier = "longpoll";

  #waitS;
  #firstTimeoutMs;

  /** `waitS` is the server's longpoll_wait_s; `firstTimeoutMs` bounds the first, quick request. */
  constructor({ waitS = 25, firstTimeoutMs = 10000, ...options } = {}) {
    super(options);
    const whole = Math.round(Number.isFinite(waitS) ? waitS : 25);
    this.#waitS = Math.min(WAIT_MAX_S, Math.max(1, whole));
    this.#firstTimeoutMs = firstTimeoutMs;
  }

  /** The first request: no wait, a short timeout. */
  firstRequest() {
    return { delayMs: 0, waitS: 0, timeoutMs: this.#firstTimeoutMs };
  }

  /** Every next request: at once, waiting `waitS`, timing out after wait + grace. */
  nextRequest({ empty, elapsedMs, waitS }) {
    const tooFast = empty && waitS > 0 && elapsedMs < MIN_EMPTY_WAIT_MS;
    return {
      delayMs: tooFast ? MIN_EMPTY_WAIT_MS : 0,
      waitS: this.#waitS,
      timeoutMs: longPollTimeoutMs(this.#waitS),
    };
  }
}

/**
 * Poll: `wait=0` every `intervalMs` (the first at once), never two requests in flight; a
 * full page is followed at once by the next one, so a long backlog is read without waiting.
 */
export class PollTransport extends HttpTransport {
  /** Tier name shown by the indicator (`data-tier`). */
  static tier = "poll";

  #intervalMs;
  #timeoutMs;

  /** `intervalMs` is the server's poll_interval_ms; `timeoutMs` bounds each request. */
  constructor({ intervalMs = 30000, timeoutMs = 10000, ...options } = {}) {
    super(options);
    this.#intervalMs = Number.isFinite(intervalMs) && intervalMs > 0 ? intervalMs : 30000;
    this.#timeoutMs = timeoutMs;
  }

  /** The first request: at once. */
  firstRequest() {
    return { delayMs: 0, waitS: 0, timeoutMs: this.#timeoutMs };
  }

  /** The next request: one interval after the previous one started (at once for a full page). */
  nextRequest({ full, elapsedMs }) {
    const delayMs = full ? 0 : Math.max(0, this.#intervalMs - elapsedMs);
    return { delayMs, waitS: 0, timeoutMs: this.#timeoutMs };
  }
}
