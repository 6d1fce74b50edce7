import assert from "node:assert/strict";
import { test } from "node:test";

import { DEFAULT_TIMINGS, TierNegotiator, mergeTimings } from "../../devtone/static/js/realtime/negotiator.js";
import { FakeClock, FakeEventSource, flush } from "./fakes.mjs";

const NEGOTIATION = {
  tiers: ["sse"],
  timings: {
    hello_timeout_ms: 10000,
    heartbeat_ms: 15000,
    watchdog_heartbeats: 2.5,
    longpoll_wait_s: 25,
    poll_interval_ms: 30000,
    backoff: { initial_ms: 1000, max_ms: 30000, jitter: 0.2 },
  },
  server_time: "2026-11-24T20:00:00Z",
};

function message(seq, body = `m${seq}`) {
  return { seq, conversation_id: 7, kind: "text", sender: "agent", author: { name: "Ada" }, body };
}

/** A negotiator wired to fakes, with everything it reports collected. */
function setup({ cursor = 0, negotiation = NEGOTIATION, fetch } = {}) {
  FakeEventSource.instances = [];
  const clock = new FakeClock();
  const window = new EventTarget();
  const document = Object.assign(new EventTarget(), { visibilityState: "visible" });
  const logs = [];
  const requests = [];
  const fakeFetch =
    fetch ??
    (async (url, init) => {
      requests.push({ url, init });
      return { ok: true, status: 200, json: async () => structuredClone(negotiation) };
    });
  const negotiator = new TierNegotiator({
    negotiateUrl: "/api/realtime/negotiate",
    streamUrl: "/api/conversations/7/events?token=tok",
    cursor,
    fetch: fakeFetch,
    EventSource: FakeEventSource,
    window,
    document,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    logger: { info: (line) => logs.push(line) },
    now: () => clock.now,
    random: () => 0.5, // no jitter: delays are exact
  });
  const states = [];
  const messages = [];
  negotiator.addEventListener("statechange", (event) => states.push(event.detail));
  negotiator.addEventListener("message", (event) => messages.push(event.detail));
  const source = () => FakeEventSource.instances.at(-1);
  return { negotiator, clock, window, document, logs, requests, states, messages, source };
}

async function live(options) {
  const env = setup(options);
  await env.negotiator.start();
  env.source().emit("hello", { time: "t", tier: "sse", cursor: options?.cursor ?? 0 });
  return env;
}

// ── connecting ───────────────────────────────────────────────────────────────────────

test("start negotiates and then opens SSE after the cursor, keeping the token", async () => {
  const { negotiator, requests, source, states } = setup({ cursor: 12 });
  await negotiator.start();
  assert.equal(requests.length, 1);
  assert.equal(requests[0].url, "/api/realtime/negotiate");
  assert.equal(source().url, "/api/conversations/7/events?token=tok&after=12");
  assert.deepEqual(
    states.map(({ state, tier }) => [state, tier]),
    [["connecting", "sse"]],
  );
  assert.equal(negotiator.state, "connecting");
  assert.equal(negotiator.tier, "sse");
});

test("hello makes the connection live", async () => {
  const { negotiator, states } = await live();
  assert.equal(negotiator.state, "live");
  assert.deepEqual(states.at(-1), {
    state: "live",
    tier: "sse",
    previous: { state: "connecting", tier: "sse" },
    code: "upgrade",
    reason: "hello",
    nextRetryAt: null,
  });
});

test("hello is also dispatched with its data", async () => {
  const env = setup();
  const hellos = [];
  env.negotiator.addEventListener("hello", (event) => hellos.push(event.detail));
  await env.negotiator.start();
  env.source().emit("hello", { tier: "sse", cursor: 0, conversation: { id: 7, status: "active" } });
  assert.equal(hellos[0].conversation.status, "active");
});

// ── delivery ─────────────────────────────────────────────────────────────────────────

test("new entries are dispatched in order and the cursor follows them", async () => {
  const { negotiator, source, messages } = await live({ cursor: 2 });
  for (const seq of [3, 4, 5]) source().emit("message", message(seq), String(seq));
  assert.deepEqual(
    messages.map((m) => m.seq),
    [3, 4, 5],
  );
  assert.equal(negotiator.cursor, 5);
});

test("entries at or below the cursor are dropped", async () => {
  const { negotiator, source, messages } = await live({ cursor: 5 });
  for (const seq of [4, 5, 6, 6, 5, 7]) source().emit("message", message(seq), String(seq));
  assert.deepEqual(
    messages.map((m) => m.seq),
    [6, 7],
  );
  assert.equal(negotiator.cursor, 7);
});

