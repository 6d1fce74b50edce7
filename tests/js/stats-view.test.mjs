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

test("a rating figure reads as its average and count, and none as a dash", async () => {
  const { ratingText, statValue } = await import("../../devtone/static/js/stats-view.js");
  assert.equal(ratingText({ count: 2, average: 4.5 }), "4.5 · 2 ratings");
  assert.equal(ratingText({ count: 1, average: 5 }), "5.0 · 1 rating");
  assert.equal(ratingText({ count: 0, average: null }), "—");
  assert.equal(statText({ count: 3, average: 3.667 }, "ratings.week"), "3.7 · 3 ratings");
  const stats = { ratings: { today: { count: 1, average: 4 } } };
  assert.deepEqual(statValue(stats, "ratings.today"), { count: 1, average: 4 });
  assert.equal(statValue(stats, "ratings.week.count"), undefined);
});
