/**
 * The visitor, kept in this page's localStorage under `devtone.visitor`, so a reload
 * continues where they were:
 *
 *   {name, email?}                              who they are (the pre-chat form, identify())
 *   {…, identity: {id, hash}}                   who the site says they are, signed by the
 *                                               site's server (identify(): docs/identity.md)
 *   {…, conversationId, token, startedAt}       the conversation they are in, once they wrote
 *   {…, earlier: [{conversationId, token, startedAt}]}   conversations they left for a new
 *                                               one: still theirs while the token is kept
 *   {…, fresh: true}                            they left one for a new one, not written yet:
 *                                               the one left (maybe still open) is not resumed
 *
 * A conversation starts with its first message, so a visitor may be known without one.
 */

const STORAGE_KEY = "devtone.visitor";
/** Earlier conversations kept (the newest); older ones are let go. */
export const EARLIER_MAX = 10;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** The longest identity id the server takes, and a hash's longest (64 hex digits). */
export const IDENTITY_ID_MAX = 255;
const HASH = /^[0-9A-Fa-f]{64}$/;

const text = (value, max) => (typeof value === "string" ? value.trim().slice(0, max) : "");

/**
 * `{id, hash}` if `identity` is a signed identity's shape, else null. The id is kept
 * exactly as given (the hash signs it as it is); only the server checks the hash.
 */
export function validIdentity(identity) {
  if (!identity || typeof identity !== "object") return null;
  const { id, hash } = identity;
  if (typeof id !== "string" || !id.trim() || id.length > IDENTITY_ID_MAX) return null;
  if (typeof hash !== "string" || !HASH.test(hash)) return null;
  return { id, hash };
}

/** Whether two identities name the same visitor (an absent one names nobody). */
export function sameIdentity(a, b) {
  return Boolean(a && b) && a.id === b.id;
}

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
  const identity = validIdentity(visitor.identity);
  if (identity) record.identity = identity;
  if (conversationOf(visitor)) {
    record.conversationId = visitor.conversationId;
    record.token = visitor.token;
    const startedAt = text(visitor.startedAt, 40);
    if (startedAt) record.startedAt = startedAt;
  } else if (visitor.fresh === true) {
    record.fresh = true;
  }
  const earlier = Array.isArray(visitor.earlier) ? visitor.earlier.filter(conversationOf) : [];
  if (earlier.length) {
    record.earlier = earlier.slice(0, EARLIER_MAX).map((c) => ({
      conversationId: c.conversationId,
      token: c.token,
      startedAt: text(c.startedAt, 40),
    }));
  }
  return record.name || record.conversationId != null || record.earlier || record.identity ? record : null;
}

/**
 * What the host page's identify({name, email, id, hash}) makes of the stored visitor
 * `current`: `forget` when another signed-in person was kept here (nothing of theirs is
 * the new one's), the record to keep (null: nothing new to keep; a same-identity call on
 * every page load changes nothing), and whether to look for the conversation the signed
 * visitor has open in another browser (only outside a conversation).
 */
export function identifiedVisitor(current, { name = "", email = "", id, hash } = {}) {
  const identity = validIdentity({ id, hash });
  const forget = Boolean(identity && current?.identity && !sameIdentity(identity, current.identity));
  const kept = forget ? null : current;
  if (kept?.token) {
    // In a conversation: it already has its name; a signed id links the next ones.
    const linked = identity && !sameIdentity(identity, kept.identity);
    return { forget, record: linked ? validVisitor({ ...kept, identity }) : null, resume: false };
  }
  if (!name && !identity) return { forget, record: null, resume: false };
  const who = name ? { name, email } : {};
  const record = validVisitor({ ...kept, ...who, ...(identity ? { identity } : {}) });
  // Asked for a new conversation: the one they left here stays left, even if still open.
  return { forget, record, resume: Boolean(identity) && !record?.fresh };
}

/** The ids of every conversation the record holds a token of (current and earlier). */
export function heldIds(record) {
  const earlier = (record?.earlier ?? []).map((c) => c.conversationId);
  return record?.conversationId != null ? [record.conversationId, ...earlier] : earlier;
}

/**
 * The record with conversations `found` on other browsers ({conversationId, token,
 * startedAt}) among its earlier ones: after those it had, none twice, nor the current one.
 */
export function withEarlier(record, found) {
  const held = new Set(heldIds(record));
  const added = found.filter((c) => !held.has(c.conversationId));
  // Newest first (ids grow with time), so the EARLIER_MAX kept are the newest, whichever
  // browser they came from.
  const earlier = [...(record?.earlier ?? []), ...added].sort((a, b) => b.conversationId - a.conversationId);
  return validVisitor({ ...record, earlier });
}

/** The record with `conversation` (just started) as the visitor's current one. */
export function withConversation(record, { id, token, name, startedAt }) {
  const { fresh, ...rest } = record ?? {}; // a conversation again: nothing left to keep apart
  return validVisitor({ ...rest, name: record?.name || name, conversationId: id, token, startedAt });
}

/**
 * The record after the visitor leaves the current conversation for a new one: it goes
 * first in `earlier` (still theirs, reachable from the page), and who they are stays.
 */
export function leavingConversation(record) {
  if (!record?.token) return record;
  const { conversationId, token, startedAt, ...rest } = record;
  const earlier = [{ conversationId, token, startedAt }, ...(record.earlier ?? [])];
  return validVisitor({ ...rest, earlier, fresh: true });
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
