import assert from "node:assert/strict";
import { test } from "node:test";

import {
  Alerts,
  DEFAULT_SETTINGS,
  REPEATS,
  REPEAT_MS,
  alertingSeq,
  alertIsOver,
  nextRingDelay,
  readSettings,
  ringWays,
} from "../../devtone/static/js/alerts.js";
import { FakeClock } from "./fakes.mjs";

const ME = 5;

/** A conversation as the dashboard feed sends it, ending with `last` ({seq, sender, kind}). */
function conversation(id, { status = "waiting", agent = null, last = null, seen = 0 } = {}) {
  return {
    id,
    status,
    visitor: { name: `Visitor ${id}` },
    agent,
    last_seq: last?.seq ?? 0,
    last_message: last ? { kind: "text", body: "hello?", ...last } : null,
    marks: { agent: { delivered: seen, seen }, visitor: { delivered: 0, seen: 0 } },
  };
}

const visitor = (seq) => ({ seq, sender: "visitor" });
const inView = (c) => c.status === "waiting" || (c.status !== "closed" && c.agent?.id === ME);
const mine = { id: ME, name: "Me" };
const theirs = { id: 9, name: "Other" };

// ── which message alerts ───────────────────────────────────────────────────────────────

test("a visitor's text in a waiting conversation, or an open one of mine, alerts", () => {
  assert.equal(alertingSeq(conversation(1, { last: visitor(3) }), { inView }), 3);
  assert.equal(alertingSeq(conversation(1, { status: "active", agent: mine, last: visitor(4) }), { inView }), 4);
});

test("nothing else alerts: agents' and system entries, others' conversations, closed ones", () => {
  const cases = [
    conversation(1, { last: { seq: 3, sender: "agent" } }),
    conversation(1, { last: { seq: 3, sender: "system", kind: "status" } }),
    conversation(1, { last: { seq: 3, sender: "visitor", kind: "status" } }),
    conversation(1, { status: "active", agent: theirs, last: visitor(3) }),
    conversation(1, { status: "closed", agent: mine, last: visitor(3) }),
    conversation(1),
  ];
  for (const c of cases) assert.equal(alertingSeq(c, { inView }), null, JSON.stringify(c.last_message));
});

test("a message already taken into account, or already seen, does not alert again", () => {
  assert.equal(alertingSeq(conversation(1, { last: visitor(3) }), { known: 3, inView }), null);
  assert.equal(alertingSeq(conversation(1, { last: visitor(3), seen: 3 }), { inView }), null);
  assert.equal(alertingSeq(conversation(1, { last: visitor(4), seen: 3 }), { known: 3, inView }), 4);
});

test("an alert is over once seen, or out of Mine and Waiting", () => {
  assert.equal(alertIsOver(conversation(1, { last: visitor(3) }), 3, { inView }), false);
  assert.equal(alertIsOver(conversation(1, { last: visitor(3), seen: 3 }), 3, { inView }), true);
  assert.equal(alertIsOver(conversation(1, { status: "active", agent: theirs, last: visitor(3) }), 3, { inView }), true);
  assert.equal(alertIsOver(undefined, 3, { inView }), true);
});

// ── the repeat schedule ────────────────────────────────────────────────────────────────

test("an alert rings again every 30 s, five more times at most", () => {
  assert.equal(REPEATS, 5);
  assert.equal(REPEAT_MS, 30_000);
  const delays = [1, 2, 3, 4, 5, 6, 7].map((rings) => nextRingDelay(rings));
  assert.deepEqual(delays, [30_000, 30_000, 30_000, 30_000, 30_000, null, null]);
  assert.equal(nextRingDelay(1, { intervalMs: 200, repeats: 1 }), 200);
  assert.equal(nextRingDelay(2, { intervalMs: 200, repeats: 1 }), null);
});

// ── settings ───────────────────────────────────────────────────────────────────────────

test("quiet mode silences the sound and the notification; otherwise the settings choose", () => {
  assert.deepEqual(ringWays(DEFAULT_SETTINGS), { sound: true, desktop: true });
  assert.deepEqual(ringWays({ ...DEFAULT_SETTINGS, quiet: true }), { sound: false, desktop: false });
  assert.deepEqual(ringWays({ ...DEFAULT_SETTINGS, sound: false }), { sound: false, desktop: true });
  assert.deepEqual(ringWays({ ...DEFAULT_SETTINGS, desktop: false }), { sound: true, desktop: false });
});

test("settings from the server fall back to the defaults, one by one", () => {
  assert.deepEqual(readSettings(undefined), DEFAULT_SETTINGS);
  assert.deepEqual(readSettings({ quiet: true, sound: "no", other: true }), { ...DEFAULT_SETTINGS, quiet: true });
});

// ── the Alerts schedule ────────────────────────────────────────────────────────────────

function alerts(options = {}) {
  const clock = new FakeClock();
  const rings = [];
  const changes = [];
  const schedule = new Alerts({
    inView,
    ring: (c, count) => rings.push([c.id, count]),
    onchange: (ids) => changes.push(ids),
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    ...options,
  });
  return { schedule, clock, rings, changes };
}

test("the first snapshot is what the agent finds: it primes and rings nothing", () => {
  const { schedule, clock, rings } = alerts();
  schedule.snapshot([conversation(1, { last: visitor(2) })]);
  schedule.update(conversation(1, { last: visitor(2) })); // the same message again
  clock.advance(10 * REPEAT_MS);
  assert.deepEqual(rings, []);
  assert.equal(clock.pending, 0);
});

