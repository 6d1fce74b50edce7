import assert from "node:assert/strict";
import { test } from "node:test";

import { TYPING_EXPIRY_MS, TypingIndicator, TypingSignal } from "../../devtone/static/js/typing.js";
import { FakeClock, flush } from "./fakes.mjs";

// ── TypingSignal: outgoing, throttled ────────────────────────────────────────────────

function signal() {
  const clock = new FakeClock();
  const sent = [];
  const typing = new TypingSignal({ send: (value) => sent.push(value), now: () => clock.now });
  return { clock, sent, typing };
}

/** A signal whose requests stay unanswered until the test answers them. */
function signalWithRequests() {
  const requests = [];
  const typing = new TypingSignal({
    send: (value) =>
      new Promise((resolve, reject) => requests.push({ value, resolve, reject })),
  });
  return { requests, typing, sent: () => requests.map((request) => request.value) };
}

test("typing goes out at once, then at most once per 2 s while the visitor keeps typing", async () => {
  const { clock, sent, typing } = signal();
  typing.input("h");
  assert.deepEqual(sent, [true]);
  for (let i = 0; i < 19; i += 1) {
    clock.advance(100);
    await flush();
    typing.input("hello".slice(0, (i % 5) + 1));
  }
  assert.deepEqual(sent, [true], "1.9 s of keystrokes: still one signal");
  clock.advance(100);
  typing.input("hello!");
  assert.deepEqual(sent, [true, true]);
});

test("an emptied composer says false once, and only after true", async () => {
  const { sent, typing } = signal();
  typing.input("   ");
  typing.stop();
  assert.deepEqual(sent, [], "never typed: nothing to take back");
  typing.input("hi");
  await flush();
  typing.input("");
  await flush();
  typing.input("");
  await flush();
  assert.deepEqual(sent, [true, false]);
});

test("sending a message says false, and typing again right after is news at once", async () => {
  const { sent, typing } = signal();
  typing.input("hi");
  await flush();
  typing.stop(); // the message was sent
  await flush();
  typing.input("n");
  assert.deepEqual(sent, [true, false, true]);
});

test("a signal waits for the answer to the one in flight, so the server hears them in order", async () => {
  // Sent together, `false` could be handled before the `true` it takes back: the other
  // side would then see "is typing…" after the message, and not when typing resumes.
  const { requests, sent, typing } = signalWithRequests();
  typing.input("Sorry! Let me check.");
  typing.stop(); // Enter: the reply goes
  assert.deepEqual(sent(), [true], "false waits for true's answer");
  requests[0].resolve();
  await flush();
  assert.deepEqual(sent(), [true, false]);
  requests[1].resolve();
  await flush();
  typing.input("It ships tod");
  assert.deepEqual(sent(), [true, false, true], "typing again after the answer goes at once");
});

test("while one is in flight only the latest decision goes out, and none that repeats it", async () => {
  const { requests, sent, typing } = signalWithRequests();
  typing.input("hi"); // true in flight
  typing.stop(); // false waits…
  typing.input("n"); // …replaced by true, which the server is being told already
  requests[0].resolve();
  await flush();
  assert.deepEqual(sent(), [true], "the server's last word is already true");

  typing.stop(); // false in flight
  typing.input("m"); // true waits
  typing.stop(); // false: same as in flight
  typing.input("mo"); // true again: the latest
  requests[1].resolve();
  await flush();
  assert.deepEqual(sent(), [true, false, true]);
});

test("a failed or thrown signal does not hold back the next", async () => {
  const { requests, sent, typing } = signalWithRequests();
  typing.input("hi");
  typing.stop();
  requests[0].reject(new Error("offline"));
  await flush();
  assert.deepEqual(sent(), [true, false]);

  const thrown = [];
  const throwing = new TypingSignal({
    send: (value) => {
      thrown.push(value);
      throw new Error("no network stack");
    },
  });
  throwing.input("a");
  throwing.stop();
  await flush();
  assert.deepEqual(thrown, [true, false]);
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
