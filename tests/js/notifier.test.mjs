import assert from "node:assert/strict";
import { test } from "node:test";

import { DASHBOARD_TITLE, Notifier, titleWithBadge } from "../../devtone/static/js/notifier.js";

test("the title badge counts, and disappears at zero", () => {
  assert.equal(DASHBOARD_TITLE, "devtone dashboard");
  assert.equal(titleWithBadge(3), "(3) devtone dashboard");
  assert.equal(titleWithBadge(1), "(1) devtone dashboard");
  assert.equal(titleWithBadge(0), "devtone dashboard");
  assert.equal(titleWithBadge(-1), "devtone dashboard");
  assert.equal(titleWithBadge(undefined), "devtone dashboard");
});

test("badge() writes the document's title", () => {
  const document = { title: "devtone dashboard" };
  const notifier = new Notifier({ document, AudioContext: undefined });
  notifier.badge(2);
  assert.equal(document.title, "(2) devtone dashboard");
  notifier.badge(0);
  assert.equal(document.title, "devtone dashboard");
});

test("beep plays a short oscillator note on one AudioContext", () => {
  const made = [];
  class FakeAudioContext {
    currentTime = 0;
    destination = {};
    constructor() {
      made.push(this);
    }
    resume() {
      return Promise.reject(new Error("not allowed before a gesture"));
    }
    createOscillator() {
      const oscillator = { frequency: {}, connect() {}, start: (at) => (oscillator.startedAt = at), stop: (at) => (oscillator.stopAt = at) };
      this.oscillator = oscillator;
      return oscillator;
    }
    createGain() {
      return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect() {} };
    }
  }
  const notifier = new Notifier({ document: {}, AudioContext: FakeAudioContext });
  notifier.beep();
  notifier.beep();
  assert.equal(made.length, 1);
  assert.ok(made[0].oscillator.stopAt > 0 && made[0].oscillator.stopAt <= 0.5, "short");
});

test("beep without WebAudio, or refused, is silent", () => {
  assert.doesNotThrow(() => new Notifier({ document: {}, AudioContext: undefined }).beep());
  class Refusing {
    constructor() {
      throw new Error("NotAllowedError");
    }
  }
  assert.doesNotThrow(() => new Notifier({ document: {}, AudioContext: Refusing }).beep());
});

test("the first click or key makes the audio and resumes it, once", () => {
  const made = [];
  class FakeAudioContext {
    resumed = 0;
    constructor() {
      made.push(this);
    }
    resume() {
      this.resumed += 1;
      return Promise.resolve();
    }
  }
  const listeners = new Map();
  const target = {
    addEventListener: (type, fn) => listeners.set(type, fn),
    removeEventListener: (type, fn) => listeners.get(type) === fn && listeners.delete(type),
  };
  new Notifier({ document: {}, AudioContext: FakeAudioContext }).unlockOnGesture(target);
  assert.deepEqual([...listeners.keys()].sort(), ["keydown", "pointerdown"]);
  assert.equal(made.length, 0, "nothing before a gesture");
  listeners.get("pointerdown")();
  assert.equal(made.length, 1);
  assert.equal(made[0].resumed, 1);
  assert.equal(listeners.size, 0, "once");
});
