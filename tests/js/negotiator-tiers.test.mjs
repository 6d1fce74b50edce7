// The negotiator's ladder (DESIGN.md §2 steps 2-6): SSE → long-poll → poll → offline, the
// background climb back to the top tier, and close() leaving nothing behind.
import assert from "node:assert/strict";
import { test } from "node:test";

import { TierNegotiator } from "../../devtone/static/js/realtime/negotiator.js";
import {
  CountingTarget,
  FakeClock,
  FakeEventSource,
  FakeFetch,
  TIMINGS,
  entry,
  flush,
  page,
  response,
} from "./fakes.mjs";

const NEGOTIATE = "/api/realtime/negotiate";
const MESSAGES = "/api/conversations/7/messages";

/** A negotiator on fakes; the negotiate request is answered at once, messages requests by the test. */
function setup({ tiers = ["sse", "longpoll", "poll"], cursor = 0, timings = {}, random = () => 0.5 } = {}) {
  FakeEventSource.instances = [];
  const clock = new FakeClock();
  const negotiation = { tiers, timings: { ...TIMINGS, ...timings } };
  const fetch = new FakeFetch((url) => (url === NEGOTIATE ? response(200, negotiation) : undefined));
  const window = new CountingTarget();
  const document = Object.assign(new CountingTarget(), { visibilityState: "visible" });
  const logs = [];
  const negotiator = new TierNegotiator({
    negotiateUrl: NEGOTIATE,
    streamUrl: "/api/conversations/7/events?token=tok",
    messagesUrl: `${MESSAGES}?token=tok`,
    cursor,
    fetch: fetch.fetch,
    EventSource: FakeEventSource,
    window,
    document,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    logger: { info: (line) => logs.push(line) },
    now: () => clock.now,
    random,
  });
  const states = [];
  const messages = [];
  const denials = [];
  negotiator.addEventListener("statechange", (event) => states.push(event.detail));
  negotiator.addEventListener("message", (event) => messages.push(event.detail.seq));
  negotiator.addEventListener("denied", (event) => denials.push(event.detail));
  const env = {
    negotiator,
    clock,
    fetch,
    window,
    document,
    logs,
    states,
    messages,
    denials,
    sse: () => FakeEventSource.instances.at(-1),
    http: () => fetch.last(MESSAGES), // the latest long-poll or poll request
    httpCount: () => fetch.to(MESSAGES).length,
    state: () => [negotiator.state, negotiator.tier],
    /** Answer the open messages request (the lower tier) and let it run. */
    async answer(seqs = [], status = 200) {
      const request = fetch.open.find((r) => r.path === MESSAGES);
      assert.ok(request, "a messages request is open");
      request.respond(status, status === 200 ? page(seqs, Math.max(negotiator.cursor, ...seqs)) : { error: {} });
      await flush();
      return request;
    },
  };
  return env;
}

/** Started: long-poll delivered `seqs` at once (the head start), SSE timed out: polling on long-poll. */
async function onLongPoll(options = {}, seqs = []) {
  const env = setup(options);
  await env.negotiator.start();
  await env.answer(seqs);
  env.clock.advance(options.timings?.hello_timeout_ms ?? 10000);
  assert.deepEqual(env.state(), ["polling", "longpoll"]);
  return env;
}

// ── walking down ─────────────────────────────────────────────────────────────────────

// ── the head start: long-poll delivers from t = 0 while SSE proves itself ──────────────

