import assert from "node:assert/strict";
import { test } from "node:test";

import { connectEmbed, EmbedBridge, isAgentText, validVisitor } from "../../devtone/static/js/embed-bridge.js";
import { FakeEventTarget, FakeFrameWindow } from "./widget-harness.mjs";

const HOST = "http://localhost:8765";

/** The iframe's window (listens) and its parent (the host page, receives posts). */
function frame() {
  const window = new FakeEventTarget();
  const parent = new FakeFrameWindow();
  const deliver = (data, { origin = HOST, source = parent } = {}) =>
    window.dispatchEvent({ type: "message", origin, source, data });
  return { window, parent, deliver };
}

function fakePage() {
  const calls = [];
  return {
    calls,
    identify: (visitor) => calls.push(["identify", visitor]),
    reset: () => calls.push(["reset"]),
    setPanelOpen: (open) => calls.push(["panel", open]),
  };
}

const agent = (seq, kind = "text") => ({ seq, sender: "agent", kind, body: `m${seq}` });

test("isAgentText: agent text entries only", () => {
  assert.equal(isAgentText(agent(1)), true);
  assert.equal(isAgentText(agent(1, "status")), false);
  assert.equal(isAgentText({ sender: "visitor", kind: "text" }), false);
  assert.equal(isAgentText(null), false);
});

test("without a host origin the bridge neither listens nor posts", () => {
  const { window, parent } = frame();
  const bridge = new EmbedBridge({ hostOrigin: "", window, parent });
  assert.equal(bridge.start(), false);
  assert.equal(window.count("message"), 0);
  assert.equal(bridge.post("ready"), false);
  assert.deepEqual(parent.posted, []);
  assert.equal(connectEmbed({ page: fakePage(), hostOrigin: "", window, parent }), null);
});

test("not inside a frame (parent is the window itself): off", () => {
  const window = new FakeEventTarget();
  const bridge = new EmbedBridge({ hostOrigin: HOST, window, parent: window });
  assert.equal(bridge.start(), false);
});

test("posts only to the exact host origin, shaped {devtone: 1, type}", () => {
  const { window, parent } = frame();
  const bridge = new EmbedBridge({ hostOrigin: HOST, window, parent });
  bridge.start();
  bridge.post("unread", { count: 3, devtone: 7, type: "forged" });
  assert.deepEqual(parent.posted, [{ data: { devtone: 1, type: "unread", count: 3 }, targetOrigin: HOST }]);
  bridge.stop();
  assert.equal(window.count("message"), 0);
  assert.equal(window.count("keydown"), 0);
  assert.equal(bridge.post("ready"), false);
});

test("accepts only the host origin and the parent window; unknown types are dropped", () => {
  const { window, parent, deliver } = frame();
  const bridge = new EmbedBridge({ hostOrigin: HOST, window, parent });
  bridge.start();
  const seen = [];
  for (const type of ["open", "close", "identify", "reset", "ready"]) {
    bridge.addEventListener(type, (event) => seen.push([type, event.detail]));
  }
  deliver({ devtone: 1, type: "open" }, { origin: "https://evil.example" });
  deliver({ devtone: 1, type: "open" }, { source: {} });
  deliver({ devtone: 2, type: "open" });
  deliver({ type: "open" });
  deliver("open");
  deliver({ devtone: 1, type: "ready" }); // a type the host never sends
  assert.deepEqual(seen, []);
  deliver({ devtone: 1, type: "identify", name: "  Ada ", email: 42 });
  deliver({ devtone: 1, type: "open" });
  assert.deepEqual(seen, [
    ["identify", { name: "Ada", email: "" }],
    ["open", {}],
  ]);
});

test("Esc inside the frame asks the host to close the panel", () => {
  const { window, parent } = frame();
  new EmbedBridge({ hostOrigin: HOST, window, parent }).start();
  window.dispatchEvent({ type: "keydown", key: "a" });
  window.dispatchEvent({ type: "keydown", key: "Escape", defaultPrevented: true });
  window.dispatchEvent({ type: "keydown", key: "Escape" });
  assert.deepEqual(
    parent.posted.map((entry) => entry.data),
    [{ devtone: 1, type: "close" }],
  );
});

test("connectEmbed: the page's unseen count goes to the host when it changes; agent messages too", () => {
  const { window, parent, deliver } = frame();
  const page = fakePage();
  const embed = connectEmbed({ page, hostOrigin: HOST, ownStore: deniedStorage(), window, parent });
  const sent = () => parent.posted.map((entry) => entry.data);
  embed.ready();
  embed.unseen(2); // the history said: two agent messages above the visitor's seen mark
  embed.unseen(2); // no change, no news
  embed.message(agent(1));
  embed.message({ seq: 2, sender: "visitor", kind: "text" }); // not the host's business
  embed.message(agent(3, "status"));
  embed.unseen(3);
  deliver({ devtone: 1, type: "open" });
  embed.unseen(0); // the page marked everything seen
  assert.deepEqual(sent(), [
    { devtone: 1, type: "ready" },
    { devtone: 1, type: "unread", count: 2 },
    { devtone: 1, type: "message", message: agent(1) },
    { devtone: 1, type: "unread", count: 3 },
    { devtone: 1, type: "unread", count: 0 },
  ]);
  assert.equal(embed.unread, 0);
  assert.deepEqual(page.calls, [["panel", true]]);
});

