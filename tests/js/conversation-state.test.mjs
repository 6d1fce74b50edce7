import assert from "node:assert/strict";
import { test } from "node:test";

import { ConversationState, statusLine } from "../../devtone/static/js/conversation-state.js";
import { previewOf, replyUnseen, truncate } from "../../devtone/static/js/conversation-list.js";

test("the header line for each status", () => {
  assert.equal(statusLine({ status: "waiting" }), "Waiting for an agent…");
  assert.equal(statusLine({ status: "active", agentName: "Maria" }), "Maria is here");
  assert.equal(statusLine({ status: "active" }), "An agent is here");
  assert.equal(statusLine({ status: "closed", agentName: "Maria" }), "This conversation is closed");
  assert.equal(statusLine({ status: null }), "");
});

test("a conversation JSON sets status, agent and read mark; an older version is ignored", () => {
  const state = new ConversationState();
  const conversation = { id: 7, status: "active", agent: { id: 1, name: "Maria" }, agent_read_seq: 4, version: 6 };
  assert.equal(state.applyConversation(conversation), true);
  assert.equal(state.line, "Maria is here");
  assert.equal(state.readSeq, 4);
  assert.equal(state.applyConversation(conversation), false, "nothing changed");
  assert.equal(state.applyConversation({ ...conversation, status: "waiting", agent_read_seq: 2, version: 5 }), false);
  assert.equal(state.status, "active");
  assert.equal(state.applyConversation({ ...conversation, agent_read_seq: 6, version: 7 }), true);
  assert.equal(state.readSeq, 6);
  assert.equal(state.applyConversation(null), false);
});

test("status entries move the status; the system's name is never taken for the agent's", () => {
  const state = new ConversationState();
  state.applyConversation({ status: "waiting", agent: null, version: 1 });
  assert.equal(state.line, "Waiting for an agent…");
  const joined = { seq: 2, kind: "status", sender: "system", status: "active", author: { name: "devtone" }, body: "Maria joined the conversation." };
  assert.equal(state.applyEntry(joined), true);
  assert.equal(state.line, "An agent is here");
  state.applyConversation({ status: "active", agent: { id: 1, name: "Maria" }, version: 2 });
  assert.equal(state.line, "Maria is here");
  assert.equal(state.applyEntry({ seq: 3, kind: "status", sender: "system", status: "closed", body: "The conversation was closed." }), true);
  assert.equal(state.line, "This conversation is closed");
  state.applyEntry({ seq: 4, kind: "status", sender: "visitor", status: "waiting", author: { name: "Ann" }, body: "The conversation was reopened." });
  assert.equal(state.status, "waiting");
  assert.equal(state.agentName, "Maria", "the visitor reopening it is not an agent");
});

test("an agent's message names the agent; reset forgets everything", () => {
  const state = new ConversationState();
  state.applyConversation({ status: "active", version: 3 });
  state.applyEntry({ seq: 1, kind: "text", sender: "agent", author: { name: "Bo" }, body: "Hi" });
  assert.equal(state.line, "Bo is here");
  state.reset();
  assert.deepEqual([state.status, state.agentName, state.readSeq], [null, null, 0]);
  assert.equal(state.applyConversation({ status: "waiting", version: 1 }), true, "versions start over");
});

test("list previews: truncated text, agents named, no messages said so", () => {
  assert.equal(truncate("a  b\n c"), "a b c");
  assert.equal(truncate("x".repeat(100), 10), `${"x".repeat(9)}…`);
  assert.equal(truncate("👋".repeat(5), 3), "👋👋…", "never half an emoji");
  assert.equal(previewOf({ last_message: null }), "No messages yet");
  assert.equal(previewOf({ last_message: { kind: "text", sender: "visitor", body: "<b>hi</b>" } }), "<b>hi</b>");
  assert.equal(previewOf({ last_message: { kind: "text", sender: "agent", author: { name: "Maria" }, body: "On it" } }), "Maria: On it");
});

test("the list flags a conversation whose last reply the visitor has not seen", () => {
  const reply = { seq: 5, kind: "text", sender: "agent" };
  assert.equal(replyUnseen({ last_message: reply, marks: { visitor: { delivered: 5, seen: 4 } } }), true);
  assert.equal(replyUnseen({ last_message: reply, marks: { visitor: { delivered: 5, seen: 5 } } }), false);
  assert.equal(replyUnseen({ last_message: reply }), true, "no marks yet: nothing seen");
  const question = { seq: 6, kind: "text", sender: "visitor" };
  assert.equal(replyUnseen({ last_message: question, marks: { visitor: { seen: 0 } } }), false);
  assert.equal(replyUnseen({ last_message: null }), false);
});

test("a bot's reply is named in the preview and flagged until the visitor sees it", () => {
  const reply = { seq: 3, kind: "text", sender: "bot", author: { name: "Helpdesk bot" }, body: "Shipped" };
  assert.equal(previewOf({ last_message: reply }), "Helpdesk bot: Shipped");
  assert.equal(replyUnseen({ last_message: reply, marks: { visitor: { seen: 2 } } }), true);
  assert.equal(replyUnseen({ last_message: reply, marks: { visitor: { seen: 3 } } }), false);
});
