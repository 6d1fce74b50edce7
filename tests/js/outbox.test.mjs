import assert from "node:assert/strict";
import { test } from "node:test";

import { AGENT_OUTBOX_KEY_PREFIX, OUTBOX_KEY_PREFIX, Outbox, isRetryable } from "../../devtone/static/js/outbox.js";
import { FakeClock, MemoryStorage, flush } from "./fakes.mjs";

const KEY = `${OUTBOX_KEY_PREFIX}7`;

/** The fake storage, and what it holds for conversation 7's outbox. */
class OutboxStorage extends MemoryStorage {
  stored() {
    const raw = this.items.get(KEY);
    return raw ? JSON.parse(raw).map((item) => [item.client_id, item.body]) : [];
  }
}

/** An outbox whose POSTs stay open until the test answers or fails them. */
function setup({ storage = new OutboxStorage(), maxAttempts = 5, start = true, tab = "c" } = {}) {
  const clock = new FakeClock();
  const posts = [];
  let seq = 0;
  let ids = 0;
  const post = (body, clientId, { signal }) =>
    new Promise((resolve, reject) => {
      const request = { body, clientId, signal, settled: false };
      const settle = (fn) => {
        if (request.settled) return;
        request.settled = true;
        fn();
      };
      request.answer = () => settle(() => resolve({ seq: ++seq, client_id: clientId, body, kind: "text" }));
      request.fail = (status = 0) =>
        settle(() => reject(Object.assign(new Error(`HTTP ${status}`), { status })));
      signal.addEventListener("abort", () =>
        settle(() => {
          request.aborted = true;
          reject(new DOMException("aborted", "AbortError"));
        }),
      );
      posts.push(request);
    });
  const outbox = new Outbox({
    conversationId: 7,
    post,
    newClientId: () => `${tab}-${++ids}`, // a tab of its own makes ids of its own
    storage,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    random: () => 0.5,
    now: () => clock.now,
    maxAttempts,
  });
  const events = [];
  for (const type of ["pending", "sent", "failed"]) {
    outbox.addEventListener(type, ({ detail }) => {
      const extra = type === "sent" ? detail.message.seq : type === "failed" ? detail.permanent : detail.body;
      events.push([type, detail.clientId, extra]);
    });
  }
  if (start) outbox.start();
  const open = () => posts.filter((request) => !request.settled);
  const current = () => {
    const out = open();
    assert.equal(out.length, 1, "exactly one POST in flight");
    return out[0];
  };
  return { outbox, clock, storage, posts, events, open, current };
}

test("a message shows at once as sending and the POST answer confirms it", async () => {
  const { outbox, storage, posts, events, current } = setup();
  const clientId = outbox.add("hello");
  assert.equal(clientId, "c-1");
  assert.deepEqual(events, [["pending", "c-1", "hello"]]);
  assert.deepEqual(outbox.items.map((item) => item.state), ["sending"]);
  assert.deepEqual(storage.stored(), [["c-1", "hello"]]);
  assert.equal(posts[0].clientId, "c-1");
  current().answer();
  await flush();
  assert.deepEqual(events.at(-1), ["sent", "c-1", 1]);
  assert.deepEqual(outbox.items, []);
  assert.equal(storage.items.has(KEY), false);
});

test("messages go one at a time, in the order they were typed", async () => {
  const { outbox, posts, events, current } = setup();
  for (const body of ["one", "two", "three"]) outbox.add(body);
  for (let i = 0; i < 3; i += 1) {
    current().answer(); // current() asserts a single POST in flight
    await flush();
  }
  assert.deepEqual(
    posts.map((request) => request.body),
    ["one", "two", "three"],
  );
  assert.deepEqual(
    events.filter(([type]) => type === "sent").map(([, clientId, seq]) => [clientId, seq]),
    [
      ["c-1", 1],
      ["c-2", 2],
      ["c-3", 3],
    ],
  );
});

test("network failures are retried with backoff and the same client_id", async () => {
  const { outbox, clock, posts, events, current } = setup();
  outbox.add("hello");
  current().fail(0);
  await flush();
  assert.deepEqual(clock.delays, [1000]);
  clock.advance(999);
  assert.equal(posts.length, 1);
  clock.advance(1);
  current().fail(503);
  await flush();
  assert.deepEqual(clock.delays, [2000]);
  clock.advance(2000);
  current().answer();
  await flush();
  assert.deepEqual(
    posts.map((request) => request.clientId),
    ["c-1", "c-1", "c-1"],
  );
  assert.deepEqual(events.at(-1), ["sent", "c-1", 1]);
});

