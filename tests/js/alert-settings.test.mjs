import assert from "node:assert/strict";
import { test } from "node:test";

import { AlertSettings, permissionText } from "../../devtone/static/js/alert-settings.js";
import { DEFAULT_SETTINGS } from "../../devtone/static/js/alerts.js";
import { flush } from "./fakes.mjs";

/** The settings' element: a form of four checkboxes, the button and the state line. */
function panel() {
  const listeners = {};
  const inputs = Object.fromEntries(
    Object.keys(DEFAULT_SETTINGS).map((name) => [name, { name, type: "checkbox", checked: false }]),
  );
  const form = {
    elements: { namedItem: (name) => inputs[name] ?? null },
    addEventListener: (type, fn) => (listeners[type] = fn),
  };
  const button = { hidden: false, addEventListener: (type, fn) => (listeners[`button ${type}`] = fn) };
  const state = { textContent: "" };
  const root = {
    querySelector: (selector) => ({ form, "#allow-notifications": button, "#notifications-state": state })[selector],
  };
  const tick = (name) => {
    inputs[name].checked = !inputs[name].checked;
    listeners.change({ target: inputs[name] });
  };
  return { root, inputs, button, state, listeners, tick };
}

/** Two tabs' channels of one browser. */
function channels() {
  const open = [];
  class FakeChannel {
    onmessage = null;
    constructor() {
      open.push(this);
    }
    postMessage(data) {
      for (const other of open) if (other !== this) other.onmessage?.({ data: structuredClone(data) });
    }
    close() {
      open.splice(open.indexOf(this), 1);
    }
  }
  return FakeChannel;
}

const desktop = (permission = "default") => ({ permission, ask: async () => permission });

test("the page's settings show in the form, and the button only while notifications are not asked", () => {
  const { root, inputs, button } = panel();
  new AlertSettings({ root, settings: { quiet: true }, desktop: desktop("default"), save: async () => ({}), BroadcastChannel: null }).start();
  assert.deepEqual(
    Object.fromEntries(Object.values(inputs).map((input) => [input.name, input.checked])),
    { sound: true, desktop: true, badge: true, quiet: true },
  );
  assert.equal(button.hidden, true, "quiet: no notification to allow");
  const other = panel();
  new AlertSettings({ root: other.root, settings: {}, desktop: desktop("default"), save: async () => ({}), BroadcastChannel: null }).start();
  assert.equal(other.button.hidden, false);
  const granted = panel();
  new AlertSettings({ root: granted.root, settings: {}, desktop: desktop("granted"), save: async () => ({}), BroadcastChannel: null }).start();
  assert.equal(granted.button.hidden, true);
  assert.equal(granted.state.textContent, "Desktop notifications are on in this browser.");
});

test("a change is saved, taken from the server's answer, and reaches the agent's other tabs", async () => {
  const BroadcastChannel = channels();
  const saved = [];
  const save = async (changes) => {
    saved.push(changes);
    return { alerts: { ...DEFAULT_SETTINGS, ...changes } };
  };
  const here = panel();
  const there = panel();
  const mine = new AlertSettings({ root: here.root, settings: {}, desktop: desktop(), save, BroadcastChannel });
  const theirs = new AlertSettings({ root: there.root, settings: {}, desktop: desktop(), save, BroadcastChannel });
  const heard = [];
  theirs.onchange = (settings) => heard.push(settings);
  mine.start();
  theirs.start();

  here.tick("quiet");
  assert.equal(mine.settings.quiet, true, "at once");
  await flush();

  assert.deepEqual(saved, [{ quiet: true }]);
  assert.equal(theirs.settings.quiet, true);
  assert.equal(there.inputs.quiet.checked, true);
  assert.deepEqual(heard, [{ ...DEFAULT_SETTINGS, quiet: true }]);
});

test("a change the server refuses goes back, and says so", async () => {
  const here = panel();
  const settings = new AlertSettings({
    root: here.root,
    settings: {},
    desktop: desktop("granted"),
    save: async () => {
      throw new Error("offline");
    },
    BroadcastChannel: null,
  });
  settings.start();
  here.tick("sound");
  await flush();
  assert.equal(settings.settings.sound, true);
  assert.equal(here.inputs.sound.checked, true);
  assert.equal(here.state.textContent, "Your alert settings could not be saved. Try again.");
});

test("the state line tells what the browser allows, only when notifications are wanted", () => {
  const on = DEFAULT_SETTINGS;
  assert.equal(permissionText("denied", on), "Desktop notifications are blocked for this site in the browser's settings.");
  assert.equal(permissionText("unsupported", on), "This browser cannot show desktop notifications.");
  assert.equal(permissionText("default", on), "");
  assert.equal(permissionText("denied", { ...on, desktop: false }), "");
  assert.equal(permissionText("denied", { ...on, quiet: true }), "");
});
