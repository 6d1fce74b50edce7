import assert from "node:assert/strict";
import { test } from "node:test";

import { awayText, openingText, showAvailability } from "../../devtone/static/js/greeting.js";
import { BEAT_MS, TeamPresence, teamRows } from "../../devtone/static/js/team-presence.js";

const NOW = new Date("2026-03-10T23:00:00Z"); // Tuesday evening

test("the next opening within the week is a weekday and a time in the visitor's own zone", () => {
  const opening = new Date("2026-03-11T12:00:00Z");
  const options = { now: NOW, timeZone: "America/Sao_Paulo" };
  assert.equal(openingText(opening, { ...options, locale: "en-US" }), "Wednesday 9:00 AM");
  assert.equal(openingText(opening, { ...options, locale: "pt-BR" }), "quarta-feira, 09:00");
  assert.equal(openingText(opening, { ...options, locale: "en-US", timeZone: "Asia/Tokyo" }), "Wednesday 9:00 PM");
});

test("an opening more than six days away carries its date", () => {
  const opening = new Date("2026-03-20T12:00:00Z");
  const text = openingText(opening, { now: NOW, timeZone: "UTC", locale: "en-US" });
  assert.match(text, /March 20, 2026/);
});

test("the away line says when the team is back, or only that it is away", () => {
  const options = { now: NOW, timeZone: "UTC", locale: "en-US" };
  assert.equal(
    awayText({ available: false, next_opening: "2026-03-11T12:00:00.000Z" }, options),
    "We're away right now. We'll be back Wednesday 12:00 PM.",
  );
  assert.equal(awayText({ available: false, next_opening: null }, options), "Nobody is available right now.");
  assert.equal(awayText({ available: false, next_opening: "nonsense" }, options), "Nobody is available right now.");
});

test("the team list marks the agent themselves and words each status", () => {
  const rows = teamRows(
    [
      { id: 1, name: "Maria", status: "online" },
      { id: 2, name: "Bruno", status: "away" },
      { id: 3, name: "Carla", status: "offline" },
    ],
    "2",
  );
  assert.deepEqual(
    rows.map((row) => [row.name, row.label]),
    [
      ["Maria", "online"],
      ["Bruno (you)", "away"],
      ["Carla", "offline"],
    ],
  );
});

/** A document that records listeners, with a timer owner the test runs by hand. */
function harness() {
  const listeners = {};
  const doc = {
    visibilityState: "visible",
    addEventListener: (type, listener) => ((listeners[type] ??= []).push(listener)),
    createElement: () => ({ dataset: {}, append() {}, set textContent(_) {} }),
  };
  const timers = [];
  const beats = [];
  const team = (away) => ({ agents: [{ id: 7, name: "Maria", status: away ? "away" : "online", away }], online: away ? 0 : 1 });
  const toggle = {
    attributes: {},
    listeners: {},
    setAttribute(name, value) {
      this.attributes[name] = value;
    },
    addEventListener(type, listener) {
      this.listeners[type] = listener;
    },
  };
  const presence = new TeamPresence({
    beat: async (active, away) => {
      beats.push({ active, away });
      return team(Boolean(away));
    },
    list: { replaceChildren() {} },
    toggle,
    me: "7",
    doc,
    setTimer: (fn, ms) => timers.push({ fn, ms }) && timers.length,
    clearTimer: () => {},
  });
  const fire = (type) => listeners[type]?.forEach((listener) => listener());
  return { presence, beats, timers, toggle, fire };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test("an open dashboard beats at once, then every minute, saying whether the agent did anything", async () => {
  const { presence, beats, timers, fire } = harness();
  presence.start();
  await settle();
  assert.deepEqual(beats, [{ active: true, away: undefined }]); // opening it is activity
  assert.equal(timers.at(-1).ms, BEAT_MS);
  timers.at(-1).fn();
  await settle();
  assert.equal(beats.at(-1).active, false); // nothing done in the minute
  fire("keydown");
  timers.at(-1).fn();
  await settle();
  assert.equal(beats.at(-1).active, true);
});

test("the away button sets away by hand and clears it again", async () => {
  const { presence, beats, toggle } = harness();
  presence.start();
  await settle();
  toggle.listeners.click();
  await settle();
  assert.equal(beats.at(-1).away, true);
  assert.equal(toggle.attributes["aria-pressed"], "true");
  toggle.listeners.click();
  await settle();
  assert.equal(beats.at(-1).away, false);
  assert.equal(toggle.attributes["aria-pressed"], "false");
});

test("a stopped presence beats no more", async () => {
  const { presence, beats, timers } = harness();
  presence.start();
  await settle();
  presence.stop();
  timers.at(-1).fn();
  await settle();
  assert.equal(beats.length, 1);
});

test("an away answer puts the away notice on the start step; an available one clears it", () => {
  const notices = [];
  const startStep = { setAway: (text) => notices.push(text) };
  const away = { available: false, in_hours: true, next_opening: null };
  showAvailability(away, { startStep, greeting: null, locale: "en-US" });
  showAvailability({ available: true }, { startStep, greeting: null, locale: "en-US" });
  assert.deepEqual(notices, ["Nobody is available right now. Leave your e-mail address and we'll reply there.", ""]);
});

test("a dashboard coming back into view beats at once, as active", async () => {
  const { presence, beats, fire } = harness();
  presence.start();
  await settle();
  fire("visibilitychange");
  await settle();
  assert.deepEqual(beats.at(-1), { active: true, away: undefined });
  assert.equal(beats.length, 2);
});