test("after five failed attempts it and the messages behind it show as not sent", async () => {
  const { outbox, clock, posts, events, open, current } = setup();
  outbox.add("first");
  outbox.add("second");
  for (let attempt = 1; attempt <= 5; attempt += 1) {
    current().fail(0);
    await flush();
    clock.advance(clock.delays[0] ?? 0);
  }
  assert.equal(posts.length, 5);
  assert.deepEqual(events.slice(-2), [
    ["failed", "c-1", false],
    ["failed", "c-2", false],
  ]);
  assert.deepEqual(outbox.items.map((item) => item.state), ["failed", "failed"]);
  assert.equal(clock.pending, 0);
  assert.equal(open().length, 0);

  // "not sent — retry": both go again, in order, with their client_ids.
  assert.equal(outbox.retry("c-2"), true);
  assert.deepEqual(events.slice(-2), [
    ["pending", "c-1", "first"],
    ["pending", "c-2", "second"],
  ]);
  current().answer();
  await flush();
  current().answer();
  await flush();
  assert.deepEqual(
    posts.slice(5).map((request) => request.clientId),
    ["c-1", "c-2"],
  );
  assert.deepEqual(outbox.items, []);
});

test("typing again after a failure sends the failed messages first", async () => {
  const { outbox, clock, events, current } = setup({ maxAttempts: 1 });
  outbox.add("first");
  current().fail(0);
  await flush();
  assert.deepEqual(events.at(-1), ["failed", "c-1", false]);
  outbox.add("second");
  assert.deepEqual(events.slice(-2), [
    ["pending", "c-1", "first"],
    ["pending", "c-2", "second"],
  ]);
  assert.equal(current().clientId, "c-1");
  assert.equal(clock.pending, 1, "only the POST's own timeout");
});

test("a message the server refuses leaves the queue, failed, and the next goes on", async () => {
  const { outbox, storage, events, current } = setup();
  outbox.add("far too long");
  outbox.add("fine");
  current().fail(422);
  await flush();
  assert.deepEqual(events.at(-1), ["failed", "c-1", true]);
  assert.deepEqual(storage.stored(), [
    ["c-2", "fine"],
    ["c-1", "far too long"],
  ]);
  assert.equal(current().clientId, "c-2");
  // Its retry button puts it back, at the end, with its client_id.
  assert.equal(outbox.retry("c-1"), true);
  current().answer();
  await flush();
  assert.equal(current().clientId, "c-1");
});

test("signed out (401): the reply is kept, nothing more is sent, and it goes once after the next sign-in", async () => {
  const before = setup();
  before.outbox.add("my answer");
  before.outbox.add("and a second thought");
  before.current().fail(401);
  await flush();
  assert.deepEqual(before.events.at(-1), ["failed", "c-1", false], "not a refusal");
  assert.equal(before.outbox.paused, true);
  assert.equal(before.open().length, 0, "nothing more is sent while signed out");
  assert.deepEqual(before.storage.stored(), [
    ["c-1", "my answer"],
    ["c-2", "and a second thought"],
  ]);
  before.outbox.close(); // the dashboard ends the session

  // Signed in again, the conversation opened: the same client_ids, in order, once each.
  const after = setup({ storage: before.storage });
  assert.equal(after.current().clientId, "c-1");
  after.current().answer();
  await flush();
  assert.equal(after.current().clientId, "c-2");
  after.current().answer();
  await flush();
  assert.deepEqual(after.storage.stored(), []);
  assert.equal(after.posts.length, 2);
});

test("retryable and refused answers are told apart", () => {
  for (const error of [new TypeError("Failed to fetch"), new DOMException("x", "AbortError"), { status: 0 }]) {
    assert.equal(isRetryable(error), true);
  }
  for (const status of [500, 502, 503, 504, 408, 429]) assert.equal(isRetryable({ status }), true, `${status}`);
  for (const status of [400, 401, 403, 404, 409, 413, 415, 422]) assert.equal(isRetryable({ status }), false, `${status}`);
});

test("a POST that never answers is aborted after its timeout and retried", async () => {
  const { outbox, clock, posts, current } = setup();
  outbox.add("hello");
  const first = current();
  clock.advance(15000);
  await flush();
  assert.equal(first.aborted, true);
  clock.advance(1000);
  assert.equal(posts.length, 2);
  assert.equal(current().clientId, "c-1");
});