test("a gap in seq is accepted because the server guarantees order", async () => {
  const { negotiator, source, messages } = await live({ cursor: 1 });
  source().emit("message", message(4), "4");
  assert.deepEqual(
    messages.map((m) => m.seq),
    [4],
  );
  assert.equal(negotiator.cursor, 4);
});

test("an entry without a whole-number seq is ignored", async () => {
  const { source, messages } = await live();
  source().emit("message", { body: "no seq" });
  source().emit("message", { ...message(1), seq: "1" });
  assert.equal(messages.length, 0);
});

// ── hello timeout ────────────────────────────────────────────────────────────────────

test("no hello within the timeout logs SSE timeout and goes offline with a retry time", async () => {
  const { negotiator, clock, logs, source, states } = setup();
  await negotiator.start();
  const first = source();
  clock.advance(9999);
  assert.equal(negotiator.state, "connecting");
  clock.advance(1);
  assert.equal(first.closed, true);
  assert.equal(negotiator.state, "offline");
  assert.equal(negotiator.tier, "none");
  assert.deepEqual(logs, ["SSE timeout", "Retrying connection in 1000ms (attempt 1)"]);
  assert.equal(states.at(-1).nextRetryAt, clock.now + 1000);
  assert.equal(negotiator.nextRetryAt, clock.now + 1000);
  assert.equal(states.at(-1).reason, "SSE timeout");
  assert.equal(states.at(-1).code, "timeout");
});

test("the retry reconnects from the cursor after the backoff delay", async () => {
  const { negotiator, clock, requests, source } = setup({ cursor: 3 });
  await negotiator.start();
  clock.advance(10000);
  const count = FakeEventSource.instances.length;
  clock.advance(999);
  assert.equal(FakeEventSource.instances.length, count);
  clock.advance(1);
  await flush();
  assert.equal(requests.length, 2, "negotiates again");
  assert.equal(FakeEventSource.instances.length, count + 1);
  assert.equal(source().afterParam, "3");
  assert.equal(negotiator.state, "connecting");
});

test("retries back off 1 s, 2 s, 4 s until hello resets the attempt counter", async () => {
  const { negotiator, clock, logs, source } = setup();
  await negotiator.start();
  for (const delay of [1000, 2000, 4000]) {
    clock.advance(10000); // hello timeout
    clock.advance(delay); // retry timer
    await flush();
  }
  assert.deepEqual(
    logs.filter((line) => line.startsWith("Retrying")),
    [
      "Retrying connection in 1000ms (attempt 1)",
      "Retrying connection in 2000ms (attempt 2)",
      "Retrying connection in 4000ms (attempt 3)",
    ],
  );
  source().emit("hello", {});
  source().fail(2);
  assert.equal(logs.at(-1), "Retrying connection in 1000ms (attempt 1)");
});

test("an open stream without hello does not reset the attempt counter", async () => {
  const { negotiator, clock, logs, source } = setup();
  await negotiator.start();
  clock.advance(10000);
  clock.advance(1000);
  await flush();
  source().readyState = 1; // onopen: bytes may still be stuck in a proxy
  clock.advance(10000);
  assert.equal(logs.at(-1), "Retrying connection in 2000ms (attempt 2)");
});

// ── watchdog ─────────────────────────────────────────────────────────────────────────

test("a live stream silent for 2.5 heartbeats is dropped and reconnected from the cursor", async () => {
  const { negotiator, clock, source, logs } = await live({ cursor: 4 });
  source().emit("message", message(5), "5");
  const dead = source();
  clock.advance(37499);
  assert.equal(negotiator.state, "live");
  clock.advance(1);
  assert.equal(dead.closed, true);
  assert.equal(negotiator.state, "offline");
  assert.equal(logs.at(-1), "Retrying connection in 1000ms (attempt 1)");
  clock.advance(1000);
  await flush();
  assert.equal(source().afterParam, "5");
});

test("pings and messages keep the watchdog from firing", async () => {
  const { negotiator, clock, source } = await live();
  for (let i = 0; i < 10; i += 1) {
    clock.advance(15000);
    source().emit("ping", { time: "t" });
  }
  clock.advance(30000);
  source().emit("message", message(1), "1");
  clock.advance(30000);
  assert.equal(negotiator.state, "live");
  assert.equal(clock.pending, 1, "only the watchdog is armed");
});

