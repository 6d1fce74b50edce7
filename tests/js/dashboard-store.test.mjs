import assert from "node:assert/strict";
import { test } from "node:test";

import { DashboardStore, FILTERS, activityTime, byActivity } from "../../devtone/static/js/dashboard-store.js";

const ME = 5;

/** A conversation as the server sends it. */
function conversation(id, { version = 1, status = "waiting", agent = null, unread = 0, last_seq = version, at } = {}) {
  return {
    id,
    status,
    visitor: { name: `Visitor ${id}`, email: null },
    agent,
    created_at: "2026-11-24T08:00:00Z",
    updated_at: "2026-11-24T08:00:00Z",
    closed_at: null,
    last_seq,
    version,
    unread,
    agent_read_seq: 0,
    last_message: at ? { seq: last_seq, body: "hi", sender: "visitor", kind: "text", created_at: at } : null,
  };
}

const mine = { id: ME, name: "Me" };
const theirs = { id: 9, name: "Other" };
const ids = (list) => list.map((c) => c.id);

// ── the version rule ─────────────────────────────────────────────────────────────────

test("upsert keeps a conversation only when its version is newer", () => {
  const store = new DashboardStore({ me: ME });
  assert.deepEqual(store.upsert(conversation(1, { version: 3 })), { changed: true, added: false });
  assert.deepEqual(store.upsert(conversation(1, { version: 2, status: "closed" })), { changed: false, added: false });
  assert.deepEqual(store.upsert(conversation(1, { version: 3, status: "closed" })), { changed: false, added: false });
  assert.equal(store.get(1).status, "waiting");
  assert.equal(store.upsert(conversation(1, { version: 4, status: "active" })).changed, true);
  assert.equal(store.get(1).status, "active");
  assert.equal(store.get("1").version, 4, "ids match as strings too");
  assert.equal(store.upsert({ status: "waiting" }).changed, false, "no id, nothing stored");
});

test("a snapshot replaces the set but never with an older version than the one held", () => {
  const store = new DashboardStore({ me: ME });
  store.applySnapshot({ conversations: [conversation(1), conversation(2)], stats: { waiting: 2 } });
  store.upsert(conversation(1, { version: 5, status: "active", agent: mine }));
  store.applySnapshot({
    conversations: [conversation(1, { version: 4 }), conversation(3, { version: 1 })],
    stats: { waiting: 1 },
  });
  assert.equal(store.size, 2, "2 is gone: the snapshot is the whole set");
  assert.equal(store.get(2), undefined);
  assert.equal(store.get(1).version, 5, "the newer copy held is kept");
  assert.equal(store.get(1).status, "active");
  assert.deepEqual(store.stats, { waiting: 1 });
  store.applySnapshot({ conversations: [conversation(1, { version: 6, status: "closed" })] });
  assert.equal(store.get(1).status, "closed", "a newer version in a snapshot wins");
  assert.deepEqual(store.stats, { waiting: 1 }, "a snapshot without stats keeps them");
});

test("conversations after the first snapshot are new; those in it are not", () => {
  const store = new DashboardStore({ me: ME });
  assert.deepEqual(store.upsert(conversation(9)).added, false, "before any snapshot nothing is new");
  assert.deepEqual(store.applySnapshot({ conversations: [conversation(1), conversation(2)] }), []);
  assert.deepEqual(store.upsert(conversation(3)), { changed: true, added: true });
  assert.deepEqual(store.upsert(conversation(3, { version: 2 })), { changed: true, added: false });
  // After a reconnect, the fresh snapshot's unknown conversations appeared meanwhile.
  assert.deepEqual(store.applySnapshot({ conversations: [conversation(1), conversation(3), conversation(4)] }), [4]);
});

test("stats come from snapshots and stats events", () => {
  const store = new DashboardStore({ me: ME });
  assert.equal(store.stats, null);
  store.setStats({ waiting: 3, median_first_reply_seconds: null });
  assert.deepEqual(store.stats, { waiting: 3, median_first_reply_seconds: null });
  store.setStats(null);
  assert.equal(store.stats.waiting, 3);
});

// ── filters, counts, order ───────────────────────────────────────────────────────────

function populated() {
  const store = new DashboardStore({ me: ME });
  store.applySnapshot({
    conversations: [
      conversation(1, { status: "waiting", at: "2026-11-24T10:00:00Z" }),
      conversation(2, { status: "active", agent: mine, at: "2026-11-24T12:00:00Z" }),
      conversation(3, { status: "active", agent: theirs, at: "2026-11-24T11:00:00Z" }),
      conversation(4, { status: "closed", agent: mine, at: "2026-11-24T09:00:00Z" }),
      conversation(5, { status: "waiting", at: "2026-11-24T13:00:00Z" }),
    ],
  });
  return store;
}