test("from t = 0 long-poll delivers while SSE proves itself; past SSE's deadline the page polls, with the exact log line", async () => {
  const { negotiator, clock, logs, sse, http, state, states, messages, answer } = setup({ cursor: 3 });
  await negotiator.start();
  const stream = sse();
  assert.equal(stream.afterParam, "3");
  assert.equal(http().url, `${MESSAGES}?token=tok&after=3&wait=0&limit=100`, "both start at once");
  assert.deepEqual(state(), ["connecting", "sse"]);

  await answer([4]);
  assert.deepEqual(messages, [4], "delivered before SSE proved anything");
  assert.deepEqual(state(), ["connecting", "sse"], "the indicator waits for SSE's verdict");
  assert.equal(http().params.get("wait"), "25", "then it waits for news");
  clock.advance(9999);
  assert.deepEqual(state(), ["connecting", "sse"]);
  clock.advance(1);
  assert.equal(stream.closed, true);
  assert.deepEqual(logs, ["SSE timeout, falling back to long-poll", "Retrying connection in 1000ms (attempt 1)"]);
  assert.deepEqual(states.slice(1), [
    {
      state: "polling",
      tier: "longpoll",
      previous: { state: "connecting", tier: "sse" },
      code: "timeout",
      reason: "SSE timeout",
      nextRetryAt: clock.now + 1000,
    },
  ]);
  assert.equal(http().settled, false, "the long-poll went on all along");
});

test("SSE's hello hands over at the exact cursor: long-poll stops, the stream's replay is dropped, nothing skipped", async () => {
  const { negotiator, fetch, logs, sse, http, state, states, messages, answer, httpCount } = setup({ cursor: 3 });
  await negotiator.start();
  const stream = sse();
  await answer([4, 5]);
  const waiting = http();
  stream.emit("hello", { tier: "sse", cursor: 3 });
  assert.deepEqual(state(), ["live", "sse"]);
  assert.deepEqual(
    states.map(({ state, tier }) => `${state}/${tier}`),
    ["connecting/sse", "live/sse"],
    "Connecting… then Live: no flicker through Polling",
  );
  assert.equal(waiting.aborted, true, "the long-poll stopped");
  assert.equal(fetch.open.length, 0);
  assert.equal(logs.at(-1), "Head start over - SSE said hello, long-poll stopped");
  // The stream opened after 3 replays 4 and 5, which long-poll already delivered.
  for (const seq of [4, 5, 6, 7]) stream.emit("message", entry(seq), String(seq));
  assert.deepEqual(messages, [4, 5, 6, 7]);
  const count = httpCount();
  await flush();
  assert.equal(httpCount(), count, "no long-poll request after the hand-over");
});

test("SSE saying hello before long-poll's first answer stops it; the late answer is dropped", async () => {
  const { negotiator, sse, http, state, messages } = setup({ cursor: 3 });
  await negotiator.start();
  const first = http();
  first.respond(200, page([4])); // answered, but not yet read…
  sse().emit("hello", {}); // …when SSE proves itself
  await flush();
  assert.deepEqual(state(), ["live", "sse"]);
  assert.deepEqual(messages, [], "the stopped long-poll delivers nothing");
  sse().emit("message", entry(4), "4");
  assert.deepEqual(messages, [4]);
});

test("during the head start a failing long-poll falls to poll unannounced; hello still hands over", async () => {
  const { negotiator, logs, sse, http, state, states, messages, answer, fetch } = setup();
  await negotiator.start();
  await answer([], 502);
  assert.ok(logs.includes("long-poll failed: HTTP 502, falling back to poll"));
  assert.deepEqual(state(), ["connecting", "sse"]);
  assert.equal(http().params.get("wait"), "0", "poll delivers now");
  await answer([1]);
  assert.deepEqual(messages, [1]);
  sse().emit("hello", {});
  assert.deepEqual(state(), ["live", "sse"]);
  assert.equal(fetch.open.length, 0, "poll stopped");
  assert.ok(!states.some(({ state }) => state === "polling"));
});

