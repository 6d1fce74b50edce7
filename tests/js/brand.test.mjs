import assert from "node:assert/strict";
import { test } from "node:test";

import { channels, luminance, textOn } from "../../devtone/static/js/brand.js";

test("a dark or saturated brand colour gets white text, a light one near-black", () => {
  assert.equal(textOn([37, 99, 235]), "#ffffff"); // devtone's blue
  assert.equal(textOn([10, 125, 50]), "#ffffff"); // a shop's green
  assert.equal(textOn([255, 221, 0]), "#111827"); // yellow
  assert.equal(textOn([255, 255, 255]), "#111827");
});

test("luminance runs from black to white", () => {
  assert.equal(luminance([0, 0, 0]), 0);
  assert.ok(Math.abs(luminance([255, 255, 255]) - 1) < 1e-9);
});

test("computed colours are read as channels; anything else is refused", () => {
  assert.deepEqual(channels("rgb(10, 125, 50)"), [10, 125, 50]);
  assert.deepEqual(channels("rgba(1, 2, 3, 0.5)"), [1, 2, 3]);
  assert.equal(channels("color(display-p3 1 0 0)"), null);
});
