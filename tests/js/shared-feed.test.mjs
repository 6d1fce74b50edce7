// One stream per browser: the tabs of one origin share each feed (shared-feed.js). Tabs are
// SharedFeeds on one FakeLocks and one FakeChannels; the leader's negotiator is a fake the
// test drives, and followers' catch-up reads go to a FakeFetch.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ConversationFeed, DashboardFeed } from "../../devtone/static/js/realtime/feeds.js";
import { TierNegotiator } from "../../devtone/static/js/realtime/negotiator.js";
import { BEAT_MS, STALE_MS, SharedFeed, feedNegotiator } from "../../devtone/static/js/realtime/shared-feed.js";
import { reportTierChanges } from "../../devtone/static/js/realtime/tier-report.js";
import { FakeChannels, FakeClock, FakeFetch, FakeLocks, entry, flush, page } from "./fakes.mjs";

const MESSAGES = "/api/conversations/7/messages";

/** A negotiator the test drives: emit(type, detail) as the real one would dispatch. */
class FakeNegotiator extends EventTarget {
  started = false;
  closed = false;
  cursor;

  constructor({ feed }) {
    super();
    this.feed = feed;
    this.cursor = feed.cursor;
  }

  start() {
    this.started = true;
  }

  close() {
    this.closed = true;
  }

