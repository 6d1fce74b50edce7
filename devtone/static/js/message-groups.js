/**
 * Which messages read as one group: consecutive text messages of one author, a few minutes
 * apart on one day, show the author's name and initials once, at the group's start. A
 * status line ("Maria joined the conversation") and a new day start over.
 *
 * Pure functions over the few facts an entry needs (`entryFacts`), so MessageList can ask
 * again for an entry's neighbours whenever one arrives out of order.
 */
import { dayNumber } from "./message-times.js";

/** Messages further apart than this start a new group, even from the same author. */
export const GROUP_GAP_MS = 5 * 60 * 1000;

/** What grouping and day lines need of an entry: {kind, sender, author, at, day}. */
export function entryFacts(message, timeZone = undefined) {
  const at = Date.parse(message?.created_at);
  return {
    kind: message?.kind === "status" || message?.kind === "note" ? message.kind : "text",
    sender: message?.sender ?? "system",
    author: message?.author?.name ?? "",
    at: Number.isFinite(at) ? at : null,
    day: dayNumber(message?.created_at, timeZone),
  };
}

/** Whether `entry` continues the group of `previous`, the entry shown just above it. */
export function continuesGroup(previous, entry) {
  if (!previous || !entry || previous.kind === "status" || entry.kind === "status") return false;
  // A note never shares a group with a reply: each keeps its own look and author line.
  if (previous.kind !== entry.kind) return false;
  if (previous.sender !== entry.sender || previous.author !== entry.author) return false;
  if (previous.day === null || previous.day !== entry.day) return false;
  // Either way round: a pending message carries the browser's clock, stored ones the server's.
  return Math.abs(entry.at - previous.at) <= GROUP_GAP_MS;
}

/** Whether a day line goes above `entry`: the first entry, or the first of another day. */
export function startsDay(previous, entry) {
  if (entry?.day === null || entry?.day === undefined) return false;
  return !previous || previous.day !== entry.day;
}

/** Up to two initials of a name, for its avatar ("Ada Lovelace" → "AL", "maria" → "M"). */
export function initials(name) {
  const words = String(name ?? "")
    .trim()
    .split(/\s+/u)
    .filter((word) => /\p{L}|\p{N}/u.test(word));
  if (!words.length) return "";
  const first = (word) => Array.from(word.replace(/^[^\p{L}\p{N}]+/u, ""))[0] ?? "";
  const picked = words.length === 1 ? [words[0]] : [words[0], words[words.length - 1]];
  return picked.map(first).join("").toLocaleUpperCase();
}
