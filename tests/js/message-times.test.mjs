import assert from "node:assert/strict";
import { test } from "node:test";

import { dayLabel, dayNumber, fullLabel, pageLocale, timeLabel } from "../../devtone/static/js/message-times.js";

// Tuesday 10 March 2026, 15:00 in London (UTC in winter).
const NOW = Date.parse("2026-03-10T15:00:00Z");
const LONDON = "Europe/London";
const SAO_PAULO = "America/Sao_Paulo"; // UTC-3, no daylight saving time

test("a message of today, yesterday, this week, this year and last year", () => {
  const cases = [
    ["2026-03-10T08:00:00Z", "Today"],
    ["2026-03-10T00:00:00Z", "Today"],
    ["2026-03-09T23:59:59Z", "Yesterday"],
    ["2026-03-09T00:00:00Z", "Yesterday"],
    ["2026-03-08T12:00:00Z", "Sunday"],
    ["2026-03-04T12:00:00Z", "Wednesday"],
    ["2026-03-03T12:00:00Z", "March 3"],
    ["2026-01-01T00:00:00Z", "January 1"],
    ["2025-12-31T23:00:00Z", "December 31, 2025"],
    ["2024-03-10T12:00:00Z", "March 10, 2024"],
  ];
  for (const [iso, label] of cases) assert.equal(dayLabel(iso, NOW, "en-US", LONDON), label, iso);
});

test("days are the viewer's: just after midnight UTC is still yesterday evening in São Paulo", () => {
  const now = Date.parse("2026-03-10T14:00:00Z"); // 11:00 in São Paulo
  assert.equal(dayLabel("2026-03-10T01:30:00Z", now, "en-US", SAO_PAULO), "Yesterday"); // 22:30 on the 9th
  assert.equal(dayLabel("2026-03-10T01:30:00Z", now, "en-US", LONDON), "Today");
  assert.equal(dayNumber("2026-03-10T01:30:00Z", SAO_PAULO), dayNumber("2026-03-09T12:00:00Z", SAO_PAULO));
});

test("across midnight the same message moves from today to yesterday", () => {
  const message = "2026-03-10T23:50:00Z";
  assert.equal(dayLabel(message, Date.parse("2026-03-10T23:59:00Z"), "en-US", LONDON), "Today");
  assert.equal(dayLabel(message, Date.parse("2026-03-11T00:01:00Z"), "en-US", LONDON), "Yesterday");
});

test("across new year: yesterday is last year, a week ago by its weekday, older with its year", () => {
  const newYear = Date.parse("2027-01-01T09:00:00Z");
  assert.equal(dayLabel("2026-12-31T22:00:00Z", newYear, "en-US", LONDON), "Yesterday");
  assert.equal(dayLabel("2026-12-28T10:00:00Z", newYear, "en-US", LONDON), "Monday");
  assert.equal(dayLabel("2026-12-20T10:00:00Z", newYear, "en-US", LONDON), "December 20, 2026");
});

test("a message dated after the viewer's today (a clock ahead) reads as today", () => {
  assert.equal(dayLabel("2026-03-11T10:00:00Z", NOW, "en-US", LONDON), "Today");
});

test("labels speak the locale's language", () => {
  assert.equal(dayLabel("2026-03-10T08:00:00Z", NOW, "pt-BR", LONDON), "Hoje");
  assert.equal(dayLabel("2026-03-09T08:00:00Z", NOW, "pt-BR", LONDON), "Ontem");
  assert.equal(dayLabel("2026-03-08T08:00:00Z", NOW, "pt-BR", LONDON), "Domingo");
  assert.equal(dayLabel("2025-12-31T08:00:00Z", NOW, "pt-BR", LONDON), "31 de dezembro de 2025");
});

test("clock times follow the locale, in the viewer's time zone", () => {
  const iso = "2026-03-10T20:01:00Z";
  assert.equal(timeLabel(iso, "en-US", LONDON), "8:01 PM");
  assert.equal(timeLabel(iso, "en-GB", LONDON), "20:01");
  assert.equal(timeLabel(iso, "pt-BR", SAO_PAULO), "17:01");
  assert.match(fullLabel(iso, "en-US", LONDON), /^Tuesday, March 10, 2026 at 8:01\sPM$/);
});

test("a time that does not parse gives no label", () => {
  for (const iso of [null, undefined, "", "yesterday"]) {
    assert.equal(dayLabel(iso, NOW, "en-US", LONDON), "");
    assert.equal(timeLabel(iso, "en-US", LONDON), "");
    assert.equal(fullLabel(iso, "en-US", LONDON), "");
    assert.equal(dayNumber(iso, LONDON), null);
  }
});

test("the page locale is the browser's when it speaks the page's language", () => {
  assert.equal(pageLocale("en", ["en-GB", "pt-BR"]), "en-GB");
  assert.equal(pageLocale("en", ["pt-BR", "en-AU"]), "en-AU");
  assert.equal(pageLocale("en", ["pt-BR"]), "en");
  assert.equal(pageLocale("pt-BR", ["pt-PT"]), "pt-PT");
  assert.equal(pageLocale("", ["de-DE"]), "de-DE");
  assert.equal(pageLocale("", []), undefined);
});