  emit(type, detail) {
    if (type === "message") this.cursor = detail.seq;
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  state(state, tier) {
    this.emit("statechange", { state, tier, code: "upgrade", reason: "hello", nextRetryAt: null });
  }
}

/** A browser: its locks, channels, clock and server; tab(cursor) opens one more tab. */
function browser(feedOf = (cursor) => new ConversationFeed({ streamUrl: "/api/conversations/7/events?token=t", messagesUrl: `${MESSAGES}?token=t`, cursor })) {
  const locks = new FakeLocks();
  const channels = new FakeChannels();
  const clock = new FakeClock();
  const fetch = new FakeFetch();
  const negotiators = [];
  const tabs = [];
  const tab = (cursor = 0, { visibility = "visible", clock: own = clock } = {}) => {
    const document = Object.assign(new EventTarget(), { visibilityState: visibility });
    const shared = new SharedFeed(
      { negotiateUrl: "/api/realtime/negotiate", feed: feedOf(cursor) },
      {
        locks,
        BroadcastChannel: channels.BroadcastChannel,
        fetch: fetch.fetch,
        document,
        setTimeout: own.setTimeout,
        clearTimeout: own.clearTimeout,
        now: () => own.now,
        createNegotiator: (options) => {
          const negotiator = new FakeNegotiator(options);
          negotiators.push(negotiator);
          return negotiator;
        },
      },
    );
    const seen = { messages: [], states: [], events: [] };
    shared.addEventListener("message", ({ detail }) => seen.messages.push(detail.seq));
    shared.addEventListener("statechange", ({ detail }) => seen.states.push(detail));
    for (const type of ["conversation", "typing", "hello", "snapshot"]) {
      shared.addEventListener(type, ({ detail }) => seen.events.push([type, detail]));
    }
    shared.start();
    const t = { shared, seen, document };
    tabs.push(t);
    return t;
  };
  /** Answer the open catch-up reads with `seqs` (each read from its own cursor). */
  const answerReads = async (seqs) => {
    for (const request of fetch.open) {
      const after = Number(request.params.get("after"));
      request.respond(200, page(seqs.filter((seq) => seq > after), Math.max(after, ...seqs)));
    }
    await flush();
  };
  return { locks, channels, clock, fetch, negotiators, tab, tabs, answerReads, leader: () => negotiators.at(-1) };
}

test("the first tab leads and relays; the others hold no connection and show each entry once, with the leader's tier", async () => {
  const b = browser();
  const first = b.tab(3);
  await flush();
  assert.equal(b.negotiators.length, 1);
  assert.equal(b.leader().started, true);
  assert.equal(b.leader().feed.cursor, 3);
  const second = b.tab(3);
  const third = b.tab(3);
  await flush();
  assert.equal(b.negotiators.length, 1, "followers hold no connection");
  assert.equal(first.shared.leading, true);
  assert.equal(second.shared.leading, false);

  b.leader().state("live", "sse");
  await flush();
  await b.answerReads([]); // the followers' one catch-up read when they heard the leader
  for (const tab of [second, third]) {
    assert.deepEqual([tab.shared.state, tab.shared.tier], ["live", "sse"]);
    assert.equal(tab.seen.states.at(-1).relayed, true);
  }
  b.leader().emit("message", entry(4));
  b.leader().emit("typing", { sender: "agent", typing: true });
  b.leader().emit("message", entry(5));
  await flush();
  for (const tab of b.tabs) {
    assert.deepEqual(tab.seen.messages, [4, 5]);
    assert.equal(tab.shared.cursor, 5);
  }
  assert.deepEqual(third.seen.events.at(-1), ["typing", { sender: "agent", typing: true }]);
  assert.equal(b.fetch.requests.length, 2, "one read per follower, no connection");
});

test("a follower that joins late reads what it missed once, holding the relay meanwhile: in order, nothing twice", async () => {
  const b = browser();
  b.tab(0);
  await flush();
  b.leader().state("live", "sse");
  b.leader().emit("message", entry(1));
  b.leader().emit("message", entry(2));
  const late = b.tab(1); // its history reached seq 1
  await flush(); // it asked who leads, and the leader answered
  assert.equal(b.fetch.open.length, 1);
  assert.equal(b.fetch.open[0].params.get("after"), "1");
  b.leader().emit("message", entry(3)); // relayed while the read is out
  await flush();
  assert.deepEqual(late.seen.messages, [], "held until the read answers");
  await b.answerReads([2, 3]);
  assert.deepEqual(late.seen.messages, [2, 3]);
  b.leader().emit("message", entry(4));
  await flush();
  assert.deepEqual(late.seen.messages, [2, 3, 4]);
});

test("an entry relayed past a gap is read first, then shown after what was missing", async () => {
  const b = browser();
  b.tab(0);
  await flush();
  const follower = b.tab(0);
  await flush();
  b.leader().state("live", "sse");
  await flush();
  await b.answerReads([]);
  b.leader().emit("message", entry(2)); // seq 1 never reached this tab
  await flush();
  assert.deepEqual(follower.seen.messages, []);
  await b.answerReads([1, 2]);
  assert.deepEqual(follower.seen.messages, [1, 2]);
});

test("when the leader closes, the next tab takes the lock and starts from its own cursor; nothing twice, none lost", async () => {
  const b = browser();
  const first = b.tab(0);
  await flush();
  const second = b.tab(0);
  const third = b.tab(0);
  await flush();
  b.leader().state("live", "sse");
  await flush();
  await b.answerReads([]);
  for (const seq of [1, 2, 3]) b.leader().emit("message", entry(seq));
  await flush();
  const old = b.leader();
  first.shared.close();
  await flush();
  assert.equal(old.closed, true);
  assert.equal(b.negotiators.length, 2, "the next tab leads");
  assert.equal(second.shared.leading, true);
  assert.equal(b.leader().feed.cursor, 3, "from the highest seq it has shown");
  for (const seq of [2, 3, 4, 5]) b.leader().emit("message", entry(seq)); // a stream replays 2, 3
  await flush();
  for (const tab of [second, third]) assert.deepEqual(tab.seen.messages, [1, 2, 3, 4, 5]);
  assert.deepEqual(b.locks.held, ["devtone.feed /api/conversations/7/events?token=t"], "one lock, by the stream URL");
});

test("a leader whose page freezes steps down and asks again when it resumes", async () => {
  const b = browser();
  const first = b.tab(0);
  await flush();
  const second = b.tab(0);
  await flush();
  first.document.dispatchEvent(new Event("freeze"));
  await flush();
  assert.equal(b.negotiators[0].closed, true);
  assert.equal(second.shared.leading, true);
  first.document.dispatchEvent(new Event("resume"));
  await flush();
  assert.equal(first.shared.leading, false, "it waits for the lock again, as a follower");
  second.shared.close();
  await flush();
  assert.equal(first.shared.leading, true);
});

test("a leader that stops beating has its lock stolen by a follower in view; it then follows", async () => {
  const b = browser();
  const hung = b.tab(0, { clock: new FakeClock() }); // its timers never run: a hung page
  await flush();
  const hidden = b.tab(0, { visibility: "hidden" });
  const visible = b.tab(0);
  await flush();
  b.leader().state("live", "sse");
  await flush();
  await b.answerReads([]);
  b.clock.advance(STALE_MS - BEAT_MS); // silent, but not for long yet
  await flush();
  assert.equal(b.negotiators.length, 1);
  b.clock.advance(2 * BEAT_MS);
  await flush();
  assert.equal(visible.shared.leading, true, "the tab in view took over");
  assert.equal(hidden.shared.leading, false);
  assert.equal(hung.shared.leading, false, "the hung tab, its lock stolen, follows");
  assert.equal(b.negotiators[0].closed, true);
  b.leader().emit("message", entry(1));
  await flush();
  await b.answerReads([1]); // the old leader's catch-up read, as it follows again
  for (const tab of [hung, hidden, visible]) assert.deepEqual(tab.seen.messages, [1]);
});

test("a tab refused Web Locks (a third-party frame) keeps a connection of its own", async () => {
  const b = browser();
  b.locks.request = () => Promise.reject(new DOMException("The request was denied.", "SecurityError"));
  const frame = b.tab(0);
  await flush();
  assert.equal(frame.shared.leading, true);
  assert.equal(b.leader().started, true);
  b.leader().emit("message", entry(1));
  assert.deepEqual(frame.seen.messages, [1]);
  frame.shared.close();
  assert.equal(b.leader().closed, true);
});

test("without Web Locks or BroadcastChannel each tab keeps its own negotiator", () => {
  const feed = new DashboardFeed({ streamUrl: "/api/dashboard/events", snapshotUrl: "/api/dashboard/snapshot" });
  const options = { negotiateUrl: "/api/realtime/negotiate", feed };
  assert.ok(feedNegotiator(options, { locks: null, BroadcastChannel: FakeChannels }) instanceof TierNegotiator);
  assert.ok(feedNegotiator(options, { locks: new FakeLocks(), BroadcastChannel: null }) instanceof TierNegotiator);
  const channels = new FakeChannels();
  assert.ok(feedNegotiator(options, { locks: new FakeLocks(), BroadcastChannel: channels.BroadcastChannel }) instanceof SharedFeed);
});

test("a dashboard follower reads a snapshot when it joins; relayed changes are not reported twice", async () => {
  const b = browser(() => new DashboardFeed({ streamUrl: "/api/dashboard/events", snapshotUrl: "/api/dashboard/snapshot" }));
  b.tab();
  await flush();
  const follower = b.tab();
  const reports = [];
  reportTierChanges(follower.shared, { fetch: (url, init) => reports.push(init.body), page: null });
  b.leader().state("live", "sse");
  await flush();
  const read = b.fetch.open[0];
  assert.equal(read.url, "/api/dashboard/snapshot?wait=0");
  read.respond(200, { conversations: [], stats: {}, etag: "e1" });
  await flush();
  assert.deepEqual(follower.seen.events.map(([type]) => type), ["snapshot"]);
  assert.equal(follower.shared.cursor, "e1");
  b.leader().state("polling", "longpoll");
  await flush();
  assert.equal(follower.shared.tier, "longpoll");
  assert.deepEqual(reports, [], "the leader's page reports its own changes");
});
