import assert from "node:assert/strict";
import { test } from "node:test";

import {
  LongPollTransport,
  PollTransport,
  SseTransport,
  longPollTimeoutMs,
  withParam,
} from "../../devtone/static/js/realtime/transports.js";
import { FakeClock, FakeEventSource, FakeFetch, flush, page } from "./fakes.mjs";

function transport(url = "/api/conversations/3/events?token=a%2Bb") {
  FakeEventSource.instances = [];
  const calls = [];
  const sse = new SseTransport({ url, EventSource: FakeEventSource });
  for (const name of ["onhello", "onentry", "onping", "onerror", "onclosed"]) {
    // A failure's code (reasons.js) is recorded after its words.
    sse[name] = (arg, code) => calls.push(code === undefined ? [name, arg] : [name, arg, code]);
  }
  return { sse, calls, source: () => FakeEventSource.instances.at(-1) };
}

test("withParam adds to an existing query string or starts one", () => {
  assert.equal(withParam("/e?token=t", "after", 5), "/e?token=t&after=5");
  assert.equal(withParam("/e", "after", 0), "/e?after=0");
  assert.equal(withParam("/e?", "after", 1), "/e?after=1");
  assert.equal(withParam("/e?token=t#x", "after", 2), "/e?token=t&after=2");
});

test("start opens the stream after the cursor, keeping the token", () => {
  const { sse, source } = transport();
  sse.start(41);
  assert.equal(source().url, "/api/conversations/3/events?token=a%2Bb&after=41");
});

test("named events arrive parsed on their callbacks", () => {
  const { sse, calls, source } = transport();
  sse.start(0);
  source().emit("hello", { tier: "sse", cursor: 0 });
  source().emit("message", { seq: 1, body: "hi" });
  source().emit("ping", { time: "t" });
  assert.deepEqual(calls, [
    ["onhello", { tier: "sse", cursor: 0 }],
    ["onentry", { seq: 1, body: "hi" }],
    ["onping", { time: "t" }],
  ]);
});

test("data that is not JSON is reported, not delivered", () => {
  const { sse, calls, source } = transport();
  sse.start(0);
  source().emitRaw("message", "{oops");
  assert.deepEqual(calls, [["onerror", "invalid JSON in message", "other"]]);
});

test("a CLOSED EventSource is reported through onclosed", () => {
  const { sse, calls, source } = transport();
  sse.start(0);
  source().fail(2);
  assert.deepEqual(calls, [["onclosed", "stream closed", "closed"]]);
});

test("a reconnecting EventSource is reported through onerror", () => {
  const { sse, calls, source } = transport();
  sse.start(0);
  source().fail(0);
  assert.deepEqual(calls, [["onerror", "stream interrupted", "failed"]]);
  assert.equal(source().closed, false, "the browser keeps reconnecting it");
});

test("stop closes the stream and silences it", () => {
  const { sse, calls, source } = transport();
  sse.start(0);
  const stream = source();
  sse.stop();
  assert.equal(stream.closed, true);
  stream.emit("message", { seq: 1 });
  stream.fail(2);
  assert.deepEqual(calls, []);
});

test("start again replaces the previous stream", () => {
  const { sse, calls, source } = transport();
  sse.start(0);
  const old = source();
  sse.start(7);
  assert.equal(old.closed, true);
  old.emit("message", { seq: 1 });
  source().emit("message", { seq: 8 });
  assert.deepEqual(calls, [["onentry", { seq: 8 }]]);
});

test("a missing EventSource fails loudly at construction", () => {
  assert.throws(() => new SseTransport({ url: "/e", EventSource: undefined }), TypeError);
});

// ── long-poll and poll ───────────────────────────────────────────────────────────────

const MESSAGES = "/api/conversations/7/messages";

/** An HTTP transport on a fake clock and fetch, with every callback recorded. */
function http(Transport, options = {}) {
  const clock = new FakeClock();
  const fetch = new FakeFetch();
  const calls = [];
  const transport = new Transport({
    url: `${MESSAGES}?token=a%2Bb`,
    fetch: fetch.fetch,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    now: () => clock.now,
    ...options,
  });
  for (const name of ["onhello", "onentry", "onping", "onerror", "onclosed", "ondenied"]) {
    transport[name] = (arg, code) =>
      calls.push(code === undefined ? [name, name === "onentry" ? arg.seq : arg] : [name, arg, code]);
  }
  const last = () => fetch.last(MESSAGES);
  const param = (name) => last().params.get(name);
  return { transport, clock, fetch, calls, last, param };
}

