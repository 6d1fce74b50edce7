import assert from "node:assert/strict";
import { test } from "node:test";

import { CHAT_LABELS, ConnectionIndicator, describe } from "../../devtone/static/js/indicator.js";

const element = () => ({ dataset: {}, textContent: "", title: "" });
const clock = (ms) => `T+${ms}`;

test("each state renders its chat label and data attributes", () => {
  const cases = [
    ["connecting", "none", "Connecting…"],
    ["live", "sse", "🟢 Live"],
    ["polling", "longpoll", "🟡 Polling"],
    ["polling", "poll", "🟡 Polling"],
    ["offline", "none", "🔴 Offline"],
  ];
  for (const [state, tier, label] of cases) {
    const el = element();
    new ConnectionIndicator(el).render({ state, tier });
    assert.deepEqual(el.dataset, { state, tier });
    assert.equal(el.textContent, label);
  }
});

test("the tooltip names the tier", () => {
  const el = element();
  const indicator = new ConnectionIndicator(el);
  indicator.render({ state: "live", tier: "sse" });
  assert.equal(el.title, "Connected (Server-Sent Events)");
  indicator.render({ state: "polling", tier: "longpoll" });
  assert.equal(el.title, "Polling (long-poll)");
  indicator.render({ state: "polling", tier: "poll" });
  assert.equal(el.title, "Polling (poll)");
});

test("the polling tooltip names the tier and when the live connection is retried", () => {
  const el = element();
  new ConnectionIndicator(el, { formatTime: clock }).render({ state: "polling", tier: "longpoll", nextRetryAt: 7000 });
  assert.equal(el.title, "Polling (long-poll); retrying live connection at T+7000");
  assert.equal(el.textContent, "🟡 Polling");
  assert.deepEqual(el.dataset, { state: "polling", tier: "longpoll" });
});

test("the offline tooltip names the next retry time", () => {
  const el = element();
  new ConnectionIndicator(el, { formatTime: clock }).render({ state: "offline", tier: "none", nextRetryAt: 5000 });
  assert.equal(el.title, "Disconnected; next retry at T+5000");
  assert.equal(describe({ state: "offline", tier: "none", nextRetryAt: null }), "Disconnected");
});

test("labels can be replaced, for the dashboard", () => {
  const el = element();
  new ConnectionIndicator(el, { labels: { live: "🟢 Real-time" } }).render({ state: "live", tier: "sse" });
  assert.equal(el.textContent, "🟢 Real-time");
  assert.equal(CHAT_LABELS.live, "🟢 Live");
});

test("a statechange detail can be rendered as it is", () => {
  const el = element();
  const detail = { state: "live", tier: "sse", previous: { state: "connecting", tier: "sse" }, reason: "hello", nextRetryAt: null };
  new ConnectionIndicator(el).render(detail);
  assert.equal(el.dataset.state, "live");
});
