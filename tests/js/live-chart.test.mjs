import assert from "node:assert/strict";
import test from "node:test";

import { linePath, roundMaximum } from "../../devtone/static/js/live-chart.js";

test("the value axis ends at a round maximum, never below the least asked", () => {
  assert.equal(roundMaximum([0, 0]), 1);
  assert.equal(roundMaximum([0.4, null]), 1);
  assert.equal(roundMaximum([3, 1]), 5);
  assert.equal(roundMaximum([12]), 20);
  assert.equal(roundMaximum([375, 1.8]), 500);
  assert.equal(roundMaximum([1000]), 1000);
  assert.equal(roundMaximum([], 10), 10);
});

test("a line runs from the span's start to its end, and a missing value breaks it", () => {
  const end = 600_000;
  const times = [0, 300_000, 450_000, 600_000];
  const scale = { end, spanMs: 600_000, maximum: 10 };
  // Plot: x from 40 to 312, y from 100 (0) to 8 (the maximum).
  assert.equal(linePath(times, [0, 10, 5, 5], scale), "M40.0 100.0L176.0 8.0L244.0 54.0L312.0 54.0");
  assert.equal(linePath(times, [0, null, 5, 5], scale), "M40.0 100.0M244.0 54.0L312.0 54.0");
  assert.equal(linePath([-5_000, ...times], [1, 0, 0, 0, 0], scale).startsWith("M40.0 100.0"), true);
  assert.equal(linePath([], [], scale), "");
});