test("confirmed by the stream while its POST is out: the answer is ignored and the next waits for it", async () => {
  const { outbox, posts, events, current } = setup();
  outbox.add("one");
  outbox.add("two");
  assert.equal(outbox.confirm({ seq: 1, client_id: "c-1" }), true);
  assert.deepEqual(
    outbox.items.map((item) => item.clientId),
    ["c-2"],
  );
  assert.equal(posts.length, 1, "still one POST in flight");
  current().answer();
  await flush();
  assert.ok(!events.some(([type]) => type === "sent"), "nothing to confirm twice");
  assert.equal(current().clientId, "c-2");
});

test("typed while offline: kept in order, sent in order when the connection is back", async () => {
  const { outbox, clock, posts, events, current } = setup();
  outbox.pause();
  for (const body of ["a", "b", "c"]) outbox.add(body);
  assert.deepEqual(
    events.map(([type, , body]) => [type, body]),
    [
      ["pending", "a"],
      ["pending", "b"],
      ["pending", "c"],
    ],
  );
  assert.equal(posts.length, 0);
  assert.equal(clock.pending, 0);
  outbox.resume();
  for (let i = 0; i < 3; i += 1) {
    current().answer();
    await flush();
  }
  assert.deepEqual(
    posts.map((request) => request.body),
    ["a", "b", "c"],
  );
});

test("going offline stops a backoff wait, and coming back sends at once", async () => {
  const { outbox, clock, posts, current } = setup();
  outbox.add("hello");
  current().fail(0);
  await flush();
  outbox.pause();
  assert.equal(clock.pending, 0);
  clock.advance(60000);
  assert.equal(posts.length, 1);
  outbox.resume();
  assert.equal(posts.length, 2);
  assert.equal(current().clientId, "c-1");
});

test("the unsent queue survives a reload and is sent again with the same client_ids", async () => {
  const before = setup();
  before.outbox.pause(); // offline
  before.outbox.add("typed offline");
  before.outbox.add("and this");
  before.outbox.close(); // the page goes away

  const after = setup({ storage: before.storage, start: false });
  assert.deepEqual(
    after.outbox.items.map((item) => [item.clientId, item.body, item.state]),
    [
      ["c-1", "typed offline", "sending"],
      ["c-2", "and this", "sending"],
    ],
  );
  after.outbox.start();
  assert.deepEqual(after.events, [
    ["pending", "c-1", "typed offline"],
    ["pending", "c-2", "and this"],
  ]);
  assert.equal(after.current().clientId, "c-1");
});

test("two tabs of one conversation keep each other's unsent messages, and a reload takes up both", async () => {
  const first = setup({ tab: "a" });
  const second = setup({ tab: "b", storage: first.storage });
  first.outbox.pause(); // offline: nothing leaves either tab
  second.outbox.pause();
  first.outbox.add("from the first tab");
  second.clock.now += 1000; // one browser, one time: the tabs' clocks move together
  second.outbox.add("from the second tab"); // saved after the first tab's: it must not erase it
  first.clock.now += 2000;
  first.outbox.add("the first tab again");
  assert.deepEqual(first.storage.stored(), [
    ["a-1", "from the first tab"],
    ["b-1", "from the second tab"],
    ["a-2", "the first tab again"],
  ]);

  // The first tab's messages go; the second tab's stays stored.
  first.outbox.resume();
  first.current().answer();
  await flush();
  first.current().answer();
  await flush();
  assert.deepEqual(first.storage.stored(), [["b-1", "from the second tab"]]);

  // Both tabs go away; the page loaded next takes up what was left, and sends it.
  first.outbox.close();
  second.outbox.close();
  const reloaded = setup({ tab: "c", storage: first.storage });
  assert.deepEqual(reloaded.events, [["pending", "b-1", "from the second tab"]]);
  reloaded.current().answer();
  await flush();
  assert.deepEqual(reloaded.storage.stored(), []);
});

test("discarding forgets every tab's stored messages: the conversation is over", () => {
  const first = setup({ tab: "a" });
  const second = setup({ tab: "b", storage: first.storage });
  first.outbox.pause();
  second.outbox.pause();
  first.outbox.add("one");
  second.outbox.add("two");
  second.outbox.discard();
  assert.deepEqual(first.storage.stored(), []);
});

test("a restored message the server already stored is confirmed by the history, not sent again", async () => {
  const storage = new OutboxStorage({
    [KEY]: JSON.stringify([
      { client_id: "old-1", body: "made it", created_at: "t" },
      { client_id: "old-2", body: "did not", created_at: "t" },
    ]),
  });
  const { outbox, posts, events, current } = setup({ storage, start: false });
  outbox.confirm({ seq: 4, client_id: "old-1" }); // seen in the history
  outbox.start();
  assert.deepEqual(events, [["pending", "old-2", "did not"]]);
  assert.equal(posts.length, 1);
  assert.equal(current().clientId, "old-2");
  assert.deepEqual(storage.stored(), [["old-2", "did not"]]);
});

