import assert from "node:assert/strict";
import { test } from "node:test";

import {
  GROUP_GAP_MS,
  continuesGroup,
  entryFacts,
  initials,
  startsDay,
} from "../../devtone/static/js/message-groups.js";

const facts = (extra = {}) =>
  entryFacts({ kind: "text", sender: "agent", author: { name: "Maria" }, created_at: "2026-03-10T12:00:00Z", ...extra }, "UTC");
const later = (ms, extra = {}) => facts({ created_at: new Date(Date.parse("2026-03-10T12:00:00Z") + ms).toISOString(), ...extra });

test("the same author within five minutes continues the group", () => {
  assert.equal(continuesGroup(facts(), later(60_000)), true);
  assert.equal(continuesGroup(facts(), later(GROUP_GAP_MS)), true);
  assert.equal(continuesGroup(facts(), later(GROUP_GAP_MS + 1000)), false);
});

test("a pending message a little before the stored one (two clocks) still continues it", () => {
  assert.equal(continuesGroup(facts(), later(-3000)), true);
});

test("another sender, another agent's name, or a status entry starts over", () => {
  assert.equal(continuesGroup(facts(), later(1000, { sender: "visitor" })), false);
  assert.equal(continuesGroup(facts(), later(1000, { author: { name: "Bob" } })), false);
  assert.equal(continuesGroup(facts(), later(1000, { kind: "status" })), false);
  assert.equal(continuesGroup(facts({ kind: "status" }), later(1000)), false);
  assert.equal(continuesGroup(null, facts()), false);
});

test("a new day starts over, even a minute later", () => {
  const evening = facts({ created_at: "2026-03-10T23:59:30Z" });
  const night = facts({ created_at: "2026-03-11T00:00:30Z" });
  assert.equal(continuesGroup(evening, night), false);
  assert.equal(startsDay(evening, night), true);
  assert.equal(startsDay(facts(), later(60_000)), false);
  assert.equal(startsDay(null, facts()), true);
});

test("the day is the viewer's: 23:59:30 UTC and 00:00:30 UTC are one evening in São Paulo", () => {
  const inSaoPaulo = (iso) => entryFacts({ kind: "text", sender: "agent", author: { name: "M" }, created_at: iso }, "America/Sao_Paulo");
  assert.equal(continuesGroup(inSaoPaulo("2026-03-10T23:59:30Z"), inSaoPaulo("2026-03-11T00:00:30Z")), true);
});

test("an entry without a time never gets a day line and never joins a group", () => {
  const undated = facts({ created_at: null });
  assert.equal(startsDay(null, undated), false);
  assert.equal(continuesGroup(undated, facts({ created_at: null })), false);
});

test("initials: first and last word, letters only, any script", () => {
  assert.equal(initials("Ada Lovelace"), "AL");
  assert.equal(initials("maria"), "M");
  assert.equal(initials("  José  da   Silva "), "JS");
  assert.equal(initials("(Bob) Smith"), "BS");
  assert.equal(initials("Élodie"), "É");
  assert.equal(initials("李 小龙"), "李小");
  assert.equal(initials(""), "");
  assert.equal(initials("— —"), "");
  assert.equal(initials(null), "");
});
