/**
 * The visitor, kept in this page's localStorage under `devtone.visitor`, so a reload
 * continues where they were:
 *
 *   {name, email?}                              who they are (the pre-chat form, identify())
 *   {…, conversationId, token, startedAt}       the conversation they are in, once they wrote
 *   {…, earlier: [{conversationId, token, startedAt}]}   conversations they left for a new
 *                                               one: still theirs while the token is kept
 *
 * A conversation starts with its first message, so a visitor may be known without one.
 */

const STORAGE_KEY = "devtone.visitor";
/** Earlier conversations kept (the newest); older ones are let go. */
export const EARLIER_MAX = 10;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

const text = (value, max) => (typeof value === "string" ? value.trim().slice(0, max) : "");

function conversationOf(record) {
  return Boolean(record) && Number.isInteger(record.conversationId) && typeof record.token === "string" && TOKEN.test(record.token);
}

/** A visitor record, cleaned, or null if `visitor` is not one (a name or a conversation). */
export function validVisitor(visitor) {
  if (!visitor || typeof visitor !== "object") return null;
  const record = {};
  const name = text(visitor.name, 80);
  const email = text(visitor.email, 254);
  if (name) record.name = name;
  if (email) record.email = email;
  if (conversationOf(visitor)) {
    record.conversationId = visitor.conversationId;
    record.token = visitor.token;
    const startedAt = text(visitor.startedAt, 40);
    if (startedAt) record.startedAt = startedAt;
  }
  const earlier = Array.isArray(visitor.earlier) ? visitor.earlier.filter(conversationOf) : [];
  if (earlier.length) {
    record.earlier = earlier.slice(0, EARLIER_MAX).map((c) => ({
      conversationId: c.conversationId,
      token: c.token,
      startedAt: text(c.startedAt, 40),
    }));
  }
  return record.name || record.conversationId != null || record.earlier ? record : null;
}

/** The record with `conversation` (just started) as the visitor's current one. */
export function withConversation(record, { id, token, name, startedAt }) {
  return validVisitor({ ...record, name: record?.name || name, conversationId: id, token, startedAt });
}

/**
 * The record after the visitor leaves the current conversation for a new one: it goes
 * first in `earlier` (still theirs, reachable from the page), and who they are stays.
 */
export function leavingConversation(record) {
  if (!record?.token) return record;
  const { conversationId, token, startedAt, ...rest } = record;
  const earlier = [{ conversationId, token, startedAt }, ...(record.earlier ?? [])];
  return validVisitor({ ...rest, earlier });
}

/** The record with an earlier conversation made the current one (the current one, if any,
 *  goes back among the earlier ones). */
export function resumingConversation(record, conversationId) {
  const chosen = record?.earlier?.find((c) => c.conversationId === conversationId);
  if (!chosen) return record;
  const others = record.earlier.filter((c) => c !== chosen);
  const { conversationId: id, token, startedAt, ...rest } = record;
  const current = token ? [{ conversationId: id, token, startedAt }] : [];
  return validVisitor({ ...rest, ...chosen, earlier: [...current, ...others] });
}

/** The record without one conversation (its token no longer opens it). */
export function withoutConversation(record, conversationId) {
  if (!record) return record;
  const earlier = (record.earlier ?? []).filter((c) => c.conversationId !== conversationId);
  const { conversationId: id, token, startedAt, ...rest } = record;
  const current = id === conversationId ? {} : { conversationId: id, token, startedAt };
  return validVisitor({ ...rest, ...current, earlier });
}

/** localStorage wrapped: it throws in some private modes and when storage is disabled. */
export const visitorStore = {
  load() {
    try {
      return validVisitor(JSON.parse(localStorage.getItem(STORAGE_KEY)));
    } catch {
      return null;
    }
  },
  save(visitor) {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(visitor));
    } catch {
      // Without storage the chat still works; it just will not survive a reload.
    }
  },
  forget() {
    try {
      localStorage.removeItem(STORAGE_KEY);
    } catch {
      // Nothing stored, nothing to forget.
    }
  },
};
