// The server's abuse limits as the client meets them (429 with Retry-After): a refused
// stream (which EventSource cannot see) or long-poll wait drops the page to poll and it
// climbs back no sooner than Retry-After; a refused POST waits Retry-After and is sent once.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiClient } from "../../devtone/static/js/api.js";
import { Outbox } from "../../devtone/static/js/outbox.js";
import { StreamLimits, retryAfterMs } from "../../devtone/static/js/realtime/limits.js";
import { TierNegotiator } from "../../devtone/static/js/realtime/negotiator.js";
import { Retries } from "../../devtone/static/js/realtime/retries.js";
import { TIERS, tierBelowLimits } from "../../devtone/static/js/realtime/tiers.js";
import { LongPollTransport } from "../../devtone/static/js/realtime/transports.js";
import { CountingTarget, FakeClock, FakeEventSource, FakeFetch, TIMINGS, flush, page, response } from "./fakes.mjs";

const NEGOTIATE = "/api/realtime/negotiate";
const EVENTS = "/api/conversations/7/events";
const MESSAGES = "/api/conversations/7/messages";
const TOO_MANY = { error: { code: "too_many_streams", message: "Too many", field: null } };

/** A 429 as the server sends it, with Retry-After in seconds. */
function refused(seconds, body = TOO_MANY) {
  return { ...response(429, body), headers: new Headers({ "Retry-After": String(seconds) }) };
}

// ── pure parts ───────────────────────────────────────────────────────────────────────

test("Retry-After is read in seconds or as an HTTP date, and may be missing", () => {
  const at = (value) => ({ headers: new Headers(value === null ? {} : { "Retry-After": value }) });
  assert.equal(retryAfterMs(at("30")), 30000);
  assert.equal(retryAfterMs(at(new Date(61_000).toUTCString()), 1_000), 60000);
  assert.equal(retryAfterMs(at(null)), null);
  assert.equal(retryAfterMs(at("soon")), null);
  assert.equal(retryAfterMs(response(429, {})), null, "a response without headers");
});

test("a limit sends the page to the first tier that holds no connection", () => {
  const all = [TIERS.sse, TIERS.longpoll, TIERS.poll];
  assert.equal(tierBelowLimits(all, 0), 2, "SSE refused: skip long-poll, which waits too");
  assert.equal(tierBelowLimits(all, 1), 2);
  assert.equal(tierBelowLimits(all, 2), -1, "nothing below poll");
  assert.equal(tierBelowLimits([TIERS.sse, TIERS.longpoll], 0), -1);
});

test("a retry waits the server's Retry-After when it is longer than the backoff", () => {
  const logs = [];
  const retries = new Retries({ timings: () => TIMINGS, random: () => 0.5, logger: { info: (l) => logs.push(l) } });
  assert.equal(retries.next(5000), 5000);
  assert.equal(retries.next(500), 2000, "a shorter Retry-After never shortens the backoff");
  assert.deepEqual(logs, ["Retrying connection in 5000ms (attempt 1)", "Retrying connection in 2000ms (attempt 2)"]);
});

test("a HEAD of the stream URL tells a refused stream from a failed one", async () => {
  const clock = new FakeClock();
  const fetch = new FakeFetch();
  const limits = new StreamLimits({ fetch: fetch.fetch, now: () => clock.now });
  const asked = limits.explain(`${EVENTS}?token=t&after=3`);
  assert.equal(fetch.requests[0].init.method, "HEAD");
  assert.equal(fetch.requests[0].url, `${EVENTS}?token=t&after=3`);
  fetch.requests[0].resolveWith(refused(4));
  assert.deepEqual(await asked, { reason: "HTTP 429", retryAfterMs: 4000 });
  assert.equal(limits.holdOffMs(), 4000);
  clock.advance(1500);
  assert.equal(limits.holdOffMs(), 2500);

  const ok = limits.explain(EVENTS);
  fetch.requests[1].respond(502, "");
  assert.equal(await ok, null, "any other answer is an ordinary failure");
  const cut = limits.explain(EVENTS);
  limits.abort();
  assert.equal(await cut, null);
  assert.equal(fetch.open.length, 0);
  limits.clear();
  assert.equal(limits.holdOffMs(), 0);
});

test("a refused long-poll wait is reported as limited, with its Retry-After, and stops", async () => {
  const clock = new FakeClock();
  const fetch = new FakeFetch();
  const calls = [];
  const transport = new LongPollTransport({
    url: `${MESSAGES}?token=t`,
    fetch: fetch.fetch,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    now: () => clock.now,
  });
  for (const name of ["onhello", "onclosed", "onlimited"]) transport[name] = (arg) => calls.push([name, arg]);
  transport.start(0);
  fetch.requests[0].respond(200, page([]));
  await flush();
  fetch.requests[1].resolveWith(refused(3));
  await flush();
  assert.deepEqual(calls.at(-1), ["onlimited", { reason: "HTTP 429", retryAfterMs: 3000 }]);
  assert.equal(transport.running, false);
  clock.advance(60000);
  assert.equal(fetch.requests.length, 2, "no request after the refusal");
});