test("a visitor message rings at once, then every interval, six times in all, unseen", () => {
  const { schedule, clock, rings, changes } = alerts({ intervalMs: 1000 });
  schedule.snapshot([]);
  schedule.update(conversation(1, { last: visitor(1) }));
  assert.deepEqual(rings, [[1, 1]]);
  assert.deepEqual(schedule.ringing, ["1"]);
  clock.advance(1000);
  assert.deepEqual(rings.at(-1), [1, 2]);
  clock.advance(60_000);
  assert.deepEqual(rings.map(([, count]) => count), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(schedule.ringing, []);
  assert.deepEqual(changes, [["1"], []]);
  assert.equal(clock.pending, 0, "no timer left");
});

test("seen by any agent, the alert stops and no timer is left", () => {
  const { schedule, clock, rings } = alerts();
  schedule.snapshot([]);
  schedule.update(conversation(1, { last: visitor(1) }));
  clock.advance(REPEAT_MS);
  schedule.update(conversation(1, { last: visitor(1), seen: 1 }));
  clock.advance(10 * REPEAT_MS);
  assert.equal(rings.length, 2);
  assert.equal(clock.pending, 0);
  assert.deepEqual(schedule.ringing, []);
});

test("assigned to someone else, or gone from a later snapshot, the alert stops", () => {
  const { schedule, clock, rings } = alerts();
  schedule.snapshot([]);
  schedule.update(conversation(1, { last: visitor(1) }));
  schedule.update(conversation(2, { last: visitor(1) }));
  schedule.update(conversation(1, { status: "active", agent: theirs, last: visitor(1) }));
  schedule.snapshot([conversation(3)]);
  clock.advance(10 * REPEAT_MS);
  assert.deepEqual(rings, [[1, 1], [2, 1]]);
  assert.equal(clock.pending, 0);
});

test("a newer visitor message rings at once and counts again from one", () => {
  const { schedule, clock, rings } = alerts();
  schedule.snapshot([]);
  schedule.update(conversation(1, { last: visitor(1) }));
  clock.advance(2 * REPEAT_MS);
  schedule.update(conversation(1, { last: visitor(2) }));
  assert.deepEqual(rings, [[1, 1], [1, 2], [1, 3], [1, 1]]);
  assert.deepEqual(clock.delays, [REPEAT_MS], "one timer per alert");
});

test("other changes of a ringing conversation (typing, marks) neither restart nor stop it", () => {
  const { schedule, clock, rings } = alerts();
  schedule.snapshot([]);
  schedule.update(conversation(1, { last: visitor(4) }));
  schedule.update({ ...conversation(1, { last: visitor(4) }), version: 9 });
  assert.equal(rings.length, 1);
  clock.advance(REPEAT_MS);
  assert.equal(rings.length, 2);
});

test("a conversation first seen in a later snapshot with an unseen visitor message alerts", () => {
  const { schedule, rings } = alerts();
  schedule.snapshot([]);
  schedule.snapshot([conversation(7, { last: visitor(1) })]); // after a reconnect
  assert.deepEqual(rings, [[7, 1]]);
});

test("close() stops every alert", () => {
  const { schedule, clock } = alerts();
  schedule.snapshot([]);
  schedule.update(conversation(1, { last: visitor(1) }));
  schedule.close();
  assert.equal(clock.pending, 0);
  assert.deepEqual(schedule.ringing, []);
});

// ── notes that mention the agent ───────────────────────────────────────────────────────

const mentioned = (c, seq, agentId = ME) => ({ ...c, mentions: { [String(agentId)]: seq } });

test("a note mentioning me rings, even in a conversation outside Mine and Waiting", () => {
  const { schedule, rings } = alerts({ agentId: ME, intervalMs: 1000 });
  const elsewhere = conversation(1, { status: "active", agent: theirs, last: { seq: 2, sender: "agent" } });
  schedule.snapshot([elsewhere]);
  schedule.update(mentioned({ ...elsewhere, last_seq: 3 }, 3));
  assert.deepEqual(rings, [[1, 1]]);
  assert.deepEqual(schedule.ringing, ["1"]);
});

test("a note mentioning someone else, or a mention already known, rings nothing", () => {
  const { schedule, rings } = alerts({ agentId: ME });
  const c = conversation(1, { status: "active", agent: theirs });
  schedule.snapshot([mentioned(c, 2)]); // found on arrival: no alert
  schedule.update(mentioned(c, 2));
  schedule.update(mentioned(c, 4, 9));
  assert.deepEqual(rings, []);
});

test("a mention's alert stops when I open the conversation, not when it leaves my view", () => {
  const { schedule, clock, rings } = alerts({ agentId: ME, intervalMs: 1000 });
  const c = conversation(1, { status: "active", agent: theirs });
  schedule.snapshot([c]);
  schedule.update(mentioned(c, 3));
  schedule.update(c); // a later upsert without the field: it rings on
  clock.advance(1000);
  assert.deepEqual(rings, [[1, 1], [1, 2]]);
  schedule.opened(1);
  clock.advance(10_000);
  assert.equal(rings.length, 2);
  assert.deepEqual(schedule.ringing, []);
});
