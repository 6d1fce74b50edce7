import assert from "node:assert/strict";
import { test } from "node:test";

import { backoff } from "../../devtone/static/js/realtime/retries.js";

const middle = () => 0.5; // 2 * 0.5 - 1 = 0: no jitter

test("delays double from one second", () => {
  const delays = [1, 2, 3, 4, 5].map((attempt) => backoff(attempt, { random: middle }));
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000]);
});

test("delays are capped at maxMs", () => {
  assert.equal(backoff(6, { random: middle }), 30000);
  assert.equal(backoff(50, { random: middle }), 30000);
  assert.equal(backoff(5000, { random: middle }), 30000);
});

test("jitter spreads each delay by plus or minus twenty percent", () => {
  assert.equal(backoff(2, { random: () => 0 }), 1600);
  assert.equal(backoff(2, { random: () => 0.999999 }), 2400);
  assert.equal(backoff(10, { random: () => 0 }), 24000);
});

test("jitter is drawn on every call", () => {
  let calls = 0;
  const random = () => (calls++ % 2 ? 0 : 0.999999);
  assert.notEqual(backoff(3, { random }), backoff(3, { random }));
  assert.equal(calls, 2);
});

test("real random delays stay within the jitter band", () => {
  for (let i = 0; i < 200; i += 1) {
    const ms = backoff(3);
    assert.ok(ms >= 3200 && ms <= 4800, `${ms} outside 4000 ± 20%`);
  }
});

test("options change the curve", () => {
  assert.equal(backoff(3, { initialMs: 100, maxMs: 250, jitter: 0 }), 250);
  assert.equal(backoff(2, { initialMs: 100, jitter: 0 }), 200);
});

test("nonsense attempts count as the first", () => {
  for (const attempt of [0, -3, Number.NaN, undefined]) {
    assert.equal(backoff(attempt, { random: middle }), 1000);
  }
});