test("the watchdog follows the negotiated heartbeat", async () => {
  const negotiation = structuredClone(NEGOTIATION);
  negotiation.timings.heartbeat_ms = 1000;
  negotiation.timings.watchdog_heartbeats = 2;
  const { negotiator, clock } = await live({ negotiation });
  clock.advance(1999);
  assert.equal(negotiator.state, "live");
  clock.advance(1);
  assert.equal(negotiator.state, "offline");
});

// ── EventSource errors ───────────────────────────────────────────────────────────────

test("an EventSource that ends CLOSED goes offline and retries with backoff", async () => {
  const { negotiator, clock, source, states, logs } = await live({ cursor: 9 });
  const closed = source();
  closed.fail(2);
  assert.equal(negotiator.state, "offline");
  assert.equal(states.at(-1).reason, "SSE stream closed");
  assert.equal(states.at(-1).code, "closed");
  assert.equal(logs.at(-1), "Retrying connection in 1000ms (attempt 1)");
  clock.advance(1000);
  await flush();
  assert.notEqual(source(), closed);
  assert.equal(source().afterParam, "9");
});

test("a CLOSED EventSource before hello also retries", async () => {
  const { negotiator, source } = setup();
  await negotiator.start();
  source().fail(2);
  assert.equal(negotiator.state, "offline");
});

test("a reconnecting EventSource shows connecting until hello comes back", async () => {
  const { negotiator, clock, source, states } = await live();
  const stream = source();
  stream.fail(0); // CONNECTING: the browser retries with Last-Event-ID itself
  assert.equal(negotiator.state, "connecting");
  assert.equal(negotiator.tier, "sse");
  assert.equal(states.at(-1).reason, "stream interrupted");
  assert.equal(states.at(-1).code, "failed");
  clock.advance(3000);
  stream.emit("hello", {});
  assert.equal(negotiator.state, "live");
  assert.equal(FakeEventSource.instances.length, 1, "no new EventSource was needed");
});

test("a reconnecting EventSource that never says hello times out", async () => {
  const { negotiator, clock, source, logs } = await live();
  source().fail(0);
  clock.advance(10000);
  assert.equal(negotiator.state, "offline");
  assert.ok(logs.includes("SSE timeout"));
});

// ── negotiation failures ─────────────────────────────────────────────────────────────

test("a failed negotiation goes offline and retries", async () => {
  let calls = 0;
  const fetch = async () => {
    calls += 1;
    if (calls === 1) throw new TypeError("Failed to fetch");
    return { ok: true, status: 200, json: async () => structuredClone(NEGOTIATION) };
  };
  const { negotiator, clock, source, states } = setup({ fetch });
  await negotiator.start();
  assert.equal(negotiator.state, "offline");
  assert.match(states.at(-1).reason, /negotiate failed: Failed to fetch/);
  assert.equal(FakeEventSource.instances.length, 0);
  clock.advance(1000);
  await flush();
  assert.equal(calls, 2);
  assert.equal(source().afterParam, "0");
});

test("a negotiation answered with an error status goes offline", async () => {
  const fetch = async () => ({ ok: false, status: 502, json: async () => ({}) });
  const { negotiator, states } = setup({ fetch });
  await negotiator.start();
  assert.equal(negotiator.state, "offline");
  assert.equal(states.at(-1).reason, "negotiate failed: HTTP 502");
  assert.equal(states.at(-1).code, "failed");
});

test("a negotiation that never answers times out and is aborted", async () => {
  let signal;
  const fetch = (url, init) => {
    signal = init.signal;
    return new Promise((resolve, reject) =>
      signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))),
    );
  };
  const { negotiator, clock } = setup({ fetch });
  const started = negotiator.start();
  clock.advance(10000);
  await started;
  assert.equal(signal.aborted, true);
  assert.equal(negotiator.state, "offline");
});

test("a server that allows no known tier leaves the page offline and retrying", async () => {
  const { negotiator, logs } = setup({ negotiation: { ...NEGOTIATION, tiers: ["carrier-pigeon"] } });
  await negotiator.start();
  assert.equal(negotiator.state, "offline");
  assert.equal(FakeEventSource.instances.length, 0);
  assert.equal(logs.at(-1), "Retrying connection in 1000ms (attempt 1)");
});

// ── waking up ────────────────────────────────────────────────────────────────────────

