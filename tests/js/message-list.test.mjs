import assert from "node:assert/strict";
import { test } from "node:test";

import {
  MessageList,
  insertionIndex,
  messageClasses,
  statusText,
} from "../../devtone/static/js/message-list.js";

// ── a DOM just big enough for MessageList (it only uses createElement & friends) ─────

class FakeElement {
  children = [];
  parentNode = null;
  dataset = {};
  attributes = {};
  listeners = {};
  className = "";
  scrollTop = 0;
  scrollHeight = 0;
  clientHeight = 0;
  #text = "";

  constructor(tagName) {
    this.tagName = tagName.toUpperCase();
  }

  get classList() {
    const element = this;
    const names = () => element.className.split(/\s+/).filter(Boolean);
    return {
      add: (...add) => (element.className = [...new Set([...names(), ...add])].join(" ")),
      remove: (...drop) => (element.className = names().filter((n) => !drop.includes(n)).join(" ")),
      contains: (name) => names().includes(name),
    };
  }

  get textContent() {
    return this.#text + this.children.map((child) => child.textContent).join("");
  }

  set textContent(value) {
    this.replaceChildren();
    this.#text = String(value);
  }

  get innerHTML() {
    throw new Error("MessageList must not use innerHTML");
  }

  set innerHTML(value) {
    throw new Error("MessageList must not use innerHTML");
  }

  append(...nodes) {
    for (const node of nodes) {
      node.parentNode?.removeChild(node);
      node.parentNode = this;
      this.children.push(node);
    }
  }

  insertBefore(node, reference) {
    node.parentNode?.removeChild(node);
    const index = this.children.indexOf(reference);
    assert.ok(index >= 0, "reference must be a child");
    node.parentNode = this;
    this.children.splice(index, 0, node);
    return node;
  }

  removeChild(node) {
    this.children.splice(this.children.indexOf(node), 1);
    node.parentNode = null;
  }

  remove() {
    this.parentNode?.removeChild(this);
  }

  replaceChildren() {
    for (const child of [...this.children]) this.removeChild(child);
    this.#text = "";
  }

  setAttribute(name, value) {
    this.attributes[name] = String(value);
  }

  addEventListener(type, fn) {
    (this.listeners[type] ??= []).push(fn);
  }

  click() {
    for (const fn of this.listeners.click ?? []) fn({ type: "click" });
  }

  find(className) {
    return this.children.find((child) => child.classList.contains(className));
  }
}

const fakeDocument = { createElement: (tag) => new FakeElement(tag) };

function list() {
  const ul = new FakeElement("ul");
  const messages = new MessageList(ul, { document: fakeDocument, formatTime: (iso) => `@${iso}` });
  const order = () => ul.children.map((li) => li.dataset.seq || `pending:${li.dataset.clientId}`);
  return { ul, messages, order };
}

function text(seq, extra = {}) {
  return {
    seq,
    conversation_id: 1,
    kind: "text",
    sender: "agent",
    author: { name: "Ada" },
    body: `message ${seq}`,
    client_id: null,
    created_at: "2026-11-24T20:00:00Z",
    ...extra,
  };
}

// ── pure parts ───────────────────────────────────────────────────────────────────────

test("insertionIndex keeps seqs ascending", () => {
  assert.equal(insertionIndex([], 5), 0);
  assert.equal(insertionIndex([1, 2, 3], 4), 3);
  assert.equal(insertionIndex([1, 3, 5], 4), 2);
  assert.equal(insertionIndex([2, 3], 1), 0);
});

test("messageClasses follow the sender, and status entries are system lines", () => {
  assert.deepEqual(messageClasses({ kind: "text", sender: "visitor" }), ["message", "message--visitor"]);
  assert.deepEqual(messageClasses({ kind: "text", sender: "agent" }), ["message", "message--agent"]);
  assert.deepEqual(messageClasses({ kind: "status", sender: "agent" }), ["message", "message--system", "message--status"]);
  assert.deepEqual(messageClasses({ kind: "text", sender: "robot" }), ["message", "message--system"]);
});

