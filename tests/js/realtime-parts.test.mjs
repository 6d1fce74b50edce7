// The negotiator's parts, each on its own: Timers, Retries, Watchdog, the wake-ups, the
// negotiate request, the allowed tiers and the Probe. The negotiator tests cover them together.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Probe } from "../../devtone/static/js/realtime/probe.js";
import { Retries } from "../../devtone/static/js/realtime/retries.js";
import { DEFAULT_TIMINGS, NegotiateRequest, TIERS, allowedTiers } from "../../devtone/static/js/realtime/tiers.js";
import { Timers } from "../../devtone/static/js/realtime/timers.js";
import { listenForWakeUps, wakeUpAction } from "../../devtone/static/js/realtime/wakeups.js";
import { Watchdog } from "../../devtone/static/js/realtime/watchdog.js";
import { CountingTarget, FakeClock, FakeFetch } from "./fakes.mjs";

const timers = (clock) => new Timers({ setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout });

test("Timers: clear() disarms everything; a stale handle cancels nothing", () => {
  const clock = new FakeClock();
  const owner = timers(clock);
  const ran = [];
  const first = owner.schedule(() => ran.push("first"), 1000);
  owner.schedule(() => ran.push("second"), 2000);
  owner.cancel(first);
  owner.cancel(first); // twice: no effect
  owner.cancel(null);
  assert.equal(clock.pending, 1);
  clock.advance(2000);
  assert.deepEqual(ran, ["second"]);

  const cleared = owner.schedule(() => ran.push("cleared"), 1000);
  owner.clear();
  assert.equal(clock.pending, 0);
  owner.schedule(() => ran.push("after"), 1000);
  owner.cancel(cleared); // a handle from before clear() leaves the new timer alone
  clock.advance(1000);
  assert.deepEqual(ran, ["second", "after"]);
});

test("Retries: each retry doubles from the current timings, logs, and reset() starts over", () => {
  const logs = [];
  let timings = DEFAULT_TIMINGS;
  const logger = { info: (line) => logs.push(line) };
  const retries = new Retries({ timings: () => timings, random: () => 0.5, logger });
  assert.deepEqual([retries.next(), retries.next(), retries.next()], [1000, 2000, 4000]);
  assert.equal(logs.at(-1), "Retrying connection in 4000ms (attempt 3)");
  retries.reset();
  timings = { ...DEFAULT_TIMINGS, backoff: { initial_ms: 500, max_ms: 30000, jitter: 0.2 } };
  assert.equal(retries.next(), 500);
  assert.equal(logs.at(-1), "Retrying connection in 500ms (attempt 1)");
});

test("Watchdog: silence for 2.5 heartbeats fires once; arm() restarts the countdown", () => {
  const clock = new FakeClock();
  const now = () => clock.now;
  const watchdog = new Watchdog({ timers: timers(clock), now, timings: () => DEFAULT_TIMINGS });
  const silent = [];
  assert.equal(watchdog.ms, 37500);
  watchdog.feed();
  watchdog.arm((ms) => silent.push(ms));
  clock.advance(30000);
  watchdog.feed();
  watchdog.arm((ms) => silent.push(ms));
  assert.equal(clock.pending, 1, "one countdown at a time");
  clock.advance(37499);
  assert.deepEqual(silent, []);
  assert.equal(watchdog.overdue, false);
  clock.advance(2);
  assert.deepEqual(silent, [37500]);
  assert.equal(watchdog.overdue, true);
});

test("wake-ups: online, visible again and pageshow (forced from the bfcache); stop removes all", () => {
  const window = new CountingTarget();
  const document = Object.assign(new CountingTarget(), { visibilityState: "hidden" });
  const wakes = [];
  const stop = listenForWakeUps({ window, document }, (reason, force) => wakes.push([reason, force]));
  window.dispatchEvent(new Event("online"));
  document.dispatchEvent(new Event("visibilitychange")); // hidden: no wake-up
  document.visibilityState = "visible";
  document.dispatchEvent(new Event("visibilitychange"));
  window.dispatchEvent(Object.assign(new Event("pageshow"), { persisted: true }));
  assert.deepEqual(wakes, [
    ["browser online", undefined],
    ["tab visible", undefined],
    ["page shown", true],
  ]);
  assert.equal(window.listeners + document.listeners, 3);
  stop();
  assert.equal(window.listeners + document.listeners, 0);
  window.dispatchEvent(new Event("online"));
  assert.equal(wakes.length, 3);
  assert.doesNotThrow(() => listenForWakeUps({ window: undefined, document: undefined }, () => {})());
});

