import assert from "node:assert/strict";
import { test } from "node:test";

import { STATE_LABELS, laterMarks, messageState } from "../../devtone/static/js/message-states.js";

test("a stored message is sent, delivered or seen by the other side's marks", () => {
  const marks = { delivered: 7, seen: 4 };
  assert.equal(messageState(3, marks), "seen");
  assert.equal(messageState(4, marks), "seen");
  assert.equal(messageState(5, marks), "delivered");
  assert.equal(messageState(7, marks), "delivered");
  assert.equal(messageState(8, marks), "sent");
});

test("seen implies delivered, and missing marks mean nothing reached the other side", () => {
  assert.equal(messageState(5, { delivered: 2, seen: 6 }), "seen");
  assert.equal(messageState(1, undefined), "sent");
  assert.equal(messageState(1, { seen: "1" }), "sent");
});

test("marks only move forward, each on its own", () => {
  assert.deepEqual(laterMarks({ delivered: 5, seen: 3 }, { delivered: 4, seen: 4 }), { delivered: 5, seen: 4 });
  assert.deepEqual(laterMarks({ delivered: 5, seen: 3 }, null), { delivered: 5, seen: 3 });
  assert.deepEqual(laterMarks(undefined, { seen: 2 }), { delivered: 0, seen: 2 });
});

test("every state has a name to read aloud", () => {
  assert.deepEqual(Object.keys(STATE_LABELS), ["sending", "sent", "delivered", "seen", "failed"]);
  assert.equal(STATE_LABELS.failed, "Not sent");
});
