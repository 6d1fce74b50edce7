/**
 * Transports: one way each of getting a conversation's entries from the server.
 *
 * Every transport has the same shape, so the negotiator can hold an ordered list of them
 * (SSE today; long-poll and poll later): `start(cursor)`, `stop()`, and callbacks the
 * owner sets — `onhello(data)`, `onentry(message)`, `onping(data)`, `onerror(reason)`
 * (recoverable, the transport is retrying by itself), `onclosed(reason)` (gone for good;
 * the owner decides what next). Transports never touch the DOM and never retry on their
 * own once closed: retries belong to the negotiator.
 */

// EventSource.CLOSED; spelled out so a test fake need not define the constant.
const CLOSED = 2;

/** Append `name=value` to a URL that may already carry a query string (e.g. `?token=`). */
export function withParam(url, name, value) {
  const hash = url.indexOf("#");
  const base = hash === -1 ? url : url.slice(0, hash);
  const sep = base.includes("?") ? (base.endsWith("?") || base.endsWith("&") ? "" : "&") : "?";
  return `${base}${sep}${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
}

/** Server-Sent Events transport: wraps one EventSource at a time. */
export class SseTransport {
  /** Tier name shown by the indicator (`data-tier`). */
  static tier = "sse";

  onhello = null;
  onentry = null;
  onping = null;
  onerror = null;
  onclosed = null;

  #url;
  #EventSource;
  #source = null;

  /** `url` already carries `?token=`; `start()` adds `after=<cursor>`. */
  constructor({ url, EventSource = globalThis.EventSource } = {}) {
    if (!url) throw new TypeError("SseTransport needs a url");
    if (typeof EventSource !== "function") throw new TypeError("EventSource is not available");
    this.#url = url;
    this.#EventSource = EventSource;
  }

  /** Open the stream after `cursor`; a running stream is closed first. */
  start(cursor = 0) {
    this.stop();
    // On its own reconnects the browser sends Last-Event-ID, which the server prefers over
    // `after`, so the URL's cursor only matters for this first connect.
    const source = new this.#EventSource(withParam(this.#url, "after", cursor));
    this.#source = source;
    source.addEventListener("hello", (event) => this.#deliver(source, "onhello", event));
    source.addEventListener("message", (event) => this.#deliver(source, "onentry", event));
    source.addEventListener("ping", (event) => this.#deliver(source, "onping", event));
    source.addEventListener("error", () => this.#failed(source));
  }

  /** Close the stream; no callback fires after this. */
  stop() {
    const source = this.#source;
    this.#source = null;
    source?.close();
  }

  #deliver(source, callback, event) {
    if (source !== this.#source) return; // a late event from a stream we already dropped
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      this.onerror?.(`invalid JSON in ${event.type || "event"}`);
      return;
    }
    this[callback]?.(data);
  }

  #failed(source) {
    if (source !== this.#source) return;
    if (source.readyState === CLOSED) {
      // A 502, a 401 or a wrong content type: the browser gives up and will not reconnect.
      this.#source = null;
      source.close();
      this.onclosed?.("stream closed");
    } else {
      // CONNECTING: the browser reconnects by itself (retry: ms, Last-Event-ID).
      this.onerror?.("stream interrupted");
    }
  }
}