test("with every lower tier failed during the head start, SSE's deadline means offline; the retry starts a head start again", async () => {
  const { negotiator, clock, logs, sse, http, state, answer } = setup();
  await negotiator.start();
  await answer([], 502); // long-poll
  await answer([], 502); // poll
  assert.deepEqual(state(), ["connecting", "sse"], "SSE may still prove itself");
  clock.advance(10000);
  assert.deepEqual(state(), ["offline", "none"]);
  assert.deepEqual(logs.slice(-2), ["SSE timeout", "Retrying connection in 1000ms (attempt 1)"]);
  clock.advance(1000);
  await flush();
  assert.deepEqual(state(), ["connecting", "sse"]);
  assert.equal(sse().closed, false);
  assert.equal(http().settled, false, "long-poll delivers from the first second again");
});

test("long-poll failing falls back to poll from the cursor", async () => {
  const env = await onLongPoll({}, [1, 2]);
  await env.answer([], 502);
  assert.ok(env.logs.includes("long-poll failed: HTTP 502, falling back to poll"));
  assert.deepEqual(env.state(), ["connecting", "poll"]);
  assert.equal(env.http().params.get("after"), "2");
  assert.equal(env.http().params.get("wait"), "0");
  await env.answer([3]);
  assert.deepEqual(env.state(), ["polling", "poll"]);
  assert.deepEqual(env.messages, [1, 2, 3]);
  // SSE has not said hello since, so its retries keep backing off.
  assert.equal(env.logs.at(-1), "Retrying connection in 2000ms (attempt 2)");
  // Poll goes on every 30 s.
  const count = env.httpCount();
  env.clock.advance(1999); // before the SSE probe
  assert.equal(env.httpCount(), count);
});

test("a long-poll the proxy never answers counts as failed", async () => {
  const env = await onLongPoll();
  const waiting = env.http();
  env.clock.advance(1000); // probe SSE opens
  env.clock.advance(10000); // probe times out
  env.clock.advance(19000); // 30 s: the long-poll's wait + grace
  await flush();
  assert.equal(waiting.aborted, true);
  assert.ok(env.logs.includes("long-poll timed out, falling back to poll"));
  assert.deepEqual(env.state(), ["connecting", "poll"]);
});

test("poll failing goes offline, closes everything and retries from the top", async () => {
  const env = await onLongPoll();
  await env.answer([], 503);
  env.http().fail(new TypeError("Failed to fetch"));
  await flush();
  assert.deepEqual(env.state(), ["offline", "none"]);
  assert.deepEqual(env.logs.slice(-2), ["poll failed: network error", "Retrying connection in 1000ms (attempt 1)"]);
  assert.equal(env.fetch.open.length, 0);
  assert.equal(FakeEventSource.open.length, 0);
  assert.equal(env.clock.pending, 1, "only the retry");
  env.clock.advance(1000);
  await flush();
  assert.deepEqual(env.state(), ["connecting", "sse"], "a retry negotiates and starts again at SSE");
});

test("offline retries back off and a lower tier's first success resets their count", async () => {
  const env = setup({ tiers: ["longpoll", "poll"] });
  await env.negotiator.start();
  const failAll = async () => {
    await env.answer([], 502); // long-poll
    await env.answer([], 502); // poll
  };
  await failAll();
  env.clock.advance(1000);
  await flush();
  await failAll();
  assert.deepEqual(
    env.logs.filter((line) => line.startsWith("Retrying")),
    ["Retrying connection in 1000ms (attempt 1)", "Retrying connection in 2000ms (attempt 2)"],
  );
  env.clock.advance(2000);
  await flush();
  await env.answer([]); // long-poll works again
  await env.answer([], 502);
  await env.answer([], 502);
  assert.equal(env.logs.at(-1), "Retrying connection in 1000ms (attempt 1)");
});

// ── climbing back ────────────────────────────────────────────────────────────────────

