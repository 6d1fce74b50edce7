/**
 * The greeting of an empty conversation: the team's name (written by the server) and how
 * soon it typically replies, from the median first reply the server measured
 * (`data-typical-reply-seconds` on the greeting's reply line; empty while there is none).
 * While the team is away (GET /api/availability: out of office hours, or nobody online)
 * the reply line says so instead, with the next opening in the visitor's own time zone
 * and language. MessageList shows and hides the greeting; this only words the reply line.
 */

import { _ } from "./texts.js";

/** Every word of the greeting's reply line, in one place, in the page's language. */
export const TEXTS = Object.freeze({
  unknown: _("We'll reply as soon as we can"),
  underMinute: _("Typically replies in under a minute"),
  fewMinutes: _("Typically replies in a few minutes"),
  minutes: _("Typically replies in about {n} minutes"),
  hour: _("Typically replies in about an hour"),
  hours: _("Typically replies in about {n} hours"),
  day: _("Typically replies in about a day"),
  days: _("Typically replies in about {n} days"),
  awayUntil: _("We're away right now. We'll be back {time}."),
  awayNow: _("Nobody is available right now."),
  leaveEmail: _("Leave your e-mail address and we'll reply there."),
});

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "Typically replies in …" for a median first reply in seconds; neutral without one. */
export function replyTimeText(seconds, locale = undefined) {
  if (!Number.isFinite(seconds) || seconds < 0) return TEXTS.unknown;
  const count = (n) => new Intl.NumberFormat(locale).format(n);
  if (seconds < MINUTE) return TEXTS.underMinute;
  if (seconds < 5 * MINUTE) return TEXTS.fewMinutes;
  // Round to people's numbers: 5, 10, 15 … minutes; whole hours; whole days.
  const minutes = Math.round(seconds / MINUTE / 5) * 5;
  if (minutes < 60) return TEXTS.minutes.replace("{n}", count(minutes));
  const hours = Math.round(seconds / HOUR);
  if (hours < 24) return hours === 1 ? TEXTS.hour : TEXTS.hours.replace("{n}", count(hours));
  const days = Math.round(seconds / DAY);
  return days === 1 ? TEXTS.day : TEXTS.days.replace("{n}", count(days));
}

/** When the team opens next, as the visitor reads it: a weekday and time within the week,
 * a full date further out (in `timeZone`, the browser's when left out). */
export function openingText(opening, { locale = undefined, now = new Date(), timeZone = undefined } = {}) {
  const soon = opening - now < 6 * DAY * 1000;
  const options = soon ? { weekday: "long", hour: "numeric", minute: "2-digit" } : { dateStyle: "full", timeStyle: "short" };
  return new Intl.DateTimeFormat(locale, { ...options, timeZone }).format(opening);
}

/** The away line for an availability answer: back at the next opening, or away for now. */
export function awayText(availability, options = {}) {
  const opening = availability?.next_opening ? new Date(availability.next_opening) : null;
  if (!opening || Number.isNaN(opening.getTime())) return TEXTS.awayNow;
  return TEXTS.awayUntil.replace("{time}", openingText(opening, options));
}

/** Write the reply line of the greeting under `root`: the reply time from its data
 * attribute, or the away line while the team is away (`availability.available` false). */
export function renderGreeting(root, locale = undefined, availability = null) {
  const line = root?.querySelector("[data-typical-reply-seconds]");
  if (!line) return;
  const away = availability?.available === false;
  line.dataset.away = String(away);
  const raw = line.dataset.typicalReplySeconds;
  line.textContent = away ? awayText(availability, { locale }) : replyTimeText(raw === "" ? Number.NaN : Number(raw), locale);
}

/** Show an availability answer (GET /api/availability): while the team is away, the start
 * step's away notice (the e-mail address then required) and the greeting's away line. */
export function showAvailability(availability, { startStep, greeting, locale = undefined }) {
  const away = availability?.available === false;
  startStep?.setAway(away ? `${awayText(availability, { locale })} ${TEXTS.leaveEmail}` : "");
  renderGreeting(greeting, locale, availability);
}
