import assert from "node:assert/strict";
import test from "node:test";

import {
  EARLIER_MAX,
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
  assert.deepEqual(record, { ...ada, earlier: [{ conversationId: 7, token: token("a"), startedAt: "t7" }] });
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