test("filters: waiting, mine (mine and not closed), open (not closed), closed", () => {
  const store = populated();
  assert.deepEqual(FILTERS, ["waiting", "mine", "open", "closed"]);
  assert.deepEqual(ids(store.list("waiting")), [5, 1]);
  assert.deepEqual(ids(store.list("mine")), [2]);
  assert.deepEqual(ids(store.list("open")), [5, 2, 3, 1]);
  assert.deepEqual(ids(store.list("closed")), [4]);
  assert.deepEqual(store.list("nonsense"), []);
  assert.deepEqual(store.counts(), { waiting: 2, mine: 1, open: 4, closed: 1 });
});

test("mine compares agent ids as strings (the page reads its id from a data attribute)", () => {
  const store = new DashboardStore({ me: "5" });
  store.upsert(conversation(1, { status: "active", agent: mine }));
  assert.deepEqual(ids(store.list("mine")), [1]);
  assert.equal(new DashboardStore({}).isMine(conversation(1, { agent: mine })), false);
});

test("order: last message, else updated_at, else created_at, newest first; ties by id", () => {
  const a = { id: 1, created_at: "2026-11-24T09:00:00Z" };
  const b = { id: 2, created_at: "2026-11-24T08:00:00Z", updated_at: "2026-11-24T10:00:00Z" };
  const c = { id: 3, created_at: "2026-11-24T07:00:00Z", last_message: { created_at: "2026-11-24T11:00:00Z" } };
  const d = { id: 4, created_at: "2026-11-24T09:00:00Z" };
  assert.equal(activityTime(c), Date.parse("2026-11-24T11:00:00Z"));
  assert.equal(activityTime(b), Date.parse("2026-11-24T10:00:00Z"));
  assert.equal(activityTime({ id: 9 }), 0);
  assert.deepEqual(ids([a, b, c, d].sort(byActivity)), [3, 2, 4, 1]);
});

test("a conversation moves to the top when a new message arrives", () => {
  const store = populated();
  store.upsert({ ...conversation(1, { version: 2, at: "2026-11-24T14:00:00Z" }) });
  assert.deepEqual(ids(store.list("open")), [1, 5, 2, 3]);
});

test("each conversation is listed once however often it is upserted", () => {
  const store = populated();
  for (let version = 2; version < 6; version += 1) store.upsert(conversation(1, { version }));
  assert.equal(ids(store.list("open")).filter((id) => id === 1).length, 1);
});

// ── unread and the tab badge ─────────────────────────────────────────────────────────

test("unread is the server's count until this page reads past the conversation's end", () => {
  const store = new DashboardStore({ me: ME });
  store.upsert(conversation(1, { status: "active", agent: mine, unread: 3, last_seq: 8 }));
  assert.equal(store.unread(store.get(1)), 3);
  store.markRead(1, 7);
  assert.equal(store.unread(store.get(1)), 3, "not past the end yet");
  store.markRead(1, 8);
  assert.equal(store.unread(store.get(1)), 0, "at once, before the server answers");
  store.upsert(conversation(1, { version: 9, status: "active", agent: mine, unread: 1, last_seq: 9 }));
  assert.equal(store.unread(store.get(1)), 1, "a newer visitor message counts again");
  store.markRead(1, "x");
  assert.equal(store.unread(store.get(1)), 1);
});

test("the badge counts waiting conversations plus unread messages of mine", () => {
  const store = new DashboardStore({ me: ME });
  store.applySnapshot({
    conversations: [
      conversation(1, { status: "waiting", unread: 2 }),
      conversation(2, { status: "waiting" }),
      conversation(3, { status: "active", agent: mine, unread: 4, last_seq: 10 }),
      conversation(4, { status: "active", agent: theirs, unread: 5 }),
      conversation(5, { status: "closed", agent: mine, unread: 1 }),
    ],
  });
  assert.equal(store.badgeCount(), 2 + 4);
  store.markRead(3, 10);
  assert.equal(store.badgeCount(), 2);
  assert.equal(new DashboardStore({ me: ME }).badgeCount(), 0);
});

test("the dashboard marks delivered the visitor's last message of conversations that are mine or nobody's", () => {
  const store = new DashboardStore({ me: ME });
  const asked = (agent, marks = undefined) => ({
    id: 1,
    agent,
    last_message: { seq: 4, kind: "text", sender: "visitor" },
    ...(marks ? { marks } : {}),
  });
  assert.equal(store.deliverable(asked(null)), 4);
  assert.equal(store.deliverable(asked({ id: ME, name: "Me" }, { agent: { delivered: 3, seen: 0 } })), 4);
  assert.equal(store.deliverable(asked({ id: ME, name: "Me" }, { agent: { delivered: 4, seen: 0 } })), null);
  assert.equal(store.deliverable(asked({ id: 9, name: "Lee" })), null, "Lee's client says when it has it");
  const answered = { id: 1, agent: null, last_message: { seq: 5, kind: "text", sender: "agent" } };
  assert.equal(store.deliverable(answered), null);
});