test("while polling, SSE is retried in the background at 1, 2, 4, 8, 16, 30, 30 s", async () => {
  // A 30 s wait times out after 36 s, longer than one cycle of 30 s + the 1 s hello timeout.
  const env = await onLongPoll({ timings: { hello_timeout_ms: 1000, longpoll_wait_s: 30 } });
  for (let i = 0; i < 7; i += 1) {
    const delay = env.negotiator.nextRetryAt - env.clock.now;
    const before = FakeEventSource.instances.length;
    env.clock.advance(delay - 1);
    assert.equal(FakeEventSource.instances.length, before, "not before its time");
    env.clock.advance(1);
    assert.equal(FakeEventSource.instances.length, before + 1, "the probe opens");
    env.clock.advance(1000); // no hello: the probe gives up
    assert.equal(env.sse().closed, true);
    await env.answer([]); // meanwhile the long-poll keeps answering
  }
  assert.deepEqual(
    env.logs.filter((line) => line.startsWith("Retrying")),
    [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000].map(
      (ms, i) => `Retrying connection in ${ms}ms (attempt ${i + 1})`,
    ),
  );
  assert.deepEqual(env.state(), ["polling", "longpoll"], "the page kept polling all along");
});

test("a failed probe announces the next retry time without changing state", async () => {
  const env = await onLongPoll();
  env.clock.advance(1000);
  env.clock.advance(10000);
  const last = env.states.at(-1);
  assert.equal(last.state, "polling");
  assert.equal(last.tier, "longpoll");
  assert.equal(last.reason, "SSE timeout");
  assert.equal(last.code, "timeout");
  assert.equal(last.nextRetryAt, env.clock.now + 2000);
  assert.deepEqual(env.logs.slice(-2), ["SSE timeout", "Retrying connection in 2000ms (attempt 2)"]);
});

test("jitter is drawn for every attempt", async () => {
  const draws = [0.5, 0, 0.999999, 0.25];
  const env = await onLongPoll({ timings: { hello_timeout_ms: 1000 }, random: () => draws.shift() ?? 0.5 });
  for (let i = 0; i < 3; i += 1) {
    env.clock.advance(env.negotiator.nextRetryAt - env.clock.now + 1000); // probe out, then timed out
    await env.answer([]);
  }
  assert.deepEqual(
    env.logs.filter((line) => line.startsWith("Retrying")),
    [
      "Retrying connection in 1000ms (attempt 1)", // 1000 ± 0
      "Retrying connection in 1600ms (attempt 2)", // 2000 − 20 %
      "Retrying connection in 4800ms (attempt 3)", // 4000 + 20 %
      "Retrying connection in 7200ms (attempt 4)", // 8000 − 10 %
    ],
  );
});

test("SSE saying hello takes over: the lower tier stops, nothing is shown twice or out of order", async () => {
  const env = await onLongPoll({}, [1, 2]);
  env.clock.advance(1000);
  const probe = env.sse();
  assert.equal(probe.afterParam, "2", "the probe starts from the cursor");
  await env.answer([3]); // the long-poll still delivers meanwhile
  assert.deepEqual(env.messages, [1, 2, 3]);
  const lower = env.http();
  assert.equal(lower.settled, false);

  probe.emit("hello", { tier: "sse", cursor: 2 });
  assert.equal(env.logs.at(-1), "Polling stopped - SSE reconnected");
  assert.deepEqual(env.state(), ["live", "sse"]);
  assert.equal(lower.aborted, true, "the lower tier was stopped");
  assert.equal(env.fetch.open.length, 0);
  assert.equal(env.negotiator.nextRetryAt, null);

  for (const seq of [3, 4, 5]) probe.emit("message", entry(seq), String(seq)); // backlog overlaps
  assert.deepEqual(env.messages, [1, 2, 3, 4, 5]);
  const count = env.httpCount();
  for (let i = 0; i < 8; i += 1) {
    env.clock.advance(15000);
    probe.emit("ping", { time: "t" });
  }
  await flush();
  assert.equal(env.httpCount(), count, "no lower tier runs once SSE is live");
  assert.deepEqual(env.state(), ["live", "sse"]);
});

