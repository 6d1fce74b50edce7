import assert from "node:assert/strict";
import { test } from "node:test";

import { withLabel } from "../../devtone/static/js/labels-view.js";
import { labelChangeText, messageClasses } from "../../devtone/static/js/message-list.js";
import { snippetRuns } from "../../devtone/static/js/search-view.js";

test("a label is added once and removed whatever its case", () => {
  assert.deepEqual(withLabel(["VIP"], "bug", true), ["VIP", "bug"]);
  assert.deepEqual(withLabel(["VIP", "bug"], "vip", true), ["bug", "vip"]);
  assert.deepEqual(withLabel(["VIP", "bug"], "vip", false), ["bug"]);
  assert.deepEqual(withLabel(undefined, "VIP", false), []);
});

test("a label entry reads as who added and removed which labels", () => {
  const entry = { kind: "label", author: { name: "Maria" }, body: '{"added":["VIP","bug"],"removed":["spam"]}' };
  assert.equal(labelChangeText(entry), "Maria added the labels: VIP, bug. Maria removed the labels: spam.");
  assert.equal(labelChangeText({ ...entry, body: "not json" }), "");
  assert.ok(messageClasses(entry).includes("message--status"), "a line of the log, not a bubble");
});

test("a snippet keeps only text parts, the hits marked as booleans", () => {
  const parts = [{ text: "Quero um ", hit: false }, { text: "<b>reembolso</b>", hit: true }, { text: "" }, { hit: true }, null, { text: "!", hit: "yes" }];
  assert.deepEqual(snippetRuns(parts), [
    { text: "Quero um ", hit: false },
    { text: "<b>reembolso</b>", hit: true },
    { text: "!", hit: false },
  ]);
  assert.deepEqual(snippetRuns("<script>"), []);
});