test("garbage in storage is ignored", () => {
  for (const raw of ["not json", '{"a": 1}', '[{"body": 1}]']) {
    const { outbox } = setup({ storage: new OutboxStorage({ [KEY]: raw }), start: false });
    assert.deepEqual(outbox.items, []);
  }
});

test("storage that throws does not stop sending", async () => {
  const { outbox, current } = setup({ storage: new OutboxStorage({}, { broken: true }) });
  outbox.add("hello");
  current().answer();
  await flush();
  assert.deepEqual(outbox.items, []);
});

test("close aborts the POST in flight and clears every timer; discard forgets the queue", async () => {
  const { outbox, clock, storage, posts, open } = setup();
  outbox.add("hello");
  const request = posts[0];
  outbox.close();
  await flush();
  assert.equal(request.aborted, true);
  assert.equal(open().length, 0);
  assert.equal(clock.pending, 0);
  assert.deepEqual(storage.stored(), [["c-1", "hello"]], "kept for the next page");
  outbox.add("after close");
  assert.equal(posts.length, 1);
  outbox.discard();
  assert.equal(storage.items.has(KEY), false);
});

test("an agent's outbox has its own storage key, so a visitor's queue in the same browser is never sent", () => {
  const storage = new OutboxStorage({ [KEY]: JSON.stringify([{ client_id: "v-1", body: "the visitor's" }]) });
  const outbox = new Outbox({
    conversationId: 7,
    keyPrefix: AGENT_OUTBOX_KEY_PREFIX,
    post: () => new Promise(() => {}),
    newClientId: () => "a-1",
    storage,
  });
  assert.equal(outbox.key, "devtone.agent-outbox.7");
  assert.deepEqual(outbox.items, []);
  outbox.start();
  outbox.add("the agent's");
  assert.deepEqual(JSON.parse(storage.items.get("devtone.agent-outbox.7")).map((item) => item.body), ["the agent's"]);
  assert.deepEqual(storage.stored(), [["v-1", "the visitor's"]], "the visitor's queue is untouched");
  outbox.close();
});

test("a refused message survives a reload, failed, until it is retried", async () => {
  const before = setup();
  before.outbox.add("refused");
  before.current().fail(422);
  await flush();
  before.outbox.close();

  const after = setup({ storage: before.storage });
  assert.deepEqual(after.events, [
    ["pending", "c-1", "refused"],
    ["failed", "c-1", true],
  ]);
  assert.equal(after.open().length, 0, "a failed message is not sent by itself");
  assert.equal(after.outbox.retry("c-1"), true);
  assert.equal(after.current().clientId, "c-1");
  after.current().answer();
  await flush();
  assert.deepEqual(after.storage.stored(), []);
});

test("messages that gave up after the backoff survive a reload, failed", async () => {
  const before = setup({ maxAttempts: 1 });
  before.outbox.add("first");
  before.outbox.add("second");
  before.current().fail(0);
  await flush();
  before.outbox.close();

  const after = setup({ storage: before.storage });
  assert.deepEqual(after.events, [
    ["pending", "c-1", "first"],
    ["failed", "c-1", false],
    ["pending", "c-2", "second"],
    ["failed", "c-2", false],
  ]);
  assert.deepEqual(after.outbox.items.map((item) => item.state), ["failed", "failed"]);
  assert.equal(after.open().length, 0);
});

test("discarding a failed message forgets it, here and after a reload", async () => {
  const { outbox, storage, current, open } = setup({ maxAttempts: 1 });
  outbox.add("refused");
  current().fail(413);
  await flush();
  outbox.add("gave up");
  current().fail(0);
  await flush();
  assert.equal(outbox.drop("c-1"), true);
  assert.deepEqual(storage.stored(), [["c-2", "gave up"]]);
  assert.equal(outbox.drop("c-2"), true);
  assert.deepEqual(storage.stored(), []);
  assert.equal(outbox.drop("c-2"), false, "nothing left to discard");
  assert.equal(open().length, 0);
});

test("a message still being sent cannot be discarded", () => {
  const { outbox, current } = setup();
  outbox.add("on its way");
  assert.equal(outbox.drop("c-1"), false);
  assert.equal(current().clientId, "c-1");
});
