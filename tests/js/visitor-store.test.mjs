import assert from "node:assert/strict";
import test from "node:test";

import {
  EARLIER_MAX,
  heldIds,
  validVisitor,
  withEarlier,
  identifiedVisitor,
  leavingConversation,
  resumingConversation,
  withConversation,
  withoutConversation,
} from "../../devtone/static/js/visitor-store.js";

const token = (c) => c.repeat(43);
const ada = { name: "Ada", email: "ada@example.com" };

test("a visitor is known by name before any conversation; the first message brings one", () => {
  const started = withConversation(ada, { id: 7, token: token("a"), startedAt: "2026-12-06T10:00:00Z" });
  assert.deepEqual(started, { ...ada, conversationId: 7, token: token("a"), startedAt: "2026-12-06T10:00:00Z" });
});

test("a new conversation keeps the one left among the earlier ones, newest first", () => {
  let record = withConversation(ada, { id: 7, token: token("a"), startedAt: "t7" });
  record = leavingConversation(record);
  assert.deepEqual(record, { ...ada, earlier: [{ conversationId: 7, token: token("a"), startedAt: "t7" }], fresh: true });
  record = leavingConversation(withConversation(record, { id: 8, token: token("b"), startedAt: "t8" }));
  assert.deepEqual(
    record.earlier.map((c) => c.conversationId),
    [8, 7],
  );
});

test("resuming an earlier conversation swaps it with the current one", () => {
  let record = leavingConversation(withConversation(ada, { id: 7, token: token("a"), startedAt: "t7" }));
  record = withConversation(record, { id: 8, token: token("b"), startedAt: "t8" });
  record = resumingConversation(record, 7);
  assert.equal(record.conversationId, 7);
  assert.equal(record.token, token("a"));
  assert.deepEqual(record.earlier, [{ conversationId: 8, token: token("b"), startedAt: "t8" }]);
  assert.equal(resumingConversation(record, 99), record); // not theirs: nothing changes
});

test("a conversation whose token no longer opens it is let go, wherever it is", () => {
  let record = leavingConversation(withConversation(ada, { id: 7, token: token("a") }));
  record = withConversation(record, { id: 8, token: token("b") });
  assert.deepEqual(withoutConversation(record, 8), { ...ada, earlier: [{ conversationId: 7, token: token("a"), startedAt: "" }] });
  assert.deepEqual(withoutConversation(record, 7), { ...ada, conversationId: 8, token: token("b") });
});

test("only the newest earlier conversations are kept", () => {
  let record = { ...ada };
  for (let id = 1; id <= EARLIER_MAX + 3; id += 1) {
    record = leavingConversation(withConversation(record, { id, token: token("c") }));
  }
  assert.equal(record.earlier.length, EARLIER_MAX);
  assert.equal(record.earlier[0].conversationId, EARLIER_MAX + 3);
});

const SIGNED = { id: "customer-42", hash: "a".repeat(64) };
const OTHER = { id: "customer-7", hash: "b".repeat(64) };
const IN_CONVERSATION = { name: "Ada", identity: SIGNED, conversationId: 3, token: "t".repeat(43) };

test("identify with the same identity on every page load changes nothing in a conversation", () => {
  // Keeping nothing new is what lets the open conversation keep its live feed.
  assert.deepEqual(identifiedVisitor(IN_CONVERSATION, { name: "Ada", ...SIGNED }), { forget: false, record: null, resume: false });
});

test("identify links an anonymous visitor's conversation to the signed id, without looking elsewhere", () => {
  const { forget, record, resume } = identifiedVisitor({ ...IN_CONVERSATION, identity: undefined }, SIGNED);
  assert.equal(forget, false);
  assert.equal(resume, false);
  assert.deepEqual(record.identity, SIGNED);
  assert.equal(record.conversationId, 3);
});

test("another signed-in person on this browser forgets the previous one first", () => {
  const { forget, record, resume } = identifiedVisitor(IN_CONVERSATION, { name: "Bea", ...OTHER });
  assert.equal(forget, true);
  assert.deepEqual(record, { name: "Bea", identity: OTHER });
  assert.equal(resume, true);
});

test("identify outside a conversation keeps who they are and looks for their open one", () => {
  assert.deepEqual(identifiedVisitor(null, { name: " Ada ", email: "ada@example.com", ...SIGNED }), {
    forget: false,
    record: { name: "Ada", email: "ada@example.com", identity: SIGNED },
    resume: true,
  });
  // A name alone: kept, nothing to look for; nothing at all, or a malformed hash: nothing.
  assert.deepEqual(identifiedVisitor(null, { name: "Ada" }), { forget: false, record: { name: "Ada" }, resume: false });
  assert.deepEqual(identifiedVisitor(null, {}), { forget: false, record: null, resume: false });
  assert.deepEqual(identifiedVisitor(null, { id: "x", hash: "<script>" }), { forget: false, record: null, resume: false });
});

test("conversations from other browsers join the earlier ones once, never the current one", () => {
  const record = { name: "Ada", conversationId: 3, token: token("c"), earlier: [{ conversationId: 2, token: token("b"), startedAt: "2026-12-01T10:00:00Z" }] };
  assert.deepEqual(heldIds(record), [3, 2]);
  const merged = withEarlier(record, [
    { conversationId: 3, token: token("x"), startedAt: "2026-12-05T10:00:00Z" },
    { conversationId: 2, token: token("y"), startedAt: "2026-12-01T10:00:00Z" },
    { conversationId: 1, token: token("a"), startedAt: "2026-11-30T10:00:00Z" },
  ]);
  assert.deepEqual(merged.earlier.map((c) => [c.conversationId, c.token]), [[2, token("b")], [1, token("a")]]);
  assert.equal(merged.token, token("c"));
  assert.deepEqual(heldIds(null), []);
  assert.deepEqual(withEarlier({ name: "Ada" }, []), { name: "Ada" });
});

test("a signed visitor who asked for a new conversation is not handed the one they left, even after a reload", () => {
  const left = leavingConversation(IN_CONVERSATION);
  assert.equal(left.fresh, true);
  assert.deepEqual(left.earlier.map((c) => c.conversationId), [3]);
  // The page reloads; the host page says who they are again: nothing is resumed.
  assert.equal(identifiedVisitor(left, { name: "Ada", ...SIGNED }).resume, false);
  // Their first message starts the new one: the record is a conversation's again.
  const started = withConversation(left, { id: 9, token: token("n"), startedAt: "2026-12-07T10:00:00Z" });
  assert.equal(started.fresh, undefined);
  assert.equal(validVisitor({ name: "Ada", fresh: "yes" }).fresh, undefined);
});

test("earlier conversations from other browsers keep the newest when there are more than fit", () => {
  const held = Array.from({ length: 9 }, (_, n) => ({ conversationId: 10 - n, token: token(String.fromCharCode(97 + n)) }));
  const merged = withEarlier({ name: "Ada", earlier: held }, [20, 19, 18].map((id) => ({ conversationId: id, token: token("z") })));
  assert.deepEqual(merged.earlier.map((c) => c.conversationId), [20, 19, 18, 10, 9, 8, 7, 6, 5, 4]);
});