test("statusText prefers the body and falls back to the status", () => {
  assert.equal(statusText({ kind: "status", body: "Ada joined", status: "active" }), "Ada joined");
  assert.equal(statusText({ kind: "status", body: "", status: "closed" }), "Conversation closed");
});

// ── rendering ────────────────────────────────────────────────────────────────────────

test("a message renders author, body and time as text", () => {
  const { ul, messages } = list();
  messages.upsert(text(1, { body: "<b>not bold</b>\nsecond line" }));
  const li = ul.children[0];
  assert.equal(li.tagName, "LI");
  assert.equal(li.className, "message message--agent");
  assert.deepEqual(li.dataset, { seq: "1", sender: "agent", kind: "text" });
  assert.equal(li.find("message__author").textContent, "Ada");
  assert.equal(li.find("message__body").textContent, "<b>not bold</b>\nsecond line");
  assert.equal(li.find("message__body").tagName, "P");
  const time = li.find("message__time");
  assert.equal(time.textContent, "@2026-11-24T20:00:00Z");
  assert.equal(time.attributes.datetime, "2026-11-24T20:00:00Z");
});

test("a status entry renders as one centred system line", () => {
  const { ul, messages } = list();
  messages.upsert(text(2, { kind: "status", sender: "system", body: "", status: "closed" }));
  const li = ul.children[0];
  assert.equal(li.className, "message message--system message--status");
  assert.equal(li.find("message__author"), undefined);
  assert.equal(li.find("message__body").textContent, "Conversation closed");
});

test("a seq already shown is ignored", () => {
  const { messages, order } = list();
  assert.equal(messages.upsert(text(1)), true);
  assert.equal(messages.upsert(text(1, { body: "again" })), false);
  assert.deepEqual(order(), ["1"]);
});

test("out-of-order entries are placed by seq", () => {
  const { messages, order } = list();
  for (const seq of [2, 5, 1, 4, 3]) messages.upsert(text(seq));
  assert.deepEqual(order(), ["1", "2", "3", "4", "5"]);
  assert.equal(messages.lastSeq, 5);
  assert.equal(messages.has(4), true);
  assert.equal(messages.has(6), false);
});

// ── pending messages ─────────────────────────────────────────────────────────────────

test("a pending message shows at once as sending", () => {
  const { ul, messages } = list();
  messages.addPending("c-1", "hello", "Ann");
  const li = ul.children[0];
  assert.equal(li.className, "message message--visitor message--pending");
  assert.equal(li.dataset.clientId, "c-1");
  assert.equal(li.dataset.seq, "");
  assert.equal(li.find("message__body").textContent, "hello");
  assert.equal(li.find("message__state").textContent, "sending…");
});

test("the stored copy replaces the pending element instead of adding one", () => {
  const { ul, messages, order } = list();
  messages.addPending("c-1", "hello", "Ann");
  const pending = ul.children[0];
  messages.upsert(text(1, { sender: "visitor", author: { name: "Ann" }, body: "hello", client_id: "c-1" }));
  assert.deepEqual(order(), ["1"]);
  assert.equal(ul.children[0], pending, "same element, now stored");
  assert.equal(pending.className, "message message--visitor");
  assert.equal(pending.find("message__state"), undefined);
  // The other copy (stream after POST response, or the reverse) is a seq already shown.
  messages.upsert(text(1, { sender: "visitor", client_id: "c-1" }));
  assert.equal(ul.children.length, 1);
});

test("pending messages stay below stored ones until confirmed", () => {
  const { messages, order } = list();
  messages.upsert(text(1));
  messages.addPending("c-1", "first", "Ann");
  messages.addPending("c-2", "second", "Ann");
  messages.upsert(text(2)); // an agent answered meanwhile
  assert.deepEqual(order(), ["1", "2", "pending:c-1", "pending:c-2"]);
  messages.upsert(text(4, { sender: "visitor", client_id: "c-2" }));
  messages.upsert(text(3, { sender: "visitor", client_id: "c-1" }));
  assert.deepEqual(order(), ["1", "2", "3", "4"]);
});