test("long-poll first asks without waiting, keeping the token, and proves itself on the answer", async () => {
  const { transport, clock, fetch, calls, last, param } = http(LongPollTransport);
  transport.start(4);
  assert.equal(last().url, `${MESSAGES}?token=a%2Bb&after=4&wait=0&limit=100`);
  assert.equal(last().init.cache, "no-store");
  assert.ok(last().init.signal, "every request can be aborted");
  last().respond(200, page([5, 6]));
  await flush();
  assert.deepEqual(calls, [
    ["onhello", { tier: "longpoll", cursor: 6, conversation: { id: 7, status: "active", last_seq: 6 } }],
    ["onentry", 5],
    ["onentry", 6],
  ]);
  // The next request goes at once, from the returned cursor, and waits.
  assert.equal(fetch.requests.length, 2);
  assert.equal(param("after"), "6");
  assert.equal(param("wait"), "25");
  assert.equal(fetch.open.length, 1);
  assert.equal(clock.pending, 1, "only the request timeout is armed");
});

test("long-poll proves itself once, then only delivers", async () => {
  const { transport, calls, last } = http(LongPollTransport);
  transport.start(0);
  last().respond(200, page([]));
  await flush();
  last().respond(200, page([1]));
  await flush();
  last().respond(200, page([2, 3]));
  await flush();
  assert.deepEqual(
    calls.map(([name, arg]) => (name === "onentry" ? arg : name)),
    ["onhello", 1, 2, 3],
  );
});

test("long-poll follows the cursor the server returns", async () => {
  const { transport, last, param } = http(LongPollTransport);
  transport.start(0);
  last().respond(200, { messages: [], cursor: 9, conversation: {} });
  await flush();
  assert.equal(param("after"), "9");
});

test("the long-poll timeout is the wait plus a grace of max(5 s, 20 %)", () => {
  assert.equal(longPollTimeoutMs(25), 30000);
  assert.equal(longPollTimeoutMs(30), 36000);
  assert.equal(longPollTimeoutMs(5), 10000);
});

test("a long-poll the proxy never answers times out, is aborted and reported", async () => {
  const { transport, clock, fetch, calls, last } = http(LongPollTransport);
  transport.start(0);
  last().respond(200, page([]));
  await flush();
  const waiting = last();
  clock.advance(29999);
  await flush();
  assert.equal(waiting.settled, false);
  clock.advance(1);
  await flush();
  assert.equal(waiting.aborted, true);
  assert.deepEqual(calls.at(-1), ["onclosed", "timed out", "timeout"]);
  assert.equal(fetch.open.length, 0);
  assert.equal(clock.pending, 0);
  assert.equal(transport.running, false);
});

test("the first long-poll request is bounded too", async () => {
  const { transport, clock, calls } = http(LongPollTransport, { firstTimeoutMs: 4000 });
  transport.start(0);
  clock.advance(4000);
  await flush();
  assert.deepEqual(calls, [["onclosed", "timed out", "timeout"]]);
});

test("long-poll failures are reported, each leaving nothing open", async () => {
  const failures = [
    [(request) => request.fail(new TypeError("Failed to fetch")), "failed: network error"],
    [(request) => request.respond(502, "<html>Bad Gateway</html>"), "failed: HTTP 502"],
    [(request) => request.respond(500, { error: { code: "internal" } }), "failed: HTTP 500"],
    [(request) => request.respond(200, "<html>captive portal</html>"), "failed: answer is not JSON"],
    [(request) => request.respond(200, { ok: true }), "failed: answer has no messages"],
  ];
  for (const [fail, reason] of failures) {
    const { transport, clock, fetch, calls, last } = http(LongPollTransport);
    transport.start(0);
    last().respond(200, page([]));
    await flush();
    fail(last());
    await flush();
    assert.deepEqual(calls.at(-1), ["onclosed", reason, "failed"]);
    assert.equal(fetch.requests.length, 2, `${reason}: no request after a failure`);
    assert.equal(clock.pending, 0);
  }
});

test("401, 403 and 404 are a denial, not a failure", async () => {
  for (const status of [401, 403, 404]) {
    const { transport, clock, fetch, calls, last } = http(LongPollTransport);
    transport.start(0);
    last().respond(status, { error: { code: "forbidden", message: "Not yours" } });
    await flush();
    assert.deepEqual(calls, [["ondenied", { status, code: "forbidden", message: "Not yours" }]]);
    assert.equal(fetch.open.length, 0);
    assert.equal(clock.pending, 0);
  }
  const { transport, calls, last } = http(PollTransport);
  transport.start(0);
  last().respond(401, "<html>login</html>");
  await flush();
  assert.deepEqual(calls, [["ondenied", { status: 401, code: "http_401", message: "HTTP 401" }]]);
});

