// The negotiator carrying feeds other than plain entries: the dashboard feed on every tier,
// and a conversation feed's `conversation` and `typing` events.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ConversationFeed, DashboardFeed } from "../../devtone/static/js/realtime/feeds.js";
import { TierNegotiator } from "../../devtone/static/js/realtime/negotiator.js";
import {
  CountingTarget,
  FakeClock,
  FakeEventSource,
  FakeFetch,
  TIMINGS,
  entry,
  flush,
  page,
  response,
} from "./fakes.mjs";

const NEGOTIATE = "/api/realtime/negotiate";
const EVENTS = "/api/dashboard/events";
const SNAPSHOT = "/api/dashboard/snapshot";
const MESSAGES = "/api/conversations/7/messages";
const PAGE_EVENTS = ["snapshot", "conversation", "stats", "typing", "message", "hello", "denied"];

function conversation(id, version, extra = {}) {
  return { id, status: "waiting", visitor: { name: `v${id}` }, agent: null, version, last_seq: version, ...extra };
}

function snapshot(etag, conversations = [conversation(1, 1)]) {
  return { conversations, stats: { waiting: conversations.length }, etag };
}

/** A negotiator on fakes carrying `feed`; page events are collected as [type, detail]. */
function setup(feed, { tiers = ["sse", "longpoll", "poll"] } = {}) {
  FakeEventSource.instances = [];
  const clock = new FakeClock();
  const negotiation = { tiers, timings: TIMINGS };
  const fetch = new FakeFetch((url) => (url === NEGOTIATE ? response(200, negotiation) : undefined));
  const window = new CountingTarget();
  const document = Object.assign(new CountingTarget(), { visibilityState: "visible" });
  const logs = [];
  const negotiator = new TierNegotiator({
    negotiateUrl: NEGOTIATE,
    feed,
    fetch: fetch.fetch,
    EventSource: FakeEventSource,
    window,
    document,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    logger: { info: (line) => logs.push(line) },
    now: () => clock.now,
    random: () => 0.5,
  });
  const events = [];
  for (const type of PAGE_EVENTS) negotiator.addEventListener(type, (event) => events.push([type, event.detail]));
  return {
    negotiator,
    clock,
    fetch,
    window,
    document,
    logs,
    events,
    types: () => events.map(([type]) => type),
    sse: () => FakeEventSource.instances.at(-1),
    state: () => [negotiator.state, negotiator.tier],
    /** The open request to `path`, answered with `status` and `body`. */
    async answer(path, body, status = 200) {
      const request = fetch.open.find((r) => r.path === path);
      assert.ok(request, `a request to ${path} is open`);
      request.respond(status, body);
      await flush();
      return request;
    },
  };
}

const dashboard = () => new DashboardFeed({ streamUrl: EVENTS, snapshotUrl: SNAPSHOT });

// ── dashboard over SSE ───────────────────────────────────────────────────────────────

test("dashboard on SSE: hello, snapshot and live events reach the page, in order, from the same URL", async () => {
  const env = setup(dashboard());
  await env.negotiator.start();
  assert.equal(env.sse().url, EVENTS, "no cursor on the stream: the server sends a snapshot");
  env.sse().emit("hello", { time: "t", tier: "sse", heartbeat_ms: 15000, agent: { id: 1, name: "Ada", role: "agent" } });
  assert.deepEqual(env.state(), ["live", "sse"]);
  env.sse().emit("snapshot", snapshot("e1"));
  env.sse().emit("conversation", conversation(2, 1));
  env.sse().emit("stats", { waiting: 2 });
  env.sse().emit("ping", { time: "t" });
  assert.deepEqual(env.types(), ["hello", "snapshot", "conversation", "stats"]);
  assert.equal(env.events[0][1].agent.name, "Ada");
  assert.equal(env.events[1][1].etag, "e1");
  assert.equal(env.negotiator.cursor, "e1");
});

test("dashboard on SSE: the watchdog drops a silent stream and a reconnect brings a fresh snapshot", async () => {
  const env = setup(dashboard(), { tiers: ["sse"] });
  await env.negotiator.start();
  env.sse().emit("hello", {});
  env.sse().emit("snapshot", snapshot("e1"));
  const dead = env.sse();
  env.clock.advance(37500);
  assert.equal(dead.closed, true);
  assert.deepEqual(env.state(), ["offline", "none"]);
  assert.equal(env.logs.at(-1), "Retrying connection in 1000ms (attempt 1)");
  env.clock.advance(1000);
  await flush();
  assert.equal(env.sse().url, EVENTS);
  env.sse().emit("hello", {});
  env.sse().emit("snapshot", snapshot("e2"));
  assert.deepEqual(env.types(), ["hello", "snapshot", "hello", "snapshot"]);
  assert.equal(env.negotiator.cursor, "e2");
});