test("connectEmbed: identify and reset reach the page", () => {
  const { window, parent, deliver } = frame();
  const page = fakePage();
  connectEmbed({ page, hostOrigin: HOST, window, parent });
  deliver({ devtone: 1, type: "identify", name: "Ada", email: "ada@example.com" });
  deliver({ devtone: 1, type: "reset" });
  deliver({ devtone: 1, type: "reset" }, { origin: "https://evil.example" });
  assert.deepEqual(page.calls, [["identify", { name: "Ada", email: "ada@example.com" }], ["reset"]]);
});

test("validVisitor: who they are, their conversation and the earlier ones; nothing else", () => {
  const token = "a".repeat(43);
  assert.deepEqual(validVisitor({ name: " Ada ", email: "ada@example.com", extra: 1 }), {
    name: "Ada",
    email: "ada@example.com",
  });
  assert.deepEqual(validVisitor({ conversationId: 7, token, name: "Ada", startedAt: "2026-12-06T10:00:00Z" }), {
    name: "Ada",
    conversationId: 7,
    token,
    startedAt: "2026-12-06T10:00:00Z",
  });
  assert.deepEqual(validVisitor({ name: "Ada", earlier: [{ conversationId: 3, token }, { conversationId: "x", token }] }), {
    name: "Ada",
    earlier: [{ conversationId: 3, token, startedAt: "" }],
  });
  for (const wrong of [null, "Ada", {}, { name: "  " }, { conversationId: 7, token: "short" }]) {
    assert.equal(validVisitor(wrong), null, JSON.stringify(wrong));
  }
});

/** The frame's own storage: denied, as browsers do for a third-party frame. */
function deniedStorage() {
  return { load: () => null, save: () => {}, forget: () => {} };
}

const VISITOR = { conversationId: 7, token: "b".repeat(43), name: "Ada" };

test("the page starts once the host handed back the visitor, and stores new ones with the host", async () => {
  const { window, parent, deliver } = frame();
  const embed = connectEmbed({ page: fakePage(), hostOrigin: HOST, ownStore: deniedStorage(), window, parent });
  const ready = embed.ready();
  assert.equal(parent.posted.at(-1).data.type, "ready");
  deliver({ devtone: 1, type: "restore", visitor: VISITOR });
  await ready;
  assert.deepEqual(embed.store.load(), VISITOR);
  const lastStored = () => parent.posted.filter((message) => message.data.type === "store").at(-1).data;
  embed.store.forget();
  assert.equal(embed.store.load(), null);
  assert.deepEqual(lastStored(), { visitor: null, devtone: 1, type: "store" });
  embed.store.save({ ...VISITOR, conversationId: 8 });
  assert.equal(lastStored().visitor.conversationId, 8);
});

test("the host hears whether a conversation is going: waiting, active, or closed with unseen messages", async () => {
  const { window, parent, deliver } = frame();
  const embed = connectEmbed({ page: fakePage(), hostOrigin: HOST, ownStore: deniedStorage(), window, parent });
  const ready = embed.ready();
  deliver({ devtone: 1, type: "restore", visitor: VISITOR });
  await ready;
  const told = () => parent.posted.filter((m) => m.data.type === "conversation").map((m) => m.data.open);
  embed.status(null); // opening: not known yet, so nothing is said
  embed.unseen(0);
  assert.deepEqual(told(), []);
  embed.status("waiting");
  embed.status("active");
  assert.deepEqual(told(), [true]); // once per change
  embed.status("closed");
  assert.deepEqual(told(), [true, false]);
  embed.unseen(1); // the agent's last words, not seen yet: the next page must show the badge
  assert.deepEqual(told(), [true, false, true]);
  embed.unseen(0);
  assert.deepEqual(told(), [true, false, true, false]);
  embed.status("waiting"); // the visitor wrote again
  embed.store.save({ name: "Ada" }); // and left it for a new one
  assert.deepEqual(told(), [true, false, true, false, true, false]);
  embed.status("active");
  embed.store.forget(); // reset()
  assert.deepEqual(told(), [true, false, true, false, true, false, true, false]);
});

test("a page started without a conversation tells the host nothing is going", async () => {
  const { window, parent, deliver } = frame();
  const embed = connectEmbed({ page: fakePage(), hostOrigin: HOST, ownStore: deniedStorage(), window, parent });
  const ready = embed.ready();
  deliver({ devtone: 1, type: "restore", visitor: { name: "Ada" } });
  await ready;
  assert.deepEqual(parent.posted.at(-1).data, { open: false, devtone: 1, type: "conversation" });
});

test("a restore from another origin, or a malformed one, gives no visitor", async () => {
  const { window, parent, deliver } = frame();
  let fire;
  const setTimeout = (fn) => (fire = fn);
  const embed = connectEmbed({
    page: fakePage(),
    hostOrigin: HOST,
    ownStore: deniedStorage(),
    window,
    parent,
    setTimeout,
  });
  const ready = embed.ready();
  deliver({ devtone: 1, type: "restore", visitor: VISITOR }, { origin: "https://evil.example" });
  deliver({ devtone: 1, type: "restore", visitor: { conversationId: 7, token: "short" } });
  await ready;
  assert.equal(embed.store.load(), null);
  assert.equal(typeof fire, "function"); // a host that never answers does not stall the page
});
