// Drafts: an agent's unsent text kept across an ended session, per agent and conversation.
import assert from "node:assert/strict";
import { test } from "node:test";

import { DRAFT_KEY_PREFIX, Drafts } from "../../devtone/static/js/drafts.js";
import { MemoryStorage } from "./fakes.mjs";

test("a kept draft comes back once, for that agent and conversation only", () => {
  const storage = new MemoryStorage();
  const maria = new Drafts({ agentId: 1, storage });
  const lee = new Drafts({ agentId: 2, storage });
  maria.keep("7", "Olá! Já verifico o seu pedido 👋");
  assert.deepEqual([...storage.items.keys()], [`${DRAFT_KEY_PREFIX}1.7`]);
  assert.equal(lee.take("7"), "", "another agent on this browser never gets it");
  assert.equal(maria.take("8"), "");
  assert.equal(maria.take("7"), "Olá! Já verifico o seu pedido 👋");
  assert.equal(maria.take("7"), "", "taken once");
});

test("blank drafts are not kept, and storage that throws loses only the draft", () => {
  const storage = new MemoryStorage();
  const drafts = new Drafts({ agentId: 1, storage });
  drafts.keep("7", "   \n");
  assert.equal(storage.items.size, 0);
  storage.broken = true;
  drafts.keep("7", "text");
  assert.equal(drafts.take("7"), "");
});