// ── dashboard over long-poll and poll ────────────────────────────────────────────────

test("dashboard on long-poll: first without etag and wait, then with the last etag and the long wait", async () => {
  const env = setup(dashboard());
  await env.negotiator.start();
  const first = env.fetch.last(SNAPSHOT);
  assert.equal(first.url, `${SNAPSHOT}?wait=0`, "from t = 0, while SSE proves itself");
  assert.equal(first.init.credentials, "same-origin", "the session cookie goes along");

  await env.answer(SNAPSHOT, snapshot("e1"));
  assert.deepEqual(env.state(), ["connecting", "sse"]);
  env.clock.advance(10000);
  assert.equal(env.logs[0], "SSE timeout, falling back to long-poll");
  assert.deepEqual(env.state(), ["polling", "longpoll"]);
  assert.deepEqual(env.types(), ["hello", "snapshot"]);
  assert.deepEqual(env.events[0][1], { tier: "longpoll", etag: "e1" });
  assert.equal(env.fetch.last(SNAPSHOT).url, `${SNAPSHOT}?etag=e1&wait=25`);

  await env.answer(SNAPSHOT, snapshot("e2", [conversation(1, 2)]));
  assert.deepEqual(env.types(), ["hello", "snapshot", "snapshot"]);
  assert.equal(env.events.at(-1)[1].conversations[0].version, 2);
  assert.equal(env.fetch.last(SNAPSHOT).url, `${SNAPSHOT}?etag=e2&wait=25`);
  assert.equal(env.negotiator.cursor, "e2");
});

test("dashboard on long-poll: an unchanged etag answered at once slows the loop down", async () => {
  const env = setup(dashboard(), { tiers: ["longpoll"] });
  await env.negotiator.start();
  await env.answer(SNAPSHOT, snapshot("e1"));
  const count = env.fetch.to(SNAPSHOT).length;
  await env.answer(SNAPSHOT, snapshot("e1")); // asked to wait 25 s, answered at once
  assert.equal(env.fetch.to(SNAPSHOT).length, count);
  env.clock.advance(1000);
  assert.equal(env.fetch.to(SNAPSHOT).length, count + 1);
});

test("dashboard on poll: wait=0 every poll interval, with the last etag", async () => {
  const env = setup(dashboard(), { tiers: ["poll"] });
  await env.negotiator.start();
  assert.equal(env.fetch.last(SNAPSHOT).url, `${SNAPSHOT}?wait=0`);
  await env.answer(SNAPSHOT, snapshot("e1"));
  assert.deepEqual(env.state(), ["polling", "poll"]);
  assert.equal(env.fetch.to(SNAPSHOT).length, 1);
  env.clock.advance(30000);
  assert.equal(env.fetch.last(SNAPSHOT).url, `${SNAPSHOT}?etag=e1&wait=0`);
  await env.answer(SNAPSHOT, snapshot("e1"));
  assert.deepEqual(env.types(), ["hello", "snapshot", "snapshot"], "every answer is delivered");
});

test("dashboard: long-poll failing falls back to poll, which starts again without etag", async () => {
  const env = setup(dashboard());
  await env.negotiator.start();
  await env.answer(SNAPSHOT, snapshot("e1")); // the head start
  env.clock.advance(10000);
  await env.answer(SNAPSHOT, "<html>Bad Gateway</html>", 502);
  assert.ok(env.logs.includes("long-poll failed: HTTP 502, falling back to poll"));
  assert.deepEqual(env.state(), ["connecting", "poll"]);
  assert.equal(env.fetch.last(SNAPSHOT).url, `${SNAPSHOT}?wait=0`);
  await env.answer(SNAPSHOT, snapshot("e2"));
  assert.deepEqual(env.state(), ["polling", "poll"]);
});

test("dashboard: an answer without conversations is a failed tier", async () => {
  const env = setup(dashboard(), { tiers: ["longpoll", "poll"] });
  await env.negotiator.start();
  await env.answer(SNAPSHOT, { messages: [] });
  assert.deepEqual(env.logs, ["long-poll failed: answer has no conversations, falling back to poll"]);
});

test("dashboard: SSE saying hello again takes over from long-poll, and only SSE delivers", async () => {
  const env = setup(dashboard());
  await env.negotiator.start();
  await env.answer(SNAPSHOT, snapshot("e1")); // the head start
  env.clock.advance(10000);
  const waiting = env.fetch.last(SNAPSHOT);
  env.clock.advance(1000); // the background SSE retry
  const probe = env.sse();
  probe.emit("hello", {});
  assert.ok(env.logs.includes("Polling stopped - SSE reconnected"));
  assert.deepEqual(env.state(), ["live", "sse"]);
  assert.equal(waiting.aborted, true, "the long-poll stopped");
  probe.emit("snapshot", snapshot("e2"));
  waiting.respond(200, snapshot("late")); // too late: aborted, dropped
  await flush();
  assert.deepEqual(env.types(), ["hello", "snapshot", "hello", "snapshot"]);
  assert.equal(env.negotiator.cursor, "e2");
});