test("an answer of the lower tier that lands after the switch is dropped", async () => {
  const env = await onLongPoll({}, [1]);
  env.clock.advance(1000);
  const probe = env.sse();
  env.http().respond(200, page([2, 3])); // answered, but not yet read…
  probe.emit("hello", {}); // …when SSE takes over
  await flush();
  assert.deepEqual(env.messages, [1]);
  probe.emit("message", entry(2), "2");
  probe.emit("message", entry(3), "3");
  assert.deepEqual(env.messages, [1, 2, 3]);
});

test("the probe delivers nothing before its hello", async () => {
  const env = await onLongPoll({}, [1]);
  env.clock.advance(1000);
  env.sse().emit("message", entry(2), "2"); // a probe that never says hello
  assert.deepEqual(env.messages, [1]);
  assert.equal(env.negotiator.cursor, 1);
  env.clock.advance(10000);
  assert.deepEqual(env.messages, [1], "and nothing when it gives up");

  env.clock.advance(2000);
  const probe = env.sse();
  probe.emit("message", entry(2), "2"); // out of protocol: before hello
  assert.deepEqual(env.messages, [1]);
  probe.emit("hello", {});
  assert.deepEqual(env.messages, [1, 2], "held back until hello, then delivered once");
});

test("the SSE attempt counter resets only on hello, not on an open stream", async () => {
  const env = await onLongPoll();
  env.clock.advance(1000);
  env.clock.advance(10000); // attempt 1 failed
  await env.answer([]); // the long-poll keeps answering
  env.clock.advance(2000);
  env.sse().readyState = 1; // onopen: bytes may still be stuck in a proxy
  env.clock.advance(10000);
  await env.answer([]);
  assert.equal(env.logs.at(-1), "Retrying connection in 4000ms (attempt 3)");
  env.clock.advance(4000);
  env.sse().emit("hello", {});
  assert.deepEqual(env.state(), ["live", "sse"]);
  env.sse().fail(2); // CLOSED: a 502 ends the stream for good
  assert.ok(env.logs.includes("SSE stream closed, falling back to long-poll"));
  await env.answer([]);
  assert.equal(env.logs.at(-1), "Retrying connection in 1000ms (attempt 1)");
});

test("a CLOSED EventSource while live falls back to long-poll from the cursor", async () => {
  const env = setup();
  await env.negotiator.start();
  env.sse().emit("hello", {});
  env.sse().emit("message", entry(1), "1");
  env.sse().fail(2);
  assert.deepEqual(env.state(), ["connecting", "longpoll"]);
  assert.equal(env.http().params.get("after"), "1");
  assert.equal(env.logs.at(-1), "SSE stream closed, falling back to long-poll");
});

test("the watchdog drops a silent live stream and falls back to long-poll", async () => {
  const env = setup();
  await env.negotiator.start();
  const stream = env.sse();
  stream.emit("hello", {});
  env.clock.advance(37500);
  assert.equal(stream.closed, true);
  assert.equal(env.logs.at(-1), "SSE stream silent for 37500ms, falling back to long-poll");
  assert.deepEqual(env.state(), ["connecting", "longpoll"]);
});

test("online or a visible tab retries the live connection at once while polling", async () => {
  for (const wake of [
    (env) => env.window.dispatchEvent(new Event("online")),
    (env) => env.document.dispatchEvent(new Event("visibilitychange")),
    (env) => env.window.dispatchEvent(new Event("pageshow")),
  ]) {
    const env = await onLongPoll();
    const before = FakeEventSource.instances.length;
    wake(env);
    assert.equal(FakeEventSource.instances.length, before + 1, "the probe opens at once");
    assert.equal(env.negotiator.nextRetryAt, null);
    wake(env); // a second wake-up while it is out opens no second probe
    assert.equal(FakeEventSource.instances.length, before + 1);
    env.clock.advance(10000);
    assert.equal(env.logs.at(-1), "Retrying connection in 2000ms (attempt 2)", "a wake-up is no attempt");
    env.negotiator.close();
  }
});