test("a failed message offers a retry", () => {
  const { ul, messages } = list();
  const retried = [];
  messages.onretry = (clientId) => retried.push(clientId);
  messages.addPending("c-1", "hello", "Ann");
  assert.equal(messages.markFailed("c-1"), true);
  const li = ul.children[0];
  assert.equal(li.className, "message message--visitor message--failed");
  const button = li.find("message__retry");
  assert.equal(button.textContent, "not sent — retry");
  assert.equal(li.children.filter((c) => c.classList.contains("message__state")).length, 1);
  button.click();
  assert.deepEqual(retried, ["c-1"]);
  messages.addPending("c-1", "hello", "Ann"); // retrying: sending again, same element
  assert.equal(ul.children.length, 1);
  assert.equal(li.className, "message message--visitor message--pending");
});

test("marking a message that is already stored does nothing", () => {
  const { messages } = list();
  messages.addPending("c-1", "hello", "Ann");
  messages.upsert(text(1, { client_id: "c-1", sender: "visitor" }));
  assert.equal(messages.markFailed("c-1"), false);
});

test("clear empties the list", () => {
  const { ul, messages } = list();
  messages.upsert(text(1));
  messages.addPending("c-1", "x", "Ann");
  messages.clear();
  assert.equal(ul.children.length, 0);
  assert.equal(messages.lastSeq, 0);
  messages.upsert(text(1));
  assert.equal(ul.children.length, 1);
});

// ── the other side's read mark ("Seen") and the agent's side ─────────────────────────

const seenOn = (ul) => ul.children.filter((li) => li.find("message__seen")).map((li) => li.dataset.seq);

test("Seen goes under the latest own message at or below the read mark, one at a time", () => {
  const { ul, messages } = list();
  messages.upsert(text(1, { sender: "visitor" }));
  messages.upsert(text(2, { sender: "visitor" }));
  messages.upsert(text(3)); // the agent's
  messages.upsert(text(4, { sender: "visitor" }));
  messages.markSeen(3);
  assert.deepEqual(seenOn(ul), ["2"]);
  assert.equal(ul.children[1].find("message__seen").textContent, "Seen");
  messages.markSeen(3); // again: nothing moves, nothing doubles
  assert.deepEqual(seenOn(ul), ["2"]);
  messages.markSeen(4);
  assert.deepEqual(seenOn(ul), ["4"]);
  messages.markSeen(0);
  assert.deepEqual(seenOn(ul), []);
});

test("Seen skips status entries and waits for an own message", () => {
  const { ul, messages } = list();
  messages.upsert(text(1)); // the agent's
  messages.upsert(text(2, { kind: "status", sender: "visitor", status: "waiting", body: "The conversation was reopened." }));
  messages.markSeen(2);
  assert.deepEqual(seenOn(ul), []);
});

test("on the agent's side, own pending messages are the agent's and the visitor has a name", () => {
  const ul = new FakeElement("ul");
  const messages = new MessageList(ul, { document: fakeDocument, formatTime: () => "", self: "agent" });
  messages.addPending("c-1", "On it", "Maria");
  assert.equal(ul.children[0].className, "message message--agent message--pending");
  messages.upsert(text(1, { sender: "visitor", author: { name: "" } }));
  messages.upsert(text(2, { sender: "agent", author: {}, client_id: "c-1" }));
  assert.equal(ul.children[0].find("message__author").textContent, "Visitor");
  assert.equal(ul.children[1].find("message__author").textContent, "You");
  messages.markSeen(9);
  assert.deepEqual(seenOn(ul), ["2"], "the visitor's read mark, if the page shows one");
});
