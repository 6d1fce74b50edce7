import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CHAT_LABELS,
  ConnectionIndicator,
  DASHBOARD_LABELS,
  DASHBOARD_MEANINGS,
  accessibleName,
  describe,
} from "../../devtone/static/js/indicator.js";

const element = () => ({
  dataset: {},
  textContent: "",
  title: "",
  attributes: {},
  setAttribute(name, value) {
    this.attributes[name] = String(value);
  },
});
// The tooltip's second line: the tier and the next retry.
const detail = (el) => el.title.split("\n")[1];
const clock = (ms) => `T+${ms}`;

test("each state renders its chat label and data attributes", () => {
  const cases = [
    ["connecting", "none", "Connecting…"],
    ["live", "sse", "Live"],
    ["polling", "longpoll", "Polling"],
    ["polling", "poll", "Polling"],
    ["offline", "none", "Offline"],
  ];
  for (const [state, tier, label] of cases) {
    const el = element();
    new ConnectionIndicator(el).render({ state, tier });
    assert.deepEqual(el.dataset, { state, tier });
    assert.equal(el.textContent, label);
  }
});

test("no label depends on an emoji font: the colour is the stylesheet's dot", () => {
  for (const label of [...Object.values(CHAT_LABELS), ...Object.values(DASHBOARD_LABELS)]) {
    assert.doesNotMatch(label, /\p{Extended_Pictographic}/u, label);
  }
});

const DASHBOARD = { labels: DASHBOARD_LABELS, meanings: DASHBOARD_MEANINGS };

test("the accessible name and the tooltip say what the state means, for the visitor and the agent", () => {
  const cases = [
    [{}, "live", "sse", "Live: Messages arrive instantly", "Messages arrive instantly"],
    [{}, "polling", "longpoll", "Polling: Messages may take a few seconds", "Messages may take a few seconds"],
    [{}, "offline", "none", "Offline — we'll send when you're back", "Offline — we'll send when you're back"],
    [DASHBOARD, "live", "sse", "Real-time: Conversations and messages update instantly", "Conversations and messages update instantly"],
    [DASHBOARD, "polling", "poll", "Polling Mode: Updates may take a few seconds", "Updates may take a few seconds"],
    [DASHBOARD, "offline", "none", "Disconnected — replies are sent when the connection is back", "Disconnected — replies are sent when the connection is back"],
  ];
  for (const [options, state, tier, name, meaning] of cases) {
    const el = element();
    new ConnectionIndicator(el, options).render({ state, tier });
    assert.equal(el.attributes["aria-label"], name);
    assert.equal(el.title.split("\n")[0], meaning);
  }
});

test("the tooltip's second line names the tier", () => {
  const el = element();
  const indicator = new ConnectionIndicator(el);
  indicator.render({ state: "live", tier: "sse" });
  assert.equal(detail(el), "Connected (Server-Sent Events)");
  indicator.render({ state: "polling", tier: "longpoll" });
  assert.equal(detail(el), "Polling (long-poll)");
  indicator.render({ state: "polling", tier: "poll" });
  assert.equal(detail(el), "Polling (poll)");
});

test("the polling tooltip names the tier and when the live connection is retried", () => {
  const el = element();
  new ConnectionIndicator(el, { formatTime: clock }).render({ state: "polling", tier: "longpoll", nextRetryAt: 7000 });
  assert.equal(detail(el), "Polling (long-poll); retrying live connection at T+7000");
  assert.equal(el.textContent, "Polling");
  assert.deepEqual(el.dataset, { state: "polling", tier: "longpoll" });
});

test("the offline tooltip names the next retry time", () => {
  const el = element();
  new ConnectionIndicator(el, { formatTime: clock }).render({ state: "offline", tier: "none", nextRetryAt: 5000 });
  assert.equal(detail(el), "Disconnected; next retry at T+5000");
  assert.equal(describe({ state: "offline", tier: "none", nextRetryAt: null }), "Disconnected");
});

test("labels can be replaced, for the dashboard", () => {
  const el = element();
  new ConnectionIndicator(el, DASHBOARD).render({ state: "polling", tier: "poll" });
  assert.equal(el.textContent, "Polling Mode");
  assert.equal(CHAT_LABELS.live, "Live");
});

test("the accessible name says the label once", () => {
  assert.equal(accessibleName("Live", "Messages arrive instantly"), "Live: Messages arrive instantly");
  assert.equal(accessibleName("Connecting…", "Connecting — messages will be sent once connected"), "Connecting — messages will be sent once connected");
  assert.equal(accessibleName("Live", undefined), "Live");
});

test("a statechange detail can be rendered as it is", () => {
  const el = element();
  const detail = { state: "live", tier: "sse", previous: { state: "connecting", tier: "sse" }, reason: "hello", nextRetryAt: null };
  new ConnectionIndicator(el).render(detail);
  assert.equal(el.dataset.state, "live");
});
