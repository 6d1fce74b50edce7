/**
 * DoctorProbe: what the admin's browser sees of the way to devtone (the real way, through
 * every proxy in front of it): the timings of the doctor's test stream and wait, the
 * server's clock and the HTTP version, as the observations that POST /api/doctor/findings
 * judges. It judges nothing: every rule is the server's (devtone/doctor/checks.py).
 */

/** Ms to wait for anything beyond what a probe itself takes. */
const SLACK_MS = 10_000;

/** The event names of an SSE body as they arrive (a ReadableStream of bytes). */
export async function* eventNames(body, decoder = new TextDecoder()) {
  const reader = body.getReader();
  let pending = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      pending += decoder.decode(value, { stream: true });
      const lines = pending.split(/\r\n|\r|\n/);
      pending = lines.pop();
      for (const line of lines) {
        if (line.startsWith("event:")) yield line.slice("event:".length).trim();
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** Gathers one run's observations; `fetch`, the clocks and the resource timings are injectable. */
export class DoctorProbe {
  #base;
  #fetch;
  #now;
  #wallClock;
  #resources;
  #timers;

  constructor({
    base = "/api",
    fetch = (...args) => globalThis.fetch(...args),
    now = () => globalThis.performance.now(),
    wallClock = () => Date.now(),
    resources = () => globalThis.performance.getEntriesByType("resource"),
    timers = globalThis,
  } = {}) {
    this.#base = base.replace(/\/+$/, "");
    this.#fetch = fetch;
    this.#now = now;
    this.#wallClock = wallClock;
    this.#resources = resources;
    this.#timers = timers;
  }

  /** Every probe (the stream and the wait side by side, then the clock). */
  async observe() {
    const negotiation = await this.#fetch(`${this.#base}/realtime/negotiate`, {
      headers: { Accept: "application/json" },
    }).then((response) => response.json());
    const { heartbeat_ms: heartbeatMs, longpoll_wait_s: waitS } = negotiation.timings;
    const [stream, wait] = await Promise.all([this.stream(heartbeatMs), this.wait(waitS)]);
    return {
      heartbeat_ms: heartbeatMs,
      stream,
      wait,
      clock: await this.clock(),
      http_version: this.httpVersion(),
    };
  }

  /** The test stream: when its headers, hello, ping and end came (ms since it was asked). */
  async stream(heartbeatMs) {
    const seen = {};
    await this.#timed(`${this.#base}/doctor/stream`, heartbeatMs + SLACK_MS, async (response, since) => {
      Object.assign(seen, {
        status: response.status,
        content_type: response.headers.get("Content-Type"),
        content_encoding: response.headers.get("Content-Encoding"),
        headers_ms: since(),
      });
      if (response.ok && response.body) {
        for await (const name of eventNames(response.body)) {
          if ((name === "hello" || name === "ping") && !(`${name}_ms` in seen)) seen[`${name}_ms`] = since();
        }
      }
    }, seen);
    return seen;
  }

  /** A request the server answers after `seconds`, as a long-poll request. */
  async wait(seconds) {
    const seen = { asked_s: seconds };
    await this.#timed(`${this.#base}/doctor/wait?seconds=${seconds}`, seconds * 1000 + SLACK_MS, async (response) => {
      seen.status = response.status;
      await response.arrayBuffer();
    }, seen, "answered_ms");
    return seen;
  }

  /** The server's time in a quick answer and this computer's clock around it; null if unread. */
  async clock() {
    const sent = this.#wallClock();
    try {
      const response = await this.#fetch(`${this.#base}/doctor/wait?seconds=0`, {
        headers: { Accept: "application/json" },
        cache: "no-store",
      });
      const body = await response.json();
      if (!response.ok) return null;
      return { server_time: body.time, sent_ms: sent, received_ms: this.#wallClock() };
    } catch {
      return null;
    }
  }

  /** The protocol the browser used for the doctor's requests ("h2", "http/1.1"), if it says. */
  httpVersion() {
    const entries = this.#resources().filter((entry) => entry.name.includes("/doctor/"));
    return entries.map((entry) => entry.nextHopProtocol).filter(Boolean).pop() ?? null;
  }

  // Fetch `url` with an abort after `limitMs`; `read(response, since)` reads it. `seen`
  // gets when it ended (as `endKey`) and, if it failed, what the browser said.
  async #timed(url, limitMs, read, seen, endKey = "ended_ms") {
    const started = this.#now();
    const since = () => Math.round(this.#now() - started);
    const controller = new AbortController();
    const timer = this.#timers.setTimeout(() => controller.abort(), limitMs);
    try {
      const response = await this.#fetch(url, { cache: "no-store", signal: controller.signal });
      await read(response, since);
    } catch (error) {
      seen.error = String(error?.message || error).slice(0, 200);
    } finally {
      this.#timers.clearTimeout(timer);
      seen[endKey] = since();
    }
  }
}
