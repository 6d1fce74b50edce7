import assert from "node:assert/strict";
import { test } from "node:test";

import {
  MessageList,
  insertionIndex,
  messageClasses,
  statusText,
} from "../../devtone/static/js/message-list.js";
import { useTexts } from "../../devtone/static/js/texts.js";

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
      toggle: (name, force) => {
        const on = force ?? !names().includes(name);
        element.className = on
          ? [...new Set([...names(), name])].join(" ")
          : names().filter((n) => n !== name).join(" ");
        return on;
      },
    };
  }

  #sibling(step) {
    const siblings = this.parentNode?.children ?? [];
    return siblings[siblings.indexOf(this) + step] ?? null;
  }

  get previousElementSibling() {
    return this.#sibling(-1);
  }

  get nextElementSibling() {
    return this.#sibling(1);
  }

  get firstElementChild() {
    return this.children[0] ?? null;
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

// The list's entries (its day lines aside), in page order.
const entries = (ul) => ul.children.filter((li) => li.classList.contains("message"));

function list(options = {}) {
  const ul = new FakeElement("ul");
  const messages = new MessageList(ul, {
    document: fakeDocument,
    formatTime: (iso) => `@${iso}`,
    now: () => Date.parse("2026-11-24T21:00:00Z"),
    timeZone: "UTC",
    locale: "en-US",
    ...options,
  });
  const order = () => entries(ul).map((li) => li.dataset.seq || `pending:${li.dataset.clientId}`);
  return { ul, messages, order, entries: () => entries(ul) };
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

test("the log's English status lines are worded in the page's language", () => {
  useTexts("pt-BR", {
    "{name} joined the conversation.": "{name} entrou na conversa.",
    "The conversation was closed.": "A conversa foi encerrada.",
  });
  try {
    assert.equal(statusText({ kind: "status", body: "Maria Oliveira joined the conversation.", status: "active" }), "Maria Oliveira entrou na conversa.");
    assert.equal(statusText({ kind: "status", body: "The conversation was closed.", status: "closed" }), "A conversa foi encerrada.");
    assert.equal(statusText({ kind: "status", body: "Something new", status: "active" }), "Something new");
  } finally {
    useTexts("en", {});
  }
});

test("statusText prefers the body and falls back to the status", () => {
  assert.equal(statusText({ kind: "status", body: "Ada joined", status: "active" }), "Ada joined");
  assert.equal(statusText({ kind: "status", body: "", status: "closed" }), "Conversation closed");
});

// ── rendering ────────────────────────────────────────────────────────────────────────

test("a message renders author, body and time as text", () => {
  const { ul, messages } = list();
  messages.upsert(text(1, { body: "<b>not bold</b>\nsecond line" }));
  const li = entries(ul)[0];
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
  const li = entries(ul)[0];
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
  const li = entries(ul)[0];
  assert.equal(li.className, "message message--visitor message--pending");
  assert.equal(li.dataset.clientId, "c-1");
  assert.equal(li.dataset.seq, "");
  assert.equal(li.find("message__body").textContent, "hello");
  const state = li.find("message__state");
  assert.equal(state.dataset.state, "sending");
  assert.equal(state.attributes["aria-label"], "Sending");
  assert.equal(state.attributes.title, "Sending");
});

test("the stored copy replaces the pending element instead of adding one", () => {
  const { ul, messages, order } = list();
  messages.addPending("c-1", "hello", "Ann");
  const pending = entries(ul)[0];
  messages.upsert(text(1, { sender: "visitor", author: { name: "Ann" }, body: "hello", client_id: "c-1" }));
  assert.deepEqual(order(), ["1"]);
  assert.equal(entries(ul)[0], pending, "same element, now stored");
  assert.equal(pending.className, "message message--visitor");
  assert.equal(pending.find("message__state").dataset.state, "sent");
  // The other copy (stream after POST response, or the reverse) is a seq already shown.
  messages.upsert(text(1, { sender: "visitor", client_id: "c-1" }));
  assert.equal(entries(ul).length, 1);
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

test("a failed message says it was not sent and offers Retry and Discard", () => {
  const { ul, messages } = list();
  const retried = [];
  const discarded = [];
  messages.onretry = (clientId) => retried.push(clientId);
  messages.ondiscard = (clientId) => discarded.push(clientId);
  messages.addPending("c-1", "hello", "Ann");
  assert.equal(messages.markFailed("c-1"), true);
  const li = entries(ul)[0];
  assert.equal(li.className, "message message--visitor message--failed");
  assert.equal(li.dataset.state, "failed");
  assert.equal(li.find("message__state").textContent, "Not sent");
  assert.equal(li.children.filter((c) => c.classList.contains("message__state")).length, 1);
  const [retry, discard] = li.find("message__actions").children;
  assert.deepEqual([retry.tagName, retry.type, retry.textContent], ["BUTTON", "button", "Retry"]);
  assert.deepEqual([discard.tagName, discard.type, discard.textContent], ["BUTTON", "button", "Discard"]);
  discard.click();
  assert.deepEqual(discarded, ["c-1"]);
  retry.click();
  assert.deepEqual(retried, ["c-1"]);
  messages.addPending("c-1", "hello", "Ann"); // retrying: sending again, same element
  assert.equal(entries(ul).length, 1);
  assert.equal(li.className, "message message--visitor message--pending");
  assert.equal(li.find("message__actions"), undefined, "no buttons while it is sending");
  assert.equal(li.find("message__state").dataset.state, "sending");
});

test("a discarded message leaves the list", () => {
  const { ul, messages, order } = list();
  messages.upsert(text(1));
  messages.addPending("c-1", "refused", "Ann");
  messages.markFailed("c-1");
  assert.equal(messages.removePending("c-1"), true);
  assert.deepEqual(order(), ["1"]);
  assert.equal(messages.removePending("c-1"), false);
  assert.equal(entries(ul).length, 1);
});

test("own messages go sent → delivered → seen with the other side's marks, never back", () => {
  const { ul, messages } = list();
  messages.upsert(text(1, { sender: "visitor" }));
  messages.upsert(text(2)); // the agent's: no state of ours
  messages.upsert(text(3, { sender: "visitor" }));
  const states = () => entries(ul).map((li) => li.find("message__state")?.dataset.state ?? null);
  assert.deepEqual(states(), ["sent", null, "sent"]);
  messages.markStates({ delivered: 3, seen: 1 });
  assert.deepEqual(states(), ["seen", null, "delivered"]);
  const label = entries(ul)[2].find("message__state");
  assert.deepEqual([label.attributes.role, label.attributes["aria-label"]], ["img", "Delivered"]);
  messages.markStates({ delivered: 1, seen: 0 }); // a late copy
  assert.deepEqual(states(), ["seen", null, "delivered"]);
  messages.upsert(text(4, { sender: "visitor" }));
  assert.deepEqual(states(), ["seen", null, "delivered", "sent"]);
  messages.markStates({ seen: 4 });
  assert.deepEqual(states(), ["seen", null, "seen", "seen"]);
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
  assert.equal(entries(ul).length, 1);
});

// ── the other side's read mark ("Seen") and the agent's side ─────────────────────────

const seenOn = (ul) => entries(ul).filter((li) => li.find("message__seen")).map((li) => li.dataset.seq);

test("Seen goes under the latest own message at or below the read mark, one at a time", () => {
  const { ul, messages } = list();
  messages.upsert(text(1, { sender: "visitor" }));
  messages.upsert(text(2, { sender: "visitor" }));
  messages.upsert(text(3)); // the agent's
  messages.upsert(text(4, { sender: "visitor" }));
  messages.markSeen(3);
  assert.deepEqual(seenOn(ul), ["2"]);
  assert.equal(entries(ul)[1].find("message__seen").textContent, "Seen");
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
  assert.equal(entries(ul)[0].className, "message message--agent message--pending");
  messages.upsert(text(1, { sender: "visitor", author: { name: "" } }));
  messages.upsert(text(2, { sender: "agent", author: {}, client_id: "c-1" }));
  assert.equal(entries(ul)[0].find("message__author").textContent, "Visitor");
  assert.equal(entries(ul)[1].find("message__author").textContent, "You");
  messages.markSeen(9);
  assert.deepEqual(seenOn(ul), ["2"], "the visitor's read mark, if the page shows one");
});

// ── groups, day lines, the empty state ───────────────────────────────────────────────

const at = (time) => `2026-11-24T${time}:00Z`; // the list's `now` is 21:00 UTC that day
const groupStarts = (ul) => entries(ul).map((li) => !li.classList.contains("message--continued"));
const dayLines = (ul) =>
  ul.children.map((li) => (li.classList.contains("day-line") ? `[${li.textContent}]` : li.dataset.seq || "pending"));

test("consecutive messages of one author show the name and initials once", () => {
  const { ul, messages } = list();
  messages.upsert(text(1, { author: { name: "Ada Lovelace" }, created_at: at("20:00") }));
  messages.upsert(text(2, { author: { name: "Ada Lovelace" }, created_at: at("20:01") }));
  messages.upsert(text(3, { author: { name: "Ada Lovelace" }, created_at: at("20:03") }));
  assert.deepEqual(groupStarts(ul), [true, false, false]);
  const [first] = entries(ul);
  assert.equal(first.find("message__avatar").textContent, "AL");
  assert.equal(first.find("message__avatar").attributes["aria-hidden"], "true");
  assert.equal(first.find("message__author").textContent, "Ada Lovelace");
});

test("another author, another agent, a status line or a pause starts a new group", () => {
  const { ul, messages } = list();
  messages.upsert(text(1, { author: { name: "Ada" }, created_at: at("20:00") }));
  messages.upsert(text(2, { author: { name: "Bob" }, created_at: at("20:00") })); // another agent
  messages.upsert(text(3, { sender: "visitor", author: { name: "Bob" }, created_at: at("20:01") }));
  messages.upsert(text(4, { sender: "visitor", author: { name: "Bob" }, created_at: at("20:02") }));
  messages.upsert(text(5, { kind: "status", sender: "system", status: "active", created_at: at("20:02") }));
  messages.upsert(text(6, { sender: "visitor", author: { name: "Bob" }, created_at: at("20:03") }));
  messages.upsert(text(7, { sender: "visitor", author: { name: "Bob" }, created_at: at("20:09") })); // 6 min later
  assert.deepEqual(groupStarts(ul), [true, true, true, false, true, true, true]);
});

test("an entry that arrives between two others regroups its neighbours", () => {
  const { ul, messages, order } = list();
  messages.upsert(text(1, { created_at: at("20:00") }));
  messages.upsert(text(3, { created_at: at("20:02") }));
  assert.deepEqual(groupStarts(ul), [true, false]);
  // seq 2, from the visitor, lands between the two: both agent messages now start a group.
  messages.upsert(text(2, { sender: "visitor", author: { name: "Bob" }, created_at: at("20:01") }));
  assert.deepEqual(order(), ["1", "2", "3"]);
  assert.deepEqual(groupStarts(ul), [true, true, true]);
});

test("own messages carry no visible name, only a 'You' for screen readers, and no avatar", () => {
  const { ul, messages } = list();
  messages.upsert(text(1, { sender: "visitor", author: { name: "Ann" }, created_at: at("20:58") }));
  messages.addPending("c-1", "and another thing", "Ann");
  const [stored, pending] = entries(ul);
  for (const li of [stored, pending]) {
    assert.equal(li.find("message__author").textContent, "You");
    assert.ok(li.find("message__author").classList.contains("visually-hidden"));
    assert.equal(li.find("message__avatar"), undefined);
  }
  assert.deepEqual(groupStarts(ul), [true, false], "a pending message joins its author's group");
});

test("a pending message confirmed late takes its seq's place and regroups both places", () => {
  const { ul, messages, order } = list();
  const visitor = { sender: "visitor", author: { name: "Ann" } };
  messages.upsert(text(1, { ...visitor, created_at: at("20:59") }));
  messages.addPending("c-1", "mine", "Ann"); // `now` is 21:00: one group with seq 1
  messages.upsert(text(2, { created_at: at("21:00") })); // the agent answered first
  assert.deepEqual(order(), ["1", "2", "pending:c-1"]);
  assert.deepEqual(groupStarts(ul), [true, true, true]);
  messages.upsert(text(3, { ...visitor, client_id: "c-1", created_at: at("21:00") }));
  assert.deepEqual(order(), ["1", "2", "3"]);
  assert.deepEqual(groupStarts(ul), [true, true, true]);
});

test("a day line stands before the first entry of each day", () => {
  const { ul, messages } = list();
  messages.upsert(text(1, { created_at: "2026-11-20T10:00:00Z" }));
  messages.upsert(text(2, { created_at: "2026-11-23T10:00:00Z" }));
  messages.upsert(text(3, { created_at: "2026-11-23T10:01:00Z" }));
  messages.upsert(text(4, { created_at: "2026-11-24T09:00:00Z" }));
  messages.addPending("c-1", "now", "Ann");
  assert.deepEqual(dayLines(ul), ["[Friday]", "1", "[Yesterday]", "2", "3", "[Today]", "4", "pending"]);
  const line = ul.children[0];
  assert.equal(line.className, "day-line");
  assert.equal(line.children[0].tagName, "TIME");
  assert.equal(line.children[0].attributes.datetime, "2026-11-20T10:00:00Z");
});

test("a day's line moves up when an earlier entry of that day arrives, and never doubles", () => {
  const { ul, messages } = list();
  messages.upsert(text(3, { created_at: "2026-11-24T09:00:00Z" }));
  messages.upsert(text(1, { created_at: "2026-11-23T10:00:00Z" }));
  messages.upsert(text(2, { created_at: "2026-11-24T08:00:00Z" }));
  assert.deepEqual(dayLines(ul), ["[Yesterday]", "1", "[Today]", "2", "3"]);
  messages.upsert(text(2, { created_at: "2026-11-24T08:00:00Z" })); // again: nothing moves
  assert.deepEqual(dayLines(ul), ["[Yesterday]", "1", "[Today]", "2", "3"]);
});

test("a day's entries across midnight split into two groups with a line between", () => {
  const { ul, messages } = list();
  messages.upsert(text(1, { created_at: "2026-11-23T23:58:00Z" }));
  messages.upsert(text(2, { created_at: "2026-11-24T00:01:00Z" }));
  assert.deepEqual(dayLines(ul), ["[Yesterday]", "1", "[Today]", "2"]);
  assert.deepEqual(groupStarts(ul), [true, true]);
});

test("day lines are written again when the viewer's day changes", () => {
  let now = Date.parse("2026-11-24T23:59:00Z");
  const { ul, messages } = list({ now: () => now });
  messages.upsert(text(1, { created_at: "2026-11-24T20:00:00Z" }));
  messages.refreshDays();
  assert.deepEqual(dayLines(ul), ["[Today]", "1"]);
  now = Date.parse("2026-11-25T00:01:00Z");
  messages.refreshDays();
  assert.deepEqual(dayLines(ul), ["[Yesterday]", "1"]);
});

test("the empty element shows while the list has no entry", () => {
  const empty = { hidden: false };
  const { messages } = list({ empty });
  assert.equal(empty.hidden, false);
  messages.addPending("c-1", "hello", "Ann");
  assert.equal(empty.hidden, true, "the first message, even unsent, replaces the greeting");
  messages.clear();
  assert.equal(empty.hidden, false);
  messages.upsert(text(1));
  assert.equal(empty.hidden, true);
});

test("clearing the list for another conversation gives back its files' blob: URLs", () => {
  let released = 0;
  const attachments = {
    render: () => new FakeElement("a"),
    releaseAll: () => (released += 1),
  };
  const { messages } = list({ attachments });
  messages.upsert(text(1, { attachment: { name: "a.png", content_type: "image/png", url: "/f/1" } }));
  assert.equal(released, 0);
  messages.clear();
  assert.equal(released, 1);
});

test("a bot's message shows its name and a Bot tag, on the team's side of either page", () => {
  assert.deepEqual(messageClasses({ kind: "text", sender: "bot" }), ["message", "message--bot"]);
  for (const self of ["visitor", "agent"]) {
    const ul = new FakeElement("ul");
    const messages = new MessageList(ul, { document: fakeDocument, formatTime: () => "", self });
    messages.upsert(text(1, { sender: "bot", author: { name: "<i>Helpdesk bot</i>" } }));
    const li = entries(ul)[0];
    assert.equal(li.className, "message message--bot");
    assert.equal(li.find("message__author").textContent, "<i>Helpdesk bot</i>");
    assert.equal(li.find("message__bot-tag").textContent, "Bot");
  }
});
