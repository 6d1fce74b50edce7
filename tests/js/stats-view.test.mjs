import assert from "node:assert/strict";
import test from "node:test";

import { durationText, statText } from "../../devtone/static/js/stats-view.js";

test("a median first reply reads as people say it, never 14.686", () => {
  assert.equal(statText(14.686, "median_first_reply_seconds"), "15 s");
  assert.equal(durationText(0.2), "0 s");
  assert.equal(durationText(59.4), "59 s");
  assert.equal(durationText(125), "2 min 5 s");
  assert.equal(durationText(180), "3 min");
  assert.equal(durationText(1500), "25 min");
  assert.equal(durationText(4200), "1 h 10 min");
  assert.equal(durationText(7200), "2 h");
});

test("counts are whole numbers; nothing yet is a dash", () => {
  assert.equal(statText(3, "waiting"), "3");
  assert.equal(statText(null, "median_first_reply_seconds"), "—");
  assert.equal(statText(undefined, "waiting"), "—");
});