test("online retries at once while offline, from the top", async () => {
  const env = await onLongPoll();
  await env.answer([], 502);
  await env.answer([], 502);
  assert.deepEqual(env.state(), ["offline", "none"]);
  env.window.dispatchEvent(new Event("online"));
  await flush();
  assert.deepEqual(env.state(), ["connecting", "sse"]);
});

// ── what the operator allows ─────────────────────────────────────────────────────────

test("with SSE disabled, long-poll is the top tier and is probed while on poll", async () => {
  const env = setup({ tiers: ["longpoll", "poll"] });
  await env.negotiator.start();
  assert.deepEqual(env.state(), ["connecting", "longpoll"]);
  await env.answer([1]);
  assert.deepEqual(env.state(), ["polling", "longpoll"]);
  assert.equal(env.negotiator.nextRetryAt, null, "on the top tier: nothing to climb to");
  assert.ok(!env.logs.some((line) => line.startsWith("Retrying")));

  await env.answer([], 502);
  assert.equal(env.logs.at(-1), "long-poll failed: HTTP 502, falling back to poll");
  await env.answer([2]);
  assert.deepEqual(env.state(), ["polling", "poll"]);
  assert.equal(env.logs.at(-1), "Retrying connection in 1000ms (attempt 1)");

  env.clock.advance(1000); // the long-poll probe; poll is between requests
  assert.equal(env.fetch.open.length, 1, "never two requests out at once here");
  assert.equal(env.http().params.get("after"), "2");
  await env.answer([3]);
  assert.equal(env.logs.at(-1), "Polling stopped - long-poll reconnected");
  assert.deepEqual(env.state(), ["polling", "longpoll"]);
  assert.deepEqual(env.messages, [1, 2, 3]);
  assert.equal(env.http().params.get("wait"), "25");
  const count = env.httpCount();
  env.clock.advance(29000); // poll's next turn would have come: it is stopped
  assert.equal(env.httpCount(), count);
  assert.equal(FakeEventSource.instances.length, 0, "SSE is never tried");
});

test("the server's order is honoured", async () => {
  const env = setup({ tiers: ["poll", "longpoll"] });
  await env.negotiator.start();
  assert.deepEqual(env.state(), ["connecting", "poll"]);
  await env.answer([]);
  assert.deepEqual(env.state(), ["polling", "poll"]);
  assert.equal(env.negotiator.nextRetryAt, null);
});

test("poll alone polls and never probes", async () => {
  const env = setup({ tiers: ["poll"] });
  await env.negotiator.start();
  await env.answer([1]);
  env.clock.advance(30000);
  await env.answer([2]);
  assert.deepEqual(env.messages, [1, 2]);
  assert.equal(FakeEventSource.instances.length, 0);
  assert.deepEqual(env.logs, []);
});

test("a tier the page has no URL for is skipped", async () => {
  FakeEventSource.instances = [];
  const clock = new FakeClock();
  const fetch = new FakeFetch(() => response(200, { tiers: ["sse", "longpoll", "poll"], timings: TIMINGS }));
  const negotiator = new TierNegotiator({
    negotiateUrl: NEGOTIATE,
    messagesUrl: `${MESSAGES}?token=tok`,
    fetch: fetch.fetch,
    EventSource: FakeEventSource,
    window: new EventTarget(),
    document: new EventTarget(),
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    logger: { info() {} },
  });
  await negotiator.start();
  assert.equal(negotiator.tier, "longpoll");
  assert.equal(FakeEventSource.instances.length, 0);
  negotiator.close();
});

// ── denied and closed ────────────────────────────────────────────────────────────────