test("dashboard: a probe's events before its hello wait, and come after it", async () => {
  const env = setup(dashboard());
  await env.negotiator.start();
  await env.answer(SNAPSHOT, snapshot("e1")); // the head start
  env.clock.advance(10000);
  env.clock.advance(1000);
  env.sse().emit("stats", { waiting: 5 });
  assert.deepEqual(env.types(), ["hello", "snapshot"], "nothing from the probe yet");
  env.sse().emit("hello", {});
  assert.deepEqual(env.types(), ["hello", "snapshot", "hello", "stats"]);
});

test("dashboard: a session that ended (401) is a denial: everything stops", async () => {
  const env = setup(dashboard());
  await env.negotiator.start();
  env.sse().fail(2);
  await env.answer(SNAPSHOT, { error: { code: "unauthorized", message: "Sign in again" } }, 401);
  assert.deepEqual(env.events, [["denied", { status: 401, code: "unauthorized", message: "Sign in again" }]]);
  assert.deepEqual(env.state(), ["offline", "none"]);
  assert.equal(env.clock.pending, 0);
  assert.equal(env.fetch.open.length, 0);
  assert.equal(env.window.listeners + env.document.listeners, 0);
});

test("dashboard: a 404 is a failed tier, not a denial", async () => {
  const env = setup(dashboard(), { tiers: ["longpoll", "poll"] });
  await env.negotiator.start();
  await env.answer(SNAPSHOT, { error: {} }, 404);
  assert.deepEqual(env.state(), ["connecting", "poll"]);
  assert.deepEqual(env.types(), []);
});

test("dashboard: close leaves no timer, request, stream or listener", async () => {
  const env = setup(dashboard());
  await env.negotiator.start();
  await env.answer(SNAPSHOT, snapshot("e1")); // the head start
  env.clock.advance(10000);
  env.clock.advance(1000);
  env.negotiator.close();
  assert.equal(env.clock.pending, 0);
  assert.equal(env.fetch.open.length, 0);
  assert.equal(FakeEventSource.open.length, 0);
  assert.equal(env.window.listeners + env.document.listeners, 0);
});

// ── a conversation feed's events ─────────────────────────────────────────────────────

const conversationFeed = (cursor = 0) =>
  new ConversationFeed({
    streamUrl: "/api/conversations/7/events?token=tok",
    messagesUrl: `${MESSAGES}?token=tok`,
    cursor,
  });

test("conversation on SSE: conversation and typing events pass through between the entries", async () => {
  const env = setup(conversationFeed(2));
  await env.negotiator.start();
  assert.equal(env.sse().afterParam, "2");
  env.sse().emit("hello", { tier: "sse", cursor: 2 });
  env.sse().emit("message", entry(3), "3");
  env.sse().emit("typing", { conversation_id: 7, sender: "agent", name: "Ada", typing: true });
  env.sse().emit("conversation", { id: 7, status: "active", agent_read_seq: 3 });
  env.sse().emit("message", entry(3), "3");
  assert.deepEqual(env.types(), ["hello", "message", "typing", "conversation"]);
  assert.equal(env.events[3][1].agent_read_seq, 3);
  assert.equal(env.negotiator.cursor, 3);
});

test("conversation on long-poll: every answer's conversation comes as a conversation event after its entries", async () => {
  const env = setup(conversationFeed(), { tiers: ["longpoll"] });
  await env.negotiator.start();
  await env.answer(MESSAGES, page([1, 2]));
  await env.answer(MESSAGES, page([]));
  assert.deepEqual(env.types(), ["hello", "message", "message", "conversation", "conversation"]);
  assert.equal(env.events[3][1].last_seq, 2);
});

test("conversation: only the delivering transport's events reach the page", async () => {
  const env = setup(conversationFeed());
  await env.negotiator.start();
  await env.answer(MESSAGES, page([1])); // the head start
  env.clock.advance(10000);
  env.clock.advance(1000); // the SSE probe is out
  const probe = env.sse();
  env.events.length = 0;
  probe.emit("hello", {});
  probe.emit("typing", { sender: "agent", typing: true });
  assert.deepEqual(env.types(), ["hello", "typing"]);
  const stale = env.fetch.to(MESSAGES).at(-1);
  assert.equal(stale.aborted, true, "the long-poll was stopped and can deliver nothing more");
});