// ── the negotiator ───────────────────────────────────────────────────────────────────

/**
 * A negotiator on fakes whose server limits streams while `env.limited` is true: streams
 * (EventSource) fail CLOSED and their HEAD answers 429 with Retry-After 5 s; long-poll waits
 * get 429; polls (wait=0) answer.
 */
function setup(tiers = ["sse", "longpoll", "poll"]) {
  FakeEventSource.instances = [];
  const clock = new FakeClock();
  const env = { limited: true };
  const fetch = new FakeFetch((url, init) => {
    if (url === NEGOTIATE) return response(200, { tiers, timings: TIMINGS });
    if (init.method === "HEAD" && !env.slowHead) return env.limited ? refused(5) : response(200, "");
    return undefined;
  });
  const logs = [];
  const negotiator = new TierNegotiator({
    negotiateUrl: NEGOTIATE,
    streamUrl: `${EVENTS}?token=tok`,
    messagesUrl: `${MESSAGES}?token=tok`,
    fetch: fetch.fetch,
    EventSource: FakeEventSource,
    window: new CountingTarget(),
    document: Object.assign(new CountingTarget(), { visibilityState: "visible" }),
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    logger: { info: (line) => logs.push(line) },
    now: () => clock.now,
    random: () => 0.5,
  });
  const messages = [];
  negotiator.addEventListener("message", (event) => messages.push(event.detail.seq));
  Object.assign(env, {
    negotiator,
    clock,
    fetch,
    logs,
    messages,
    sse: () => FakeEventSource.instances.at(-1),
    state: () => [negotiator.state, negotiator.tier],
    streams: () => FakeEventSource.instances.length,
    /** Refuse the newest EventSource the way Chromium reports a 429: error, CLOSED. */
    async refuseStream() {
      env.sse().fail(2);
      await flush();
      await flush();
    },
    /** Answer the open messages request: a page, or a 429 when it waits while limited. */
    async answer(seqs = []) {
      const request = env.fetch.open.find((r) => r.path === MESSAGES);
      assert.ok(request, "a messages request is open");
      if (env.limited && request.params.get("wait") !== "0") request.resolveWith(refused(5));
      else request.respond(200, page(seqs, Math.max(negotiator.cursor, ...seqs)));
      await flush();
      return request;
    },
  });
  return env;
}

test("a refused stream drops the page to poll, skipping long-poll, and it keeps delivering", async () => {
  const env = setup();
  await env.negotiator.start();
  const headStart = env.fetch.open.find((r) => r.path === MESSAGES);
  await env.refuseStream();
  assert.ok(env.logs.includes("SSE refused: HTTP 429, falling back to poll"));
  assert.equal(headStart.aborted, true, "the head start's long-poll waits on a connection too");
  assert.deepEqual(env.state(), ["connecting", "poll"]);
  const poll = await env.answer([1, 2]);
  assert.equal(poll.params.get("wait"), "0");
  assert.deepEqual(env.state(), ["polling", "poll"]);
  assert.deepEqual(env.messages, [1, 2]);
  assert.equal(env.logs.at(-1), "Retrying connection in 5000ms (attempt 1)", "Retry-After, not 1 s");
  assert.equal(env.negotiator.nextRetryAt, env.clock.now + 5000);
});

test("a refused long-poll wait drops the page to poll until Retry-After", async () => {
  const env = setup();
  await env.negotiator.start();
  await env.answer([1]); // long-poll's first request does not wait, and proves the tier
  env.clock.advance(10000); // SSE says nothing: a proxy, not a limit
  assert.deepEqual(env.state(), ["polling", "longpoll"]);
  await env.answer(); // its next request waits: refused
  assert.ok(env.logs.includes("long-poll refused: HTTP 429, falling back to poll"));
  await env.answer([2]);
  assert.deepEqual(env.state(), ["polling", "poll"]);
  assert.deepEqual(env.messages, [1, 2]);
  assert.ok(env.negotiator.nextRetryAt - env.clock.now >= 4000, "no climb before Retry-After");
});

test("a stream refused while long-poll delivers drops the page to poll: its own wait may fill the limit", async () => {
  // One stream per conversation: the page's own long-poll holds it, so its probe is refused
  // every time; staying on long-poll would keep the page off SSE for good.
  const env = setup();
  env.limited = false;
  await env.negotiator.start();
  await env.answer([1]);
  env.clock.advance(10000); // SSE says nothing: the head start ends on long-poll
  assert.deepEqual(env.state(), ["polling", "longpoll"]);
  const wait = env.fetch.open.find((r) => r.path === MESSAGES);
  env.limited = true;
  env.clock.advance(env.negotiator.nextRetryAt - env.clock.now);
  await flush();
  await env.refuseStream(); // the probe's try
  assert.ok(env.logs.includes("SSE refused: HTTP 429, falling back to poll"), env.logs);
  assert.equal(wait.aborted, true, "the long-poll's wait is given up");
  await env.answer([2]);
  assert.deepEqual(env.state(), ["polling", "poll"]);
  assert.deepEqual(env.messages, [1, 2]);

  env.limited = false; // the wait the server still held has ended
  env.clock.advance(env.negotiator.nextRetryAt - env.clock.now);
  await flush();
  env.sse().emit("hello", { tier: "sse", cursor: 2 });
  assert.deepEqual(env.state(), ["live", "sse"]);
  env.negotiator.close();
});

