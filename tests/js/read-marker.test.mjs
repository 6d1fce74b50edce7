import assert from "node:assert/strict";
import { test } from "node:test";

import { READ_DELAY_MS, ReadMarker } from "../../devtone/static/js/read-marker.js";
import { FakeClock, flush } from "./fakes.mjs";

/** A marker whose POSTs stay open until the test settles them. */
function marker(readSeq = 0) {
  const clock = new FakeClock();
  const posts = [];
  const reader = new ReadMarker({
    readSeq,
    send: (seq) =>
      new Promise((resolve, reject) => {
        posts.push({ seq, resolve, reject });
      }),
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
  });
  return { clock, posts, reader, sent: () => posts.map((post) => post.seq) };
}

test("a burst of entries becomes one POST of the highest seq", async () => {
  const { clock, reader, sent } = marker(2);
  reader.seen(3);
  reader.seen(4);
  reader.seen(5);
  assert.deepEqual(sent(), [], "it waits a moment for the rest of the burst");
  clock.advance(READ_DELAY_MS);
  assert.deepEqual(sent(), [5]);
  assert.equal(reader.marked, 5);
});

test("nothing at or below the read mark is sent", () => {
  const { clock, reader, sent } = marker(5);
  reader.seen(5);
  reader.seen(4);
  clock.advance(READ_DELAY_MS);
  assert.deepEqual(sent(), []);
  assert.equal(clock.pending, 0);
});

test("never two POSTs at a time: what arrives meanwhile goes after, in one", async () => {
  const { clock, posts, reader, sent } = marker();
  reader.seen(1);
  clock.advance(READ_DELAY_MS);
  reader.seen(2);
  reader.seen(3);
  clock.advance(READ_DELAY_MS * 4);
  assert.deepEqual(sent(), [1]);
  posts[0].resolve();
  await flush();
  clock.advance(READ_DELAY_MS);
  assert.deepEqual(sent(), [1, 3]);
});

test("a failed POST is not retried by itself, but the next seen() tries again", async () => {
  const { clock, posts, reader, sent } = marker();
  reader.seen(4);
  clock.advance(READ_DELAY_MS);
  posts[0].reject(new Error("offline"));
  await flush();
  assert.equal(reader.marked, 0);
  clock.advance(60000);
  assert.deepEqual(sent(), [4]);
  reader.seen(4); // the tab became visible again
  clock.advance(READ_DELAY_MS);
  assert.deepEqual(sent(), [4, 4]);
});

test("the server's own mark (a conversation update) counts as sent", () => {
  const { clock, reader, sent } = marker();
  reader.acknowledge(6);
  reader.seen(6);
  clock.advance(READ_DELAY_MS);
  assert.deepEqual(sent(), []);
  reader.acknowledge(3);
  assert.equal(reader.marked, 6, "a mark never moves back");
});

test("close marks at once what was already shown, then sends nothing more", () => {
  const { clock, reader, sent } = marker();
  reader.seen(2);
  reader.close();
  assert.equal(clock.pending, 0);
  assert.deepEqual(sent(), [2], "the agent saw seq 2 before closing");
  reader.seen(3);
  clock.advance(READ_DELAY_MS);
  assert.deepEqual(sent(), [2]);
});

test("close with nothing pending sends nothing", () => {
  const { clock, reader, sent } = marker();
  reader.close();
  reader.seen(3);
  clock.advance(READ_DELAY_MS);
  assert.deepEqual(sent(), []);
});

test("ReadMarker needs send()", () => {
  assert.throws(() => new ReadMarker({}), TypeError);
});
