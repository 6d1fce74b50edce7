import assert from "node:assert/strict";
import { test } from "node:test";

import { Uploads } from "../../devtone/static/js/uploads.js";
import { FakeClock, flush } from "./fakes.mjs";

/** Uploads whose POSTs stay open until the test answers or fails them. */
function setup({ maxAttempts = 3 } = {}) {
  const clock = new FakeClock();
  const posts = [];
  let seq = 0;
  let ids = 0;
  const post = (file, clientId, { signal }) =>
    new Promise((resolve, reject) => {
      const request = { file, clientId };
      request.answer = () => resolve({ seq: ++seq, client_id: clientId, body: file.name });
      request.fail = (status = 0) => reject(Object.assign(new Error(`HTTP ${status}`), { status }));
      signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
      posts.push(request);
    });
  const uploads = new Uploads({
    post,
    newClientId: () => `u-${++ids}`,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    random: () => 0.5,
    now: () => clock.now,
    maxAttempts,
  });
  const events = [];
  for (const type of ["pending", "sent", "failed"]) {
    uploads.addEventListener(type, ({ detail }) => {
      const extra = type === "sent" ? detail.message.seq : type === "failed" ? detail.permanent : detail.body;
      events.push([type, detail.clientId, extra]);
    });
  }
  return { uploads, posts, clock, events };
}

const file = (name) => ({ name });

test("a file shows as pending with its name, is sent, and reports the stored message", async () => {
  const { uploads, posts, events } = setup();
  uploads.add(file("photo.png"));
  assert.deepEqual(events, [["pending", "u-1", "photo.png"]]);
  assert.equal(posts.length, 1);
  posts[0].answer();
  await flush();
  assert.deepEqual(events.at(-1), ["sent", "u-1", 1]);
});

test("files go one at a time, in the order they were chosen", async () => {
  const { uploads, posts } = setup();
  uploads.add(file("a.png"));
  uploads.add(file("b.pdf"));
  assert.equal(posts.length, 1);
  posts[0].answer();
  await flush();
  assert.deepEqual(posts.map((p) => p.file.name), ["a.png", "b.pdf"]);
});

test("an interrupted upload is tried again with the same client_id, then fails with Retry", async () => {
  const { uploads, posts, clock, events } = setup({ maxAttempts: 3 });
  uploads.add(file("a.png"));
  for (let attempt = 0; attempt < 3; attempt += 1) {
    posts.at(-1).fail(0); // the connection was cut
    await flush();
    clock.advance(60_000);
  }
  assert.equal(posts.length, 3);
  assert.ok(posts.every((p) => p.clientId === "u-1"));
  assert.deepEqual(events.at(-1), ["failed", "u-1", false]);

  assert.equal(uploads.retry("u-1"), true);
  assert.deepEqual(events.at(-1), ["pending", "u-1", "a.png"]);
  posts.at(-1).answer();
  await flush();
  assert.deepEqual(events.at(-1), ["sent", "u-1", 1]);
  assert.equal(posts.at(-1).clientId, "u-1");
});

test("a refused file fails at once, permanently, and the next one goes on", async () => {
  const { uploads, posts, events } = setup();
  uploads.add(file("logo.svg"));
  uploads.add(file("b.png"));
  posts[0].fail(415);
  await flush();
  assert.deepEqual(events.find((e) => e[0] === "failed"), ["failed", "u-1", true]);
  assert.equal(posts.length, 2);
  assert.equal(posts[1].file.name, "b.png");
  assert.equal(uploads.drop("u-1"), true);
  assert.equal(uploads.retry("u-1"), false);
});

test("an upload the feed delivered first is done: its answer changes nothing", async () => {
  const { uploads, posts, events } = setup();
  uploads.add(file("a.png"));
  assert.equal(uploads.confirm({ seq: 4, client_id: "u-1" }), true);
  posts[0].answer();
  await flush();
  assert.equal(events.filter((e) => e[0] === "sent").length, 0);
});

test("nothing is sent while paused; resume sends what waits", async () => {
  const { uploads, posts } = setup();
  uploads.pause();
  uploads.add(file("a.png"));
  assert.equal(posts.length, 0);
  uploads.resume();
  assert.equal(posts.length, 1);
});

test("close aborts the upload in flight and leaves no timer", async () => {
  const { uploads, posts, clock } = setup();
  uploads.add(file("a.png"));
  uploads.close();
  await flush();
  assert.equal(clock.pending, 0);
  assert.equal(uploads.add(file("b.png")), null);
  assert.equal(posts.length, 1);
});
