// Drafts: an agent's unsent text kept across an ended session, per agent and conversation.
import assert from "node:assert/strict";
import { test } from "node:test";

import { DRAFT_KEY_PREFIX, Drafts, parseDraft } from "../../devtone/static/js/drafts.js";
import { MemoryStorage } from "./fakes.mjs";

const NONE = { text: "", kind: "text" };

test("a kept draft comes back once, for that agent and conversation only", () => {
  const storage = new MemoryStorage();
  const maria = new Drafts({ agentId: 1, storage });
  const lee = new Drafts({ agentId: 2, storage });
  maria.keep("7", "Olá! Já verifico o seu pedido 👋");
  assert.deepEqual([...storage.items.keys()], [`${DRAFT_KEY_PREFIX}1.7`]);
  assert.deepEqual(lee.take("7"), NONE, "another agent on this browser never gets it");
  assert.deepEqual(maria.take("8"), NONE);
  assert.deepEqual(maria.take("7"), { text: "Olá! Já verifico o seu pedido 👋", kind: "text" });
  assert.deepEqual(maria.take("7"), NONE, "taken once");
});

test("a private note's draft comes back as a note, never as a reply to the visitor", () => {
  const drafts = new Drafts({ agentId: 1, storage: new MemoryStorage() });
  drafts.keep("7", "Customer is lying about the delivery", "note");
  assert.deepEqual(drafts.take("7"), { text: "Customer is lying about the delivery", kind: "note" });
});

test("a draft kept as plain text by the page before notes comes back as a reply", () => {
  assert.deepEqual(parseDraft("Já verifico"), { text: "Já verifico", kind: "text" });
  assert.deepEqual(parseDraft('{"text": "x", "kind": "<b>"}'), { text: "x", kind: "text" });
  assert.deepEqual(parseDraft("42"), { text: "42", kind: "text" });
});

test("blank drafts are not kept, and storage that throws loses only the draft", () => {
  const storage = new MemoryStorage();
  const drafts = new Drafts({ agentId: 1, storage });
  drafts.keep("7", "   \n");
  assert.equal(storage.items.size, 0);
  storage.broken = true;
  drafts.keep("7", "text");
  assert.deepEqual(drafts.take("7"), NONE);
});