test("a token that no longer opens the conversation stops everything and says so", async () => {
  const env = setup();
  await env.negotiator.start();
  env.sse().fail(2); // EventSource cannot tell a 401 from a 502
  const request = env.http();
  request.respond(403, { error: { code: "forbidden", message: "Not your conversation" } });
  await flush();
  assert.deepEqual(env.denials, [{ status: 403, code: "forbidden", message: "Not your conversation" }]);
  assert.deepEqual(env.state(), ["offline", "none"]);
  assert.equal(env.states.at(-1).reason, "denied");
  assert.equal(env.states.at(-1).code, "failed");
  assert.equal(env.clock.pending, 0);
  assert.equal(env.window.listeners + env.document.listeners, 0);
  const count = env.fetch.requests.length;
  env.clock.advance(120000);
  env.window.dispatchEvent(new Event("online"));
  await flush();
  assert.equal(env.fetch.requests.length, count, "never retried");
});

test("close while polling with a probe out leaves no timer, request, stream or listener", async () => {
  const env = await onLongPoll({}, [1]);
  assert.equal(env.window.listeners, 2);
  assert.equal(env.document.listeners, 1);
  env.clock.advance(1000); // the SSE probe is out, the long-poll waits
  assert.equal(FakeEventSource.open.length, 1);
  assert.equal(env.fetch.open.length, 1);
  env.negotiator.close();
  assert.equal(env.clock.pending, 0);
  assert.equal(env.fetch.open.length, 0);
  assert.equal(FakeEventSource.open.length, 0);
  assert.equal(env.window.listeners + env.document.listeners, 0);
  assert.deepEqual(env.state(), ["offline", "none"]);
  FakeEventSource.instances.at(-1).emit("hello", {});
  FakeEventSource.instances.at(-1).emit("message", entry(2), "2");
  env.clock.advance(120000);
  await flush();
  assert.deepEqual(env.messages, [1]);
  assert.equal(env.fetch.open.length, 0);
});

test("close while on poll between two requests clears the interval", async () => {
  const env = setup({ tiers: ["poll"] });
  await env.negotiator.start();
  await env.answer([]);
  assert.equal(env.clock.pending, 1);
  env.negotiator.close();
  assert.equal(env.clock.pending, 0);
  env.clock.advance(60000);
  assert.equal(env.fetch.open.length, 0);
});

test("a transport that cannot even start counts as a failed tier", async () => {
  class BrokenEventSource {
    constructor() {
      throw new SyntaxError("bad URL");
    }
  }
  const env = setup();
  const clock = env.clock;
  const negotiator = new TierNegotiator({
    negotiateUrl: NEGOTIATE,
    streamUrl: "/events",
    messagesUrl: `${MESSAGES}?token=tok`,
    fetch: env.fetch.fetch,
    EventSource: BrokenEventSource,
    window: new EventTarget(),
    document: new EventTarget(),
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    logger: { info: (line) => env.logs.push(line) },
    now: () => clock.now,
    random: () => 0.5,
  });
  await negotiator.start();
  assert.equal(env.logs[0], "SSE failed: bad URL, falling back to long-poll");
  assert.equal(negotiator.tier, "longpoll");
  negotiator.close();
});

test("requests that do not wait time out after the hello timeout, so an unanswering server is offline fast", async () => {
  // A server that accepts connections and never answers: SSE, long-poll, poll each get
  // the hello timeout, then the page says offline.
  const env = setup({ timings: { hello_timeout_ms: 1000 } });
  await env.negotiator.start();
  env.clock.advance(1000);
  assert.deepEqual(env.state(), ["connecting", "longpoll"]);
  env.clock.advance(1000);
  await flush();
  assert.deepEqual(env.state(), ["connecting", "poll"]);
  env.clock.advance(1000);
  await flush();
  assert.deepEqual(env.state(), ["offline", "none"]);
  assert.deepEqual(env.logs, [
    "SSE timeout, falling back to long-poll",
    "long-poll timed out, falling back to poll",
    "poll timed out",
    "Retrying connection in 1000ms (attempt 1)",
  ]);
});
