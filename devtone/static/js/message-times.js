/**
 * Message times as people read them: a message shows its clock time ("8:01 PM", "20:01"),
 * and a day line stands before the first message of each of the viewer's days: "Today",
 * "Yesterday", the weekday within the last week ("Monday"), else the date ("March 3"), with
 * the year when it is not this year ("December 31, 2025").
 *
 * Pure functions of (iso, now, locale, timeZone): the page passes its locale and leaves the
 * time zone undefined (the viewer's own); tests pass fixed ones. Every word comes from `Intl`
 * (RelativeTimeFormat says "today"/"yesterday" in the locale's language), so this module has
 * no English text of its own to translate.
 */

const DAY_MS = 24 * 60 * 60 * 1000;
/** Days back (before yesterday) that a day line names by its weekday alone. */
const WEEKDAY_DAYS = 6;

// Intl formatters are slow to build and a long history asks for thousands of labels.
const formatters = new Map();

function formatter(Kind, locale, options) {
  const key = `${Kind.name}|${locale ?? ""}|${JSON.stringify(options)}`;
  let made = formatters.get(key);
  if (!made) {
    made = new Kind(locale, options);
    formatters.set(key, made);
  }
  return made;
}

function instant(iso) {
  const ms = typeof iso === "number" ? iso : Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

/** The viewer's calendar day of an instant (ISO string or epoch ms), as a day number
 *  (days since 1970-01-01 in that time zone); null when it does not parse. */
export function dayNumber(iso, timeZone = undefined) {
  const ms = instant(iso);
  if (ms === null) return null;
  const parts = formatter(Intl.DateTimeFormat, "en-US", {
    timeZone,
    year: "numeric",
    month: "numeric",
    day: "numeric",
  }).formatToParts(ms);
  const part = (type) => Number(parts.find((p) => p.type === type).value);
  return Math.round(Date.UTC(part("year"), part("month") - 1, part("day")) / DAY_MS);
}

function capitalized(text, locale) {
  return text.charAt(0).toLocaleUpperCase(locale) + text.slice(1);
}

/**
 * The day line for the day of `iso` seen on `now` (epoch ms): "Today", "Yesterday", a
 * weekday, a date, a date with its year; "" when `iso` does not parse. A day after today
 * (the server's clock ahead of the viewer's) is today.
 */
export function dayLabel(iso, now, locale = undefined, timeZone = undefined) {
  const day = dayNumber(iso, timeZone);
  const today = dayNumber(now, timeZone);
  if (day === null || today === null) return "";
  const daysAgo = Math.max(0, today - day);
  if (daysAgo <= 1) {
    const relative = formatter(Intl.RelativeTimeFormat, locale, { numeric: "auto" });
    return capitalized(relative.format(-daysAgo, "day"), locale);
  }
  const ms = instant(iso);
  if (daysAgo <= WEEKDAY_DAYS) {
    return capitalized(formatter(Intl.DateTimeFormat, locale, { timeZone, weekday: "long" }).format(ms), locale);
  }
  const year = formatter(Intl.DateTimeFormat, "en-US", { timeZone, year: "numeric" });
  const options = { timeZone, month: "long", day: "numeric" };
  if (year.format(ms) !== year.format(now)) options.year = "numeric";
  return formatter(Intl.DateTimeFormat, locale, options).format(ms);
}

/** A message's clock time in the viewer's conventions ("8:01 PM", "20:01"); "" when `iso`
 *  does not parse. */
export function timeLabel(iso, locale = undefined, timeZone = undefined) {
  const ms = instant(iso);
  if (ms === null) return "";
  return formatter(Intl.DateTimeFormat, locale, { timeZone, hour: "numeric", minute: "2-digit" }).format(ms);
}

/** The whole date and time, for a tooltip ("Tuesday, March 10, 2026 at 8:01 PM"). */
export function fullLabel(iso, locale = undefined, timeZone = undefined) {
  const ms = instant(iso);
  if (ms === null) return "";
  return formatter(Intl.DateTimeFormat, locale, { timeZone, dateStyle: "full", timeStyle: "short" }).format(ms);
}

/**
 * The locale to format with: the browser's own when it speaks the page's language (so an
 * English page shows 24-hour times to someone in en-GB), else the page's language.
 */
export function pageLocale(pageLang, browserLanguages = []) {
  const lang = String(pageLang || "").trim();
  const primary = (tag) => tag.toLowerCase().split("-")[0];
  const browser = browserLanguages.find((tag) => typeof tag === "string" && tag && (!lang || primary(tag) === primary(lang)));
  return browser || lang || undefined;
}
