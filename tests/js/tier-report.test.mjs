// Tier reports: each change between two real tiers is POSTed once with a reason code.
import assert from "node:assert/strict";
import { test } from "node:test";

import { MonitorFeed } from "../../devtone/static/js/realtime/monitor-feed.js";
import { because, CODES } from "../../devtone/static/js/realtime/reasons.js";
import { reportTierChanges } from "../../devtone/static/js/realtime/tier-report.js";

function harness() {
  const negotiator = new EventTarget();
  const sent = [];
  const fetch = (url, init) => {
    sent.push({ url, init, body: JSON.parse(init.body) });
    return Promise.resolve({ ok: true });
  };
  // `why` as the negotiator gives it: a code of reasons.js and the words it logged.
  const change = (tier, [code, reason], state = "connecting") =>
    negotiator.dispatchEvent(new CustomEvent("statechange", { detail: { state, tier, code, reason } }));
  return { negotiator, sent, fetch, change };
}

test("a fallback and an upgrade are reported with their reasons, the first tier is not", () => {
  const { negotiator, sent, fetch, change } = harness();
  reportTierChanges(negotiator, { url: "/api/realtime/report", kind: "conversation", fetch });
  change("none", ["reconnect", "start"]);
  change("sse", ["reconnect", "start"]);
  change("sse", ["upgrade", "hello"], "live");
  change("longpoll", ["timeout", "SSE timeout"]);
  change("longpoll", ["upgrade", "hello"], "polling");
  change("sse", ["upgrade", "hello"], "live");
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
  change("poll", ["upgrade", "hello"], "polling");
  change("none", ["failed", "poll failed: HTTP 502"], "offline");
  change("sse", ["reconnect", "retry"]);
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
  change("sse", ["reconnect", "start"]);
  change("longpoll", ["silent", "SSE stream silent for 37500ms"]);
  await new Promise((resolve) => setImmediate(resolve));
  stop();
  change("poll", ["timeout", "long-poll timed out"]);
  assert.equal(calls, 1);
});

test("the report sends the negotiator's code as it is, never its words", () => {
  const { negotiator, sent, fetch, change } = harness();
  reportTierChanges(negotiator, { fetch });
  change("sse", ["reconnect", "start"]);
  change("longpoll", ["rate_limited", "SSE refused: HTTP 429"]);
  change("poll", ["closed", "long-poll timed out, as words would say"]);
  change("sse", ["no_such_code", "hello"]);
  assert.deepEqual(
    sent.map((s) => s.body.reason),
    ["rate_limited", "closed", "other"],
  );
});

test("reasons.js: one table of codes; a reason outside it is refused", () => {
  assert.deepEqual(Object.keys(CODES), Object.values(CODES));
  assert.deepEqual(because(CODES.silent, "SSE stream silent for 37500ms"), {
    code: "silent",
    reason: "SSE stream silent for 37500ms",
  });
  assert.deepEqual(because(CODES.upgrade), { code: "upgrade", reason: "upgrade" });
  assert.throws(() => because("timed out"), TypeError);
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

test("a page going away (a reload) reports no fallback; back from the cache it reports again", () => {
  const { negotiator, sent, fetch, change } = harness();
  const page = new EventTarget();
  reportTierChanges(negotiator, { kind: "conversation", fetch, page });
  change("sse", ["upgrade", "hello"], "live");
  page.dispatchEvent(new Event("pagehide"));
  change("longpoll", ["closed", "SSE stream closed"]); // the browser closed it as the page left
  assert.deepEqual(sent, []);
  page.dispatchEvent(new Event("pageshow"));
  change("longpoll", ["reconnect", "resumed"], "polling"); // where it is now: no change yet
  change("sse", ["upgrade", "hello"], "live");
  assert.deepEqual(
    sent.map((s) => s.body),
    [{ from: "longpoll", to: "sse", reason: "upgrade", kind: "conversation" }],
  );
});