test("a stream refused while long-poll delivers, with no poll tier allowed, keeps the page on long-poll", async () => {
  const env = setup(["sse", "longpoll"]);
  env.limited = false;
  await env.negotiator.start();
  await env.answer([1]);
  env.clock.advance(10000);
  assert.deepEqual(env.state(), ["polling", "longpoll"]);
  const wait = env.fetch.open.find((r) => r.path === MESSAGES);
  env.limited = true;
  env.clock.advance(env.negotiator.nextRetryAt - env.clock.now);
  await flush();
  await env.refuseStream();
  assert.equal(wait.aborted, false, "the long-poll still delivers");
  assert.deepEqual(env.state(), ["polling", "longpoll"]);
  assert.ok(env.negotiator.nextRetryAt > env.clock.now, "and the stream is tried again later");
  env.negotiator.close();
});

test("while limited the page tries its stream no more often than Retry-After, then climbs back", async () => {
  const env = setup();
  await env.negotiator.start();
  await env.refuseStream();
  await env.answer([1]);
  const tries = [];
  for (let second = 0; second < 60; second += 1) {
    const before = env.streams();
    env.clock.advance(1000);
    await flush();
    if (env.streams() > before) {
      tries.push(env.clock.now);
      await env.refuseStream(); // the probe's try, refused again
    }
    if (env.fetch.open.some((r) => r.path === MESSAGES)) await env.answer();
  }
  assert.ok(tries.length >= 3 && tries.length <= 12, `tried ${tries.length} times in a minute`);
  const gaps = tries.slice(1).map((at, i) => at - tries[i]);
  assert.ok(gaps.every((gap) => gap >= 5000), `never sooner than Retry-After: ${gaps}`);
  assert.deepEqual(env.state(), ["polling", "poll"]);

  env.limited = false; // the other streams closed
  env.clock.advance(env.negotiator.nextRetryAt - env.clock.now);
  await flush();
  env.sse().emit("hello", { tier: "sse", cursor: 1 });
  assert.deepEqual(env.state(), ["live", "sse"]);
  assert.ok(env.logs.includes("Polling stopped - SSE reconnected"));
  env.negotiator.close();
  assert.equal(env.clock.pending, 0);
  assert.equal(env.fetch.open.length, 0);
});

test("close() while a refused stream is being explained leaves nothing open", async () => {
  const env = setup();
  env.slowHead = true;
  await env.negotiator.start();
  env.sse().fail(2);
  assert.equal(env.fetch.open.filter((r) => r.init.method === "HEAD").length, 1, "the HEAD is out");
  env.negotiator.close();
  await flush();
  assert.equal(env.fetch.open.length, 0);
  assert.equal(env.clock.pending, 0);
});

// ── posting ──────────────────────────────────────────────────────────────────────────

test("a 429 answer carries its Retry-After on the ApiError", async () => {
  const api = new ApiClient({ token: "t", fetch: async () => refused(7, { error: { code: "too_many_messages" } }) });
  await assert.rejects(api.postMessage(7, "hi", "c-1", { retry: false }), (error) => {
    assert.equal(error.status, 429);
    assert.equal(error.code, "too_many_messages");
    assert.equal(error.retryAfterMs, 7000);
    return true;
  });
});

test("a message refused with 429 waits Retry-After, is never given up on, and is sent once", async () => {
  const clock = new FakeClock();
  const posts = [];
  const post = (body, clientId) =>
    new Promise((resolve, reject) => posts.push({ clientId, resolve, reject }));
  const outbox = new Outbox({
    conversationId: 7,
    post,
    newClientId: () => "c-1",
    storage: null,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    random: () => 0.5,
    now: () => clock.now,
    maxAttempts: 2,
  });
  const sent = [];
  const failed = [];
  outbox.addEventListener("sent", (event) => sent.push(event.detail.clientId));
  outbox.addEventListener("failed", (event) => failed.push(event.detail.clientId));
  outbox.start();
  outbox.add("hello");
  const limited = Object.assign(new Error("Too many"), { status: 429, retryAfterMs: 20000 });
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    posts.at(-1).reject(limited);
    await flush();
    outbox.resume(); // the connection coming back must not cut the wait short
    clock.advance(19999);
    assert.equal(posts.length, attempt, "nothing sent before Retry-After");
    clock.advance(1);
    assert.equal(posts.length, attempt + 1);
  }
  assert.deepEqual(failed, [], "a 429 is no failure, however often");
  posts.at(-1).resolve({ seq: 1, client_id: "c-1", body: "hello" });
  await flush();
  assert.deepEqual(sent, ["c-1"]);
  assert.equal(new Set(posts.map((p) => p.clientId)).size, 1, "always the same client_id");
  clock.advance(120000);
  assert.equal(posts.length, 4);
});