test("an empty long-poll answer that did not wait slows the loop down", async () => {
  const { transport, clock, fetch, last } = http(LongPollTransport);
  transport.start(0);
  last().respond(200, page([]));
  await flush();
  last().respond(200, page([])); // answered at once although it was asked to wait 25 s
  await flush();
  assert.equal(fetch.requests.length, 2);
  clock.advance(1000);
  assert.equal(fetch.requests.length, 3);
});

test("the long-poll wait is a whole number of seconds between 1 and 30", async () => {
  for (const [waitS, sent] of [
    [45, "30"],
    [0.4, "1"],
    [12.6, "13"],
  ]) {
    const { transport, last, param } = http(LongPollTransport, { waitS });
    transport.start(0);
    last().respond(200, page([]));
    await flush();
    assert.equal(param("wait"), sent);
  }
});

test("stop aborts the long-poll in flight and silences it", async () => {
  const { transport, clock, fetch, calls, last } = http(LongPollTransport);
  transport.start(0);
  const request = last();
  transport.stop();
  assert.equal(request.aborted, true);
  assert.equal(clock.pending, 0);
  request.respond(200, page([1])); // too late: already aborted
  await flush();
  assert.deepEqual(calls, []);
  assert.equal(fetch.requests.length, 1);
});

test("a callback that stops the transport stops the delivery of the rest", async () => {
  const { transport, fetch, calls, last } = http(LongPollTransport);
  transport.onentry = (message) => {
    calls.push(["onentry", message.seq]);
    transport.stop();
  };
  transport.start(0);
  last().respond(200, page([1, 2, 3]));
  await flush();
  assert.deepEqual(calls.map(([name, arg]) => arg ?? name).slice(1), [1]);
  assert.equal(fetch.requests.length, 1);
});

test("poll asks at once, then once per interval, never two at a time", async () => {
  const { transport, clock, fetch, calls, last, param } = http(PollTransport, { intervalMs: 30000 });
  transport.start(3);
  assert.equal(fetch.requests.length, 1);
  assert.equal(param("after"), "3");
  assert.equal(param("wait"), "0");
  clock.advance(200);
  last().respond(200, page([4]));
  await flush();
  assert.deepEqual(calls.map(([name]) => name), ["onhello", "onentry"]);
  assert.equal(fetch.requests.length, 1);
  clock.advance(29799);
  assert.equal(fetch.requests.length, 1);
  clock.advance(1); // 30 s after the previous request started
  assert.equal(fetch.requests.length, 2);
  assert.equal(param("after"), "4");
  // A slow answer: nothing else is sent while it is out, and the next goes at once after.
  clock.advance(9000);
  assert.equal(fetch.open.length, 1);
  last().respond(200, page([]));
  await flush();
  assert.equal(fetch.requests.length, 2);
  clock.advance(21000);
  assert.equal(fetch.requests.length, 3);
});

test("poll reads a full page's rest at once", async () => {
  const { transport, fetch, last, param } = http(PollTransport, { limit: 2 });
  transport.start(0);
  last().respond(200, page([1, 2]));
  await flush();
  assert.equal(fetch.requests.length, 2);
  assert.equal(param("after"), "2");
});

test("a poll that never answers times out after 10 s", async () => {
  const { transport, clock, calls, last } = http(PollTransport);
  transport.start(0);
  const request = last();
  clock.advance(10000);
  await flush();
  assert.equal(request.aborted, true);
  assert.deepEqual(calls, [["onclosed", "timed out", "timeout"]]);
  assert.equal(clock.pending, 0);
});

test("stop between polls clears the interval timer", async () => {
  const { transport, clock, fetch, last } = http(PollTransport);
  transport.start(0);
  last().respond(200, page([]));
  await flush();
  assert.equal(clock.pending, 1);
  transport.stop();
  assert.equal(clock.pending, 0);
  clock.advance(60000);
  assert.equal(fetch.requests.length, 1);
});

test("start again restarts from the new cursor", async () => {
  const { transport, fetch, last, param } = http(PollTransport);
  transport.start(0);
  const first = last();
  transport.start(8);
  assert.equal(first.aborted, true);
  assert.equal(fetch.open.length, 1);
  assert.equal(param("after"), "8");
});

test("HTTP transports need a url", () => {
  assert.throws(() => new LongPollTransport({}), TypeError);
  assert.throws(() => new PollTransport({}), TypeError);
});

test("a 429 with nobody listening for limits closes the tier with the rate_limited code", async () => {
  const { transport, calls, last } = http(LongPollTransport);
  transport.start(0);
  last().respond(429, { error: { code: "too_many_streams" } });
  await flush();
  assert.deepEqual(calls.at(-1), ["onclosed", "failed: HTTP 429", "rate_limited"]);
});
