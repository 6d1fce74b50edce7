import assert from "node:assert/strict";
import { test } from "node:test";

import { SseTransport, withParam } from "../../devtone/static/js/realtime/transports.js";

class FakeEventSource {
  static instances = [];
  readyState = 0;
  #listeners = new Map();

  constructor(url) {
    this.url = url;
    FakeEventSource.instances.push(this);
  }

  addEventListener(type, fn) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, []);
    this.#listeners.get(type).push(fn);
  }

  close() {
    this.readyState = 2;
    this.closed = true;
  }

  emitRaw(type, data) {
    for (const fn of this.#listeners.get(type) ?? []) fn({ type, data });
  }

  emit(type, data) {
    this.emitRaw(type, JSON.stringify(data));
  }

  fail(readyState) {
    this.readyState = readyState;
    for (const fn of this.#listeners.get("error") ?? []) fn({ type: "error" });
  }
}

function transport(url = "/api/conversations/3/events?token=a%2Bb") {
  FakeEventSource.instances = [];
  const calls = [];
  const sse = new SseTransport({ url, EventSource: FakeEventSource });
  for (const name of ["onhello", "onentry", "onping", "onerror", "onclosed"]) {
    sse[name] = (arg) => calls.push([name, arg]);
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
  assert.deepEqual(calls, [["onerror", "invalid JSON in message"]]);
});

test("a CLOSED EventSource is reported through onclosed", () => {
  const { sse, calls, source } = transport();
  sse.start(0);
  source().fail(2);
  assert.deepEqual(calls, [["onclosed", "stream closed"]]);
});

test("a reconnecting EventSource is reported through onerror", () => {
  const { sse, calls, source } = transport();
  sse.start(0);
  source().fail(0);
  assert.deepEqual(calls, [["onerror", "stream interrupted"]]);
  assert.equal(source().closed, undefined, "the browser keeps reconnecting it");
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
