import assert from "node:assert/strict";
import { test } from "node:test";

import { TYPING_EXPIRY_MS, TypingIndicator, TypingSignal } from "../../devtone/static/js/typing.js";
import { FakeClock } from "./fakes.mjs";

// ── TypingSignal: outgoing, throttled ────────────────────────────────────────────────

function signal() {
  const clock = new FakeClock();
  const sent = [];
  const typing = new TypingSignal({ send: (value) => sent.push(value), now: () => clock.now });
  return { clock, sent, typing };
}

test("typing goes out at once, then at most once per 2 s while the visitor keeps typing", () => {
  const { clock, sent, typing } = signal();
  typing.input("h");
  assert.deepEqual(sent, [true]);
  for (let i = 0; i < 19; i += 1) {
    clock.advance(100);
    typing.input("hello".slice(0, (i % 5) + 1));
  }
  assert.deepEqual(sent, [true], "1.9 s of keystrokes: still one signal");
  clock.advance(100);
  typing.input("hello!");
  assert.deepEqual(sent, [true, true]);
});

test("an emptied composer says false once, and only after true", () => {
  const { sent, typing } = signal();
  typing.input("   ");
  typing.stop();
  assert.deepEqual(sent, [], "never typed: nothing to take back");
  typing.input("hi");
  typing.input("");
  typing.input("");
  assert.deepEqual(sent, [true, false]);
});

test("sending a message says false, and typing again right after is news at once", () => {
  const { sent, typing } = signal();
  typing.input("hi");
  typing.stop(); // the message was sent
  typing.input("n");
  assert.deepEqual(sent, [true, false, true]);
});

test("TypingSignal needs send()", () => {
  assert.throws(() => new TypingSignal({}), TypeError);
});

// ── TypingIndicator: incoming, expires ───────────────────────────────────────────────

function indicator(sender = "agent") {
  const clock = new FakeClock();
  const element = { textContent: "x", hidden: false };
  const typing = new TypingIndicator(element, {
    sender,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
  });
  return { clock, element, typing };
}

test("it starts hidden and shows the other side's name", () => {
  const { element, typing } = indicator();
  assert.deepEqual(element, { textContent: "", hidden: true });
  typing.update({ conversation_id: 7, sender: "agent", name: "Maria", typing: true });
  assert.deepEqual(element, { textContent: "Maria is typing…", hidden: false });
  assert.equal(typing.visible, true);
});

test("this side's own typing events are ignored", () => {
  const { element, typing } = indicator("agent");
  typing.update({ sender: "visitor", name: "Ann", typing: true });
  assert.equal(element.hidden, true);
});

test("typing false hides it and drops the timer", () => {
  const { clock, element, typing } = indicator();
  typing.update({ sender: "agent", name: "Maria", typing: true });
  typing.update({ sender: "agent", name: "Maria", typing: false });
  assert.equal(element.hidden, true);
  assert.equal(clock.pending, 0);
});

test("it hides 5 s after the last typing event; each event restarts the wait", () => {
  const { clock, element, typing } = indicator();
  typing.update({ sender: "agent", name: "Maria", typing: true });
  clock.advance(4000);
  typing.update({ sender: "agent", name: "Maria", typing: true });
  assert.equal(clock.pending, 1, "one timer, not one per event");
  clock.advance(TYPING_EXPIRY_MS - 1);
  assert.equal(element.hidden, false);
  clock.advance(1);
  assert.equal(element.hidden, true);
  assert.equal(element.textContent, "");
});

test("that side's next message hides it; a status entry or the other side's does not", () => {
  const { clock, element, typing } = indicator();
  typing.update({ sender: "agent", name: "Maria", typing: true });
  typing.message({ seq: 3, kind: "text", sender: "visitor" });
  typing.message({ seq: 4, kind: "status", sender: "agent", status: "active" });
  assert.equal(element.hidden, false);
  typing.message({ seq: 5, kind: "text", sender: "agent" });
  assert.equal(element.hidden, true);
  assert.equal(clock.pending, 0);
});

test("a nameless typist gets a generic name", () => {
  const visitor = indicator("visitor");
  visitor.typing.update({ sender: "visitor", typing: true });
  assert.equal(visitor.element.textContent, "The visitor is typing…");
  const agent = indicator("agent");
  agent.typing.update({ sender: "agent", name: "", typing: true });
  assert.equal(agent.element.textContent, "Support is typing…");
});
