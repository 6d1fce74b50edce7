// Tier reports: each change between two real tiers is POSTed once with a reason code.
import assert from "node:assert/strict";
import { test } from "node:test";

import { MonitorFeed } from "../../devtone/static/js/realtime/monitor-feed.js";
import { reasonCode, reportTierChanges } from "../../devtone/static/js/realtime/tier-report.js";

function harness() {
  const negotiator = new EventTarget();
  const sent = [];
  const fetch = (url, init) => {
    sent.push({ url, init, body: JSON.parse(init.body) });
    return Promise.resolve({ ok: true });
  };
  const change = (tier, reason, state = "connecting") =>
    negotiator.dispatchEvent(new CustomEvent("statechange", { detail: { state, tier, reason } }));
  return { negotiator, sent, fetch, change };
}

test("a fallback and an upgrade are reported with their reasons, the first tier is not", () => {
  const { negotiator, sent, fetch, change } = harness();
  reportTierChanges(negotiator, { url: "/api/realtime/report", kind: "conversation", fetch });
  change("none", "start");
  change("sse", "start");
  change("sse", "hello", "live");
  change("longpoll", "SSE timeout");
  change("longpoll", "hello", "polling");
  change("sse", "hello", "live");
  assert.deepEqual(
    sent.map((s) => s.body),
    [
      { from: "sse", to: "longpoll", reason: "timeout", kind: "conversation" },
      { from: "longpoll", to: "sse", reason: "upgrade", kind: "conversation" },
    ],
  );
  assert.equal(sent[0].url, "/api/realtime/report");
  assert.equal(sent[0].init.method, "POST");
  assert.equal(sent[0].init.keepalive, true);
  assert.equal(sent[0].init.headers["Content-Type"], "application/json");
});

test("going offline in between reports the tier before and the tier after", () => {
  const { negotiator, sent, fetch, change } = harness();
  reportTierChanges(negotiator, { fetch });
  change("poll", "hello", "polling");
  change("none", "poll failed: HTTP 502", "offline");
  change("sse", "retry");
  assert.deepEqual(sent.map((s) => s.body), [{ from: "poll", to: "sse", reason: "reconnect" }]);
});

test("a failing report is ignored and the returned function stops reporting", async () => {
  const { negotiator, change } = harness();
  let calls = 0;
  const stop = reportTierChanges(negotiator, {
    fetch: () => {
      calls += 1;
      return Promise.reject(new Error("offline"));
    },
  });
  change("sse", "start");
  change("longpoll", "SSE stream silent for 37500ms");
  await new Promise((resolve) => setImmediate(resolve));
  stop();
  change("poll", "long-poll timed out");
  assert.equal(calls, 1);
});

test("reason codes: the negotiator's words become the server's vocabulary", () => {
  assert.equal(reasonCode("SSE timeout"), "timeout");
  assert.equal(reasonCode("long-poll timed out"), "timeout");
  assert.equal(reasonCode("SSE stream silent for 37500ms"), "silent");
  assert.equal(reasonCode("SSE stream closed"), "closed");
  assert.equal(reasonCode("long-poll failed: HTTP 502"), "failed");
  assert.equal(reasonCode("long-poll failed: HTTP 429"), "rate_limited");
  assert.equal(reasonCode("hello"), "upgrade");
  assert.equal(reasonCode("tab visible"), "reconnect");
  assert.equal(reasonCode(undefined), "other");
});

test("MonitorFeed: a snapshot answer is one snapshot event, its etag the cursor", () => {
  const feed = new MonitorFeed({ streamUrl: "/api/monitor/events", snapshotUrl: "/api/monitor/snapshot" });
  assert.equal(feed.pollUrlAt("abc", { waitS: 25, first: false }), "/api/monitor/snapshot?etag=abc&wait=25");
  const body = { figures: { messages_posted: 3 }, events: [], etag: "e1" };
  const answer = feed.read(body, { cursor: null });
  assert.deepEqual(answer.events, [["snapshot", body]]);
  assert.equal(answer.cursor, "e1");
  assert.equal(feed.read(body, { cursor: "e1" }).empty, true);
  assert.ok(feed.read({ conversations: [] }, { cursor: null }).failure);
  assert.equal(feed.accept(null, "snapshot", body), "e1");
});
