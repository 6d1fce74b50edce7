import assert from "node:assert/strict";
import test from "node:test";

import { DoctorProbe, eventNames } from "../../devtone/static/js/doctor-probe.js";

const encoder = new TextEncoder();

/** A body that yields `parts` (text) one read at a time, each after `advance()` moves the clock. */
function body(parts, advance) {
  return new ReadableStream({
    async pull(controller) {
      if (!parts.length) return controller.close();
      const [ms, text] = parts.shift();
      advance(ms);
      controller.enqueue(encoder.encode(text));
    },
  }, { highWaterMark: 0 }); // read only when asked: each part's time passes as it is read
}

function answer(status, headers, streamBody) {
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: new Headers(headers),
    body: streamBody,
    json: async () => JSON.parse(await new Response(streamBody).text()),
    arrayBuffer: async () => new ArrayBuffer(0),
  };
}

test("event names come out of an SSE body however its bytes are cut", async () => {
  const clock = { now: 0 };
  const parts = [[0, "retry: 3000\nevent: hel"], [0, "lo\ndata: {}\n\nevent: ping\r\n"], [0, "data: {}\n\n"]];
  const names = [];
  for await (const name of eventNames(body(parts, (ms) => (clock.now += ms)))) names.push(name);
  assert.deepEqual(names, ["hello", "ping"]);
});

test("the probe notes when the stream's headers, hello, ping and end came, and says what it saw", async () => {
  const clock = { now: 1000 };
  const fetch = async (url) => {
    if (url.endsWith("/realtime/negotiate")) {
      return answer(200, {}, body([[0, JSON.stringify({ timings: { heartbeat_ms: 15000, longpoll_wait_s: 25 } })]], () => {}));
    }
    if (url.endsWith("/doctor/stream")) {
      clock.now += 30; // the headers
      return answer(200, { "Content-Type": "text/event-stream", "Content-Encoding": "gzip" },
        body([[5, "event: hello\ndata: {}\n\n"], [15000, "event: ping\ndata: {}\n\n"], [2, ""]], (ms) => (clock.now += ms)));
    }
    if (url.includes("/doctor/wait?seconds=25")) throw new TypeError("Failed to fetch");
    return answer(200, {}, body([[0, JSON.stringify({ time: "2026-12-06T12:00:00.000Z", waited_ms: 0 })]], () => {}));
  };
  const timers = { setTimeout: () => 1, clearTimeout: () => {} };
  let wall = 1_765_022_400_000;
  const probe = new DoctorProbe({
    fetch,
    now: () => clock.now,
    wallClock: () => (wall += 40),
    resources: () => [{ name: "http://x/api/doctor/wait?seconds=0", nextHopProtocol: "h2" }],
    timers,
  });
  const seen = await probe.observe();
  assert.equal(seen.heartbeat_ms, 15000);
  assert.equal(seen.stream.status, 200);
  assert.equal(seen.stream.content_type, "text/event-stream");
  assert.equal(seen.stream.content_encoding, "gzip");
  assert.equal(seen.stream.headers_ms, 30);
  assert.equal(seen.stream.hello_ms, 35);
  assert.equal(seen.stream.ping_ms, 15035);
  assert.equal(seen.wait.asked_s, 25);
  assert.equal(seen.wait.error, "Failed to fetch");
  assert.equal(typeof seen.wait.answered_ms, "number");
  assert.deepEqual(seen.clock, { server_time: "2026-12-06T12:00:00.000Z", sent_ms: 1_765_022_400_040, received_ms: 1_765_022_400_080 });
  assert.equal(seen.http_version, "h2");
});
