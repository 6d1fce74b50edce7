import assert from "node:assert/strict";
import { test } from "node:test";

import { renderGreeting, replyTimeText } from "../../devtone/static/js/greeting.js";

test("the reply line says how soon the team typically replies, in people's numbers", () => {
  const cases = [
    [14.686, "Typically replies in under a minute"],
    [59, "Typically replies in under a minute"],
    [60, "Typically replies in a few minutes"],
    [299, "Typically replies in a few minutes"],
    [300, "Typically replies in about 5 minutes"],
    [11 * 60 + 40, "Typically replies in about 10 minutes"],
    [13 * 60, "Typically replies in about 15 minutes"],
    [57 * 60, "Typically replies in about 55 minutes"],
    [58 * 60, "Typically replies in about an hour"],
    [89 * 60, "Typically replies in about an hour"],
    [3 * 3600 + 10 * 60, "Typically replies in about 3 hours"],
    [23.4 * 3600, "Typically replies in about 23 hours"],
    [23.6 * 3600, "Typically replies in about a day"],
    [2.2 * 86400, "Typically replies in about 2 days"],
  ];
  for (const [seconds, line] of cases) assert.equal(replyTimeText(seconds, "en-US"), line, String(seconds));
});

test("without a measured reply time the line promises nothing it cannot keep", () => {
  for (const seconds of [null, undefined, Number.NaN, -1]) {
    assert.equal(replyTimeText(seconds), "We'll reply as soon as we can");
  }
});

test("renderGreeting words the line from the server's figure, or the neutral line", () => {
  const line = (value) => ({ dataset: { typicalReplySeconds: value }, textContent: "" });
  const root = (element) => ({ querySelector: (selector) => (selector === "[data-typical-reply-seconds]" ? element : null) });
  const measured = line("750.5");
  renderGreeting(root(measured), "en-US");
  assert.equal(measured.textContent, "Typically replies in about 15 minutes");
  const none = line("");
  renderGreeting(root(none), "en-US");
  assert.equal(none.textContent, "We'll reply as soon as we can");
});