test("NegotiateRequest: the server's tiers and merged timings; HTTP errors, abort() and its timeout reject with a reason", async () => {
  const fetch = new FakeFetch();
  const clock = new FakeClock();
  const on = { timers: timers(clock), timeoutMs: 10000 };
  const negotiation = new NegotiateRequest({ url: "/api/realtime/negotiate", fetch: fetch.fetch });
  const answer = negotiation.send(on);
  const body = { tiers: ["poll", "sse"], timings: { heartbeat_ms: 5000 } };
  fetch.last("/api/realtime/negotiate").respond(200, body);
  const { allowed, timings } = await answer;
  assert.deepEqual(allowed, ["poll", "sse"]);
  assert.equal(timings.heartbeat_ms, 5000);
  assert.equal(timings.hello_timeout_ms, DEFAULT_TIMINGS.hello_timeout_ms);
  assert.equal(clock.pending, 0, "its timeout is disarmed once answered");

  const failed = negotiation.send(on);
  fetch.last("/api/realtime/negotiate").respond(503, {});
  await assert.rejects(failed, { code: "failed", reason: "negotiate failed: HTTP 503" });

  const aborted = negotiation.send(on);
  negotiation.abort();
  await assert.rejects(aborted, { code: "failed" });
  assert.equal(fetch.open.length, 0);

  const silent = negotiation.send(on);
  clock.advance(10000);
  await assert.rejects(silent, { code: "timeout", reason: "negotiate timeout" });
  assert.equal(fetch.open.length, 0);
});

test("allowedTiers: the server's order; unknown, repeated or unservable names are skipped", () => {
  const options = { streamUrl: "/events", messagesUrl: "/messages", EventSource: class {} };
  const names = (entries) => entries.map((entry) => entry.tier);
  const allowed = allowedTiers(["poll", "ws", "sse", "poll", "longpoll"], options);
  assert.deepEqual(names(allowed), ["poll", "sse", "longpoll"]);
  const noEventSource = { ...options, EventSource: undefined };
  assert.deepEqual(names(allowedTiers(["sse", "longpoll"], noEventSource)), ["longpoll"]);
});

/** A probe on fakes, with a transport that records start/stop. */
function probeSetup() {
  const clock = new FakeClock();
  const logs = [];
  const logger = { info: (line) => logs.push(line) };
  const calls = [];
  const probe = new Probe({
    timers: timers(clock),
    retries: new Retries({ timings: () => DEFAULT_TIMINGS, random: () => 0.5, logger }),
    onDue: () => calls.push("due"),
    onFailed: ({ code, reason }) => calls.push(`failed (${code}): ${reason}`),
  });
  const transport = {
    started: null,
    stopped: 0,
    start: (cursor) => (transport.started = cursor),
    stop: () => (transport.stopped += 1),
  };
  return { clock, logs, calls, probe, transport };
}

test("Probe: schedule() logs, announces, then waits its backoff before it is due", () => {
  const { clock, logs, calls, probe } = probeSetup();
  const announced = [];
  probe.schedule((ms) => announced.push([ms, clock.pending]));
  assert.deepEqual(announced, [[1000, 0]], "announced before the wait is armed");
  assert.equal(logs.at(-1), "Retrying connection in 1000ms (attempt 1)");
  clock.advance(999);
  assert.deepEqual(calls, []);
  clock.advance(1);
  assert.deepEqual(calls, ["due"]);
  probe.schedule(() => {});
  assert.equal(logs.at(-1), "Retrying connection in 2000ms (attempt 2)");
  probe.reset();
  probe.schedule(() => {});
  assert.equal(logs.at(-1), "Retrying connection in 1000ms (attempt 1)");
});

test("Probe: a try holds its entries until release(); a silent one times out and is handed back", () => {
  const { clock, calls, probe, transport } = probeSetup();
  probe.start(TIERS.sse, transport, { cursor: 7, helloTimeoutMs: 10000 });
  assert.equal(transport.started, 7);
  assert.ok(probe.running && probe.carries(transport));
  probe.hold({ seq: 8 });
  assert.deepEqual(probe.release(), { transport, backlog: [{ seq: 8 }] });
  assert.equal(probe.running, false);
  assert.equal(clock.pending, 0, "release() disarms the hello timeout");
  assert.equal(transport.stopped, 0, "the released transport keeps running");

  probe.start(TIERS.sse, transport, { cursor: 8, helloTimeoutMs: 10000 });
  clock.advance(10000);
  assert.equal(transport.stopped, 1);
  assert.equal(probe.running, false);
  assert.deepEqual(calls, ["failed (timeout): SSE timeout"], "the negotiator logs it, in its words");
});

test("Probe: a transport whose start() throws fails the try at once", () => {
  const { calls, probe, transport } = probeSetup();
  transport.start = () => {
    throw new Error("bad URL");
  };
  probe.start(TIERS.sse, transport, { cursor: 0, helloTimeoutMs: 10000 });
  assert.deepEqual(calls, ["failed (failed): SSE failed: bad URL"]);
  assert.equal(probe.running, false);
});

test("wakeUpAction: offline reconnects; live reconnects when forced or overdue; a lower tier climbs", () => {
  const rows = [
    [{ state: "offline" }, "reconnect"],
    [{ state: "live" }, null],
    [{ state: "live", overdue: true }, "reconnect"],
    [{ state: "live", force: true }, "reconnect"],
    [{ state: "polling", below: true }, "climb"],
    [{ state: "polling", below: true, climbing: true }, null],
    [{ state: "connecting", below: true }, null],
    [{ state: "live", below: true }, "climb"],
  ];
  for (const [now, action] of rows) assert.equal(wakeUpAction(now), action, JSON.stringify(now));
});
