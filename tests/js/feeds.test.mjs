// Feeds on their own: URLs, cursors and the reading of answers (feeds.js is pure).
import assert from "node:assert/strict";
import { test } from "node:test";

import { ConversationFeed, DashboardFeed } from "../../devtone/static/js/realtime/feeds.js";
import { page } from "./fakes.mjs";

test("ConversationFeed: URLs carry the cursor and keep the token", () => {
  const feed = new ConversationFeed({
    streamUrl: "/api/conversations/7/events?token=t",
    messagesUrl: "/api/conversations/7/messages?token=t",
    cursor: 4,
  });
  assert.equal(feed.cursor, 4);
  assert.equal(feed.streamUrlAt(4), "/api/conversations/7/events?token=t&after=4");
  assert.equal(
    feed.pollUrlAt(4, { waitS: 25, limit: 100, first: false }),
    "/api/conversations/7/messages?token=t&after=4&wait=25&limit=100",
  );
  assert.equal(new ConversationFeed({ streamUrl: "/e", cursor: -3 }).cursor, 0);
  assert.ok(Object.isFrozen(feed));
});

test("ConversationFeed: an answer is its entries, then its conversation as an event", () => {
  const feed = new ConversationFeed({ messagesUrl: "/m" });
  const answer = feed.read(page([5, 6]), { cursor: 4, limit: 2 });
  assert.deepEqual(
    answer.entries.map((m) => m.seq),
    [5, 6],
  );
  assert.deepEqual(answer.events, [["conversation", { id: 7, status: "active", last_seq: 6 }]]);
  assert.deepEqual(answer.hello, { cursor: 6, conversation: { id: 7, status: "active", last_seq: 6 } });
  assert.equal(answer.cursor, 6);
  assert.equal(answer.full, true);
  assert.equal(answer.empty, false);
  assert.deepEqual(feed.read({ ok: true }, { cursor: 0, limit: 100 }), { failure: "answer has no messages" });
  assert.deepEqual(feed.read({ messages: [], cursor: 3 }, { cursor: 0, limit: 100 }).events, []);
});

test("ConversationFeed: a long-poll woken by the other side's typing passes it on, after the conversation", () => {
  const feed = new ConversationFeed({ messagesUrl: "/m" });
  const typing = { conversation_id: 7, sender: "agent", name: "Maria", typing: true };
  const conversation = { id: 7, status: "active", last_seq: 4 };
  const answer = feed.read({ messages: [], cursor: 4, conversation, typing }, { cursor: 4, limit: 100 });
  assert.deepEqual(answer.events, [
    ["conversation", conversation],
    ["typing", typing],
  ]);
  assert.equal(answer.empty, true);
});

test("ConversationFeed: entries at or below the cursor are dropped, events always pass", () => {
  const feed = new ConversationFeed({ streamUrl: "/e" });
  assert.equal(feed.accept(5, "message", { seq: 6 }), 6);
  assert.equal(feed.accept(5, "message", { seq: 5 }), null);
  assert.equal(feed.accept(5, "message", { seq: "7" }), null);
  assert.equal(feed.accept(5, "conversation", { id: 7 }), 5);
  assert.equal(feed.accept(5, "typing", { typing: true }), 5);
});

test("DashboardFeed: the stream URL never changes, the first request has no etag and no wait", () => {
  const feed = new DashboardFeed({ streamUrl: "/api/dashboard/events", snapshotUrl: "/api/dashboard/snapshot" });
  assert.equal(feed.cursor, null);
  assert.equal(feed.streamUrlAt("e1"), "/api/dashboard/events");
  assert.equal(feed.pollUrlAt("e1", { waitS: 25, first: true }), "/api/dashboard/snapshot?wait=0");
  assert.equal(feed.pollUrlAt("e 1", { waitS: 25, first: false }), "/api/dashboard/snapshot?etag=e%201&wait=25");
  assert.equal(feed.pollUrlAt(null, { waitS: 0, first: false }), "/api/dashboard/snapshot?wait=0");
  assert.deepEqual([...feed.deniedStatuses].sort(), [401, 403]);
});

test("DashboardFeed: every answer is one snapshot event and moves the cursor to its etag", () => {
  const feed = new DashboardFeed({ snapshotUrl: "/s" });
  const body = { conversations: [], stats: { waiting: 0 }, etag: "e2" };
  const answer = feed.read(body, { cursor: "e1" });
  assert.deepEqual(answer.events, [["snapshot", body]]);
  assert.deepEqual(answer.entries, []);
  assert.equal(answer.cursor, "e2");
  assert.equal(answer.empty, false);
  assert.equal(feed.read(body, { cursor: "e2" }).empty, true, "the same etag is nothing new");
  assert.deepEqual(feed.read({ messages: [] }, { cursor: null }), { failure: "answer has no conversations" });
  assert.equal(feed.accept("e1", "snapshot", { etag: "e3" }), "e3");
  assert.equal(feed.accept("e1", "conversation", { id: 1, etag: "x" }), "e1");
  assert.equal(feed.accept("e1", "stats", {}), "e1");
});