test("the browser's online event retries at once", async () => {
  const { negotiator, clock, window, source } = setup();
  await negotiator.start();
  clock.advance(10000);
  assert.equal(negotiator.state, "offline");
  window.dispatchEvent(new Event("online"));
  await flush();
  assert.equal(negotiator.state, "connecting");
  assert.equal(FakeEventSource.instances.length, 2);
  source().emit("hello", {});
  assert.equal(negotiator.state, "live");
});

test("a tab becoming visible retries at once, a hidden one does not", async () => {
  const { negotiator, clock, document } = setup();
  await negotiator.start();
  clock.advance(10000);
  document.visibilityState = "hidden";
  document.dispatchEvent(new Event("visibilitychange"));
  await flush();
  assert.equal(negotiator.state, "offline");
  document.visibilityState = "visible";
  document.dispatchEvent(new Event("visibilitychange"));
  await flush();
  assert.equal(negotiator.state, "connecting");
});

test("pageshow retries at once", async () => {
  const { negotiator, clock, window } = setup();
  await negotiator.start();
  clock.advance(10000);
  window.dispatchEvent(new Event("pageshow"));
  await flush();
  assert.equal(negotiator.state, "connecting");
});

test("waking up while live keeps a fresh stream", async () => {
  const { negotiator, window } = await live();
  window.dispatchEvent(new Event("online"));
  await flush();
  assert.equal(negotiator.state, "live");
  assert.equal(FakeEventSource.instances.length, 1);
});

test("waking up while live replaces a stream whose watchdog was throttled", async () => {
  const { negotiator, clock, document } = await live({ cursor: 2 });
  clock.now += 60000; // the tab slept: time passed but no timer ran
  document.dispatchEvent(new Event("visibilitychange"));
  await flush();
  assert.equal(FakeEventSource.instances[0].closed, true);
  assert.equal(FakeEventSource.instances.length, 2);
  assert.equal(FakeEventSource.instances[1].afterParam, "2");
});

test("a wake-up does not count as an attempt", async () => {
  const { negotiator, clock, window, logs } = setup();
  await negotiator.start();
  clock.advance(10000);
  window.dispatchEvent(new Event("online"));
  await flush();
  clock.advance(10000);
  assert.equal(logs.at(-1), "Retrying connection in 2000ms (attempt 2)");
});

// ── close ────────────────────────────────────────────────────────────────────────────

test("close clears every timer, listener and stream", async () => {
  const { negotiator, clock, window, source, messages } = await live();
  const stream = source();
  negotiator.close();
  assert.equal(stream.closed, true);
  assert.equal(clock.pending, 0);
  assert.equal(negotiator.state, "offline");
  stream.emit("message", message(1), "1");
  window.dispatchEvent(new Event("online"));
  await flush();
  clock.advance(120000);
  assert.equal(messages.length, 0);
  assert.equal(FakeEventSource.instances.length, 1);
});

test("close while offline cancels the pending retry", async () => {
  const { negotiator, clock } = setup();
  await negotiator.start();
  clock.advance(10000);
  negotiator.close();
  assert.equal(clock.pending, 0);
  clock.advance(60000);
  await flush();
  assert.equal(FakeEventSource.instances.length, 1);
});

test("close during negotiation aborts it and opens nothing", async () => {
  let signal;
  let answer;
  const fetch = (url, init) => {
    signal = init.signal;
    return new Promise((resolve) => {
      answer = resolve;
    });
  };
  const { negotiator, clock } = setup({ fetch });
  const started = negotiator.start();
  negotiator.close();
  answer({ ok: true, status: 200, json: async () => structuredClone(NEGOTIATION) });
  await started;
  assert.equal(signal.aborted, true);
  assert.equal(FakeEventSource.instances.length, 0);
  assert.equal(clock.pending, 0);
});

test("start after close does nothing", async () => {
  const { negotiator, requests } = setup();
  negotiator.close();
  await negotiator.start();
  assert.equal(requests.length, 0);
});

// ── timings ──────────────────────────────────────────────────────────────────────────

test("timings fall back to the defaults for anything missing or unusable", () => {
  const timings = mergeTimings({ hello_timeout_ms: 5000, heartbeat_ms: "soon", backoff: { max_ms: 8000 } });
  assert.equal(timings.hello_timeout_ms, 5000);
  assert.equal(timings.heartbeat_ms, DEFAULT_TIMINGS.heartbeat_ms);
  assert.deepEqual(timings.backoff, { initial_ms: 1000, max_ms: 8000, jitter: 0.2 });
  assert.deepEqual(mergeTimings(undefined), mergeTimings({}));
});
