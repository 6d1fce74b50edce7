// ConversationSession: the one wiring of a conversation for the chat page and the dashboard.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ConversationSession } from "../../devtone/static/js/conversation-session.js";
import { FakeLocks, MemoryStorage, entry, flush } from "./fakes.mjs";

/** A negotiator the test drives: it records how it was made and dispatches on demand. */
class FakeNegotiator extends EventTarget {
  started = false;
  closed = false;
  constructor(options) {
    super();
    this.options = options;
  }
  start() {
    this.started = true;
  }
  close() {
    this.closed = true;
    this.emit("statechange", { state: "offline", tier: "none", previous: { state: "live" } });
  }
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

function setup({ pages = [{ messages: [], cursor: 0, conversation: { last_seq: 0 } }], token = "tok", locks = null } = {}) {
  const seen = [];
  const posted = [];
  const reports = [];
  const negotiators = [];
  const api = {
    listMessages: async (id, after, limit) => {
      seen.push(["list", id, after, limit]);
      return pages.shift();
    },
    postMessage: async (id, body, clientId, options) => {
      posted.push({ id, body, clientId, retry: options.retry });
      return { message: { ...entry(9), body, client_id: clientId } };
    },
  };
  const handlers = {};
  for (const name of ["entry", "conversation", "typing", "hello", "state", "denied", "pending", "failed"]) {
    handlers[name] = (detail, extra) => seen.push([name, detail, ...(extra ? [extra] : [])]);
  }
  const session = new ConversationSession({
    api,
    conversationId: 7,
    base: "/api/",
    token,
    handlers,
    storage: new MemoryStorage(),
    createNegotiator: (options) => {
      const negotiator = new FakeNegotiator(options);
      negotiators.push(negotiator);
      return negotiator;
    },
    reportTiers: (negotiator, options) => reports.push(options),
    locks,
  });
  return { session, seen, posted, reports, negotiators };
}

test("the history is read page by page, then the feed follows from the page's cursor", async () => {
  const { session, seen, reports, negotiators } = setup({
    pages: [
      { messages: [entry(1), entry(2)], cursor: 2, conversation: { id: 7, last_seq: 3 } },
      { messages: [entry(3)], cursor: 3, conversation: { id: 7, last_seq: 3 } },
    ],
  });
  await session.open();
  assert.deepEqual(
    seen.map((row) => (row[0] === "list" ? row : [row[0], row[1].seq ?? row[1].id, row[2]?.live])),
    [
      ["list", "7", 0, 200],
      ["entry", 1, false],
      ["entry", 2, false],
      ["conversation", 7, undefined],
      ["list", "7", 2, 200],
      ["entry", 3, false],
      ["conversation", 7, undefined],
    ],
  );
  session.follow(3);
  const [negotiator] = negotiators;
  const { feed, negotiateUrl } = negotiator.options;
  assert.equal(negotiateUrl, "/api/realtime/negotiate");
  assert.equal(feed.streamUrl, "/api/conversations/7/events?token=tok");
  assert.equal(feed.pollUrl, "/api/conversations/7/messages?token=tok");
  assert.equal(feed.cursor, 3);
  assert.deepEqual(reports, [{ url: "/api/realtime/report", kind: "conversation" }]);
  assert.equal(negotiator.started, true);
  session.follow(3);
  assert.equal(negotiators.length, 1, "one feed per session");
});

test("an agent's session carries no token in its URLs", async () => {
  const { session, negotiators } = setup({ token: null });
  await session.open();
  session.follow(0);
  assert.equal(negotiators[0].options.feed.streamUrl, "/api/conversations/7/events");
});

test("live news reaches the page marked live; the outbox waits while no tier delivers", async () => {
  const { session, seen, posted, negotiators } = setup();
  await session.open();
  session.follow(0);
  const negotiator = negotiators[0];
  negotiator.emit("statechange", { state: "offline", tier: "none", previous: { state: "connecting" } });
  assert.equal(session.paused, true);
  session.send("typed offline");
  await flush();
  assert.deepEqual(posted, [], "nothing is sent while offline");
  assert.equal(seen.find(([name]) => name === "pending")[1].body, "typed offline");

  negotiator.emit("statechange", { state: "live", tier: "sse", previous: { state: "offline" } });
  await flush();
  assert.deepEqual(posted.map((p) => [p.body, p.retry]), [["typed offline", false]]);
  const sent = seen.filter(([name]) => name === "entry").at(-1);
  assert.deepEqual([sent[1].body, sent[2]], ["typed offline", { live: false }]);

  negotiator.emit("message", entry(10));
  negotiator.emit("conversation", { id: 7, version: 3 });
  negotiator.emit("typing", { sender: "agent", typing: true });
  const last = seen.slice(-3).map(([name, detail, extra]) => [name, detail.seq ?? detail.id ?? detail.sender, extra]);
  assert.deepEqual(last, [
    ["entry", 10, { live: true }],
    ["conversation", 7, undefined],
    ["typing", "agent", undefined],
  ]);
});

test("after close() the feed is closed and nothing more reaches the page", async () => {
  const { session, seen, negotiators } = setup();
  await session.open();
  session.follow(0);
  session.close();
  assert.equal(negotiators[0].closed, true);
  // Its last word does: the page's indicator must not keep the left conversation's state.
  assert.deepEqual(seen.at(-1)[0], "state");
  assert.equal(seen.at(-1)[1].state, "offline");
  const before = seen.length;
  negotiators[0].emit("message", entry(1));
  session.send("too late");
  await flush();
  assert.equal(seen.length, before);
});

test("tabs of one conversation take turns to post: each POST holds the conversation's outbox lock", async () => {
  const locks = new FakeLocks();
  const { session, posted } = setup({ locks });
  const held = [];
  const request = locks.request.bind(locks);
  locks.request = (name, options, callback) => request(name, options, () => (held.push(locks.held), callback()));
  await session.open();
  session.send("one");
  await flush();
  session.send("two");
  await flush();
  assert.deepEqual(posted.map(({ body }) => body), ["one", "two"]);
  assert.deepEqual(held, [["devtone.outbox devtone.outbox.7"], ["devtone.outbox devtone.outbox.7"]]);
});

test("where Web Locks are refused (the widget's third-party frame) messages are still posted", async () => {
  const locks = { request: () => Promise.reject(new DOMException("The request was denied.", "SecurityError")) };
  const { session, posted } = setup({ locks });
  await session.open();
  session.send("sent anyway");
  await flush();
  assert.deepEqual(posted.map(({ body }) => body), ["sent anyway"]);
});
