import assert from "node:assert/strict";
import { test } from "node:test";

import { MARK_DELAY_MS, MARK_INTERVAL_MS, MarkSender, marksToSend } from "../../devtone/static/js/mark-sender.js";
import { FakeClock, flush } from "./fakes.mjs";

/** A sender whose POSTs stay open until the test settles them. */
function sender(marks = {}) {
  const clock = new FakeClock();
  const posts = [];
  const marker = new MarkSender({
    marks,
    send: (due) =>
      new Promise((resolve, reject) => {
        posts.push({ due, resolve, reject });
      }),
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    now: () => clock.now,
    random: () => 0.5, // no jitter: backoffs of 1 s, 2 s, 4 s…
  });
  return { clock, posts, marker, sent: () => posts.map((post) => post.due) };
}

test("only marks above the server's are worth sending", () => {
  assert.deepEqual(marksToSend({ delivered: 5, seen: 3 }, { delivered: 5, seen: 1 }), { seen: 3 });
  assert.deepEqual(marksToSend({ delivered: 5, seen: 3 }, { delivered: 5, seen: 3 }), {});
});

test("a burst of entries becomes one POST of the highest marks", () => {
  const { clock, marker, sent } = sender({ delivered: 2, seen: 2 });
  marker.delivered(3);
  marker.delivered(5);
  marker.seen(4);
  assert.deepEqual(sent(), [], "it waits a moment for the rest of the burst");
  clock.advance(MARK_DELAY_MS);
  assert.deepEqual(sent(), [{ delivered: 5, seen: 4 }]);
});

test("seen implies delivered", () => {
  const { clock, marker, sent } = sender();
  marker.seen(3);
  clock.advance(MARK_DELAY_MS);
  assert.deepEqual(sent(), [{ delivered: 3, seen: 3 }]);
});

test("nothing at or below the server's marks is sent", () => {
  const { clock, marker, sent } = sender({ delivered: 5, seen: 5 });
  marker.seen(5);
  marker.delivered(4);
  clock.advance(MARK_DELAY_MS);
  assert.deepEqual(sent(), []);
  assert.equal(clock.pending, 0);
});

test("at most one POST a second, and the last mark of a burst always goes (trailing edge)", async () => {
  const { clock, posts, marker, sent } = sender();
  marker.delivered(1);
  clock.advance(MARK_DELAY_MS);
  posts[0].resolve();
  await flush();
  marker.delivered(2);
  marker.delivered(3);
  clock.advance(MARK_DELAY_MS);
  assert.deepEqual(sent(), [{ delivered: 1 }], "a second has not passed since the first POST");
  marker.seen(3);
  clock.advance(MARK_INTERVAL_MS - MARK_DELAY_MS - 1);
  assert.deepEqual(sent(), [{ delivered: 1 }]);
  clock.advance(1);
  assert.deepEqual(sent(), [{ delivered: 1 }, { delivered: 3, seen: 3 }]);
});

test("never two POSTs at a time: what arrives meanwhile goes after, in one", async () => {
  const { clock, posts, marker, sent } = sender();
  marker.delivered(1);
  clock.advance(MARK_DELAY_MS);
  marker.delivered(2);
  marker.delivered(3);
  clock.advance(MARK_INTERVAL_MS * 4);
  assert.deepEqual(sent(), [{ delivered: 1 }]);
  posts[0].resolve();
  await flush();
  clock.advance(MARK_DELAY_MS);
  assert.deepEqual(sent(), [{ delivered: 1 }, { delivered: 3 }]);
});

test("a POST with no answer is tried again after a backoff, and the mark goes once it is answered", async () => {
  const { clock, posts, marker, sent } = sender();
  marker.seen(4); // read during a network blip
  clock.advance(MARK_DELAY_MS);
  posts[0].reject(new Error("offline"));
  await flush();
  assert.deepEqual(marker.marks, { delivered: 0, seen: 0 });
  clock.advance(999);
  assert.equal(sent().length, 1, "not before the first backoff (1 s)");
  clock.advance(1);
  assert.equal(sent().length, 2);
  posts[1].reject(Object.assign(new Error("HTTP 503"), { status: 503 }));
  await flush();
  clock.advance(2000); // the second backoff: 2 s
  assert.equal(sent().length, 3);
  posts[2].resolve();
  await flush();
  assert.deepEqual(marker.marks, { delivered: 4, seen: 4 });
  clock.advance(60000);
  assert.deepEqual(sent(), Array(3).fill({ delivered: 4, seen: 4 }));
});

test("a mark the server refused is not retried by itself, but the next report tries again", async () => {
  const { clock, posts, marker, sent } = sender();
  marker.seen(4);
  clock.advance(MARK_DELAY_MS);
  posts[0].reject(Object.assign(new Error("HTTP 422"), { status: 422 }));
  await flush();
  assert.deepEqual(marker.marks, { delivered: 0, seen: 0 });
  clock.advance(60000);
  assert.equal(sent().length, 1);
  marker.seen(4); // the tab became visible again
  clock.advance(MARK_DELAY_MS);
  assert.deepEqual(sent(), [
    { delivered: 4, seen: 4 },
    { delivered: 4, seen: 4 },
  ]);
});

test("a mark that rose while a POST failed still goes", async () => {
  const { clock, posts, marker, sent } = sender();
  marker.delivered(4);
  clock.advance(MARK_DELAY_MS);
  marker.delivered(6);
  posts[0].reject(new Error("offline"));
  await flush();
  clock.advance(MARK_INTERVAL_MS);
  assert.deepEqual(sent(), [{ delivered: 4 }, { delivered: 6 }]);
});

test("the server's own marks (a conversation update) count as sent, and never move back", () => {
  const { clock, marker, sent } = sender();
  marker.acknowledge({ delivered: 6, seen: 2 });
  marker.delivered(6);
  marker.seen(2);
  clock.advance(MARK_DELAY_MS);
  assert.deepEqual(sent(), []);
  marker.acknowledge({ delivered: 3, seen: 1 });
  assert.deepEqual(marker.marks, { delivered: 6, seen: 2 });
});

test("close marks at once what was already shown, then sends nothing more", () => {
  const { clock, marker, sent } = sender();
  marker.seen(2);
  marker.close();
  assert.equal(clock.pending, 0);
  assert.deepEqual(sent(), [{ delivered: 2, seen: 2 }], "the person saw seq 2 before leaving");
  marker.seen(3);
  clock.advance(MARK_INTERVAL_MS);
  assert.equal(sent().length, 1);
});

test("close with nothing pending sends nothing", () => {
  const { clock, marker, sent } = sender();
  marker.close();
  marker.seen(3);
  clock.advance(MARK_INTERVAL_MS);
  assert.deepEqual(sent(), []);
});

test("MarkSender needs send()", () => {
  assert.throws(() => new MarkSender({}), TypeError);
});
