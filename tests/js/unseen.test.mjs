import assert from "node:assert/strict";
import test from "node:test";

import { UnseenMessages } from "../../devtone/static/js/unseen.js";

const agent = (seq, kind = "text") => ({ seq, sender: "agent", kind, body: `m${seq}` });

test("counts the agent's text entries above the visitor's seen mark, each once", () => {
  const unseen = new UnseenMessages();
  assert.equal(unseen.add(agent(1)), true);
  assert.equal(unseen.add(agent(1)), false); // the POST answer and the stream both bring it
  assert.equal(unseen.add(agent(2, "status")), false);
  assert.equal(unseen.add({ seq: 3, sender: "visitor", kind: "text" }), false);
  assert.equal(unseen.add(agent(4)), true);
  assert.equal(unseen.count, 2);
});

test("a page that loads the conversation anew counts what the server's mark leaves unseen", () => {
  const unseen = new UnseenMessages();
  for (const seq of [2, 4, 6]) unseen.add(agent(seq));
  assert.equal(unseen.seenUpTo(4), true); // marks.visitor.seen from the history
  assert.equal(unseen.count, 1);
  assert.equal(unseen.seenUpTo(3), false); // a mark never moves back
  assert.equal(unseen.add(agent(3)), false); // below the mark: seen already
  assert.equal(unseen.seenUpTo(6), true);
  assert.equal(unseen.count, 0);
  unseen.reset();
  assert.equal(unseen.seen, 0);
});

test("a bot's replies count as the team's for the visitor's badge", () => {
  const unseen = new UnseenMessages();
  assert.equal(unseen.add({ seq: 1, sender: "bot", kind: "text", body: "Hi" }), true);
  assert.equal(unseen.count, 1);
});
