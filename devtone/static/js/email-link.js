/**
 * A link from an e-mail to the visitor: `/chat#reopen=<link>`. What follows `#` never
 * leaves the browser with a request, so the link's token reaches no server log; the page
 * trades it (POST /api/conversations/reopen) for the conversation and a token of this
 * browser's own, makes that conversation the visitor's current one, and takes the link
 * out of the address bar and the history.
 */
import { leavingConversation, withConversation } from "./visitor-store.js";

const REOPEN = /^#reopen=([A-Za-z0-9_.-]{1,200})$/;

/** The link's token in `hash`, or null. */
export function reopenLinkOf(hash) {
  return REOPEN.exec(hash ?? "")?.[1] ?? null;
}

/**
 * The stored visitor `record` with `conversation` (reopened with `token`) as the current
 * one: a conversation they were in goes to the earlier ones, who they are comes from it.
 */
export function withReopened(record, conversation, token) {
  const kept = record?.conversationId === conversation.id ? record : leavingConversation(record);
  const visitor = conversation.visitor ?? {};
  const earlier = (kept?.earlier ?? []).filter((c) => c.conversationId !== conversation.id);
  return withConversation(
    { ...kept, earlier, email: kept?.email || visitor.email || undefined },
    { id: conversation.id, token, name: visitor.name, startedAt: conversation.created_at },
  );
}

/**
 * Trade the page's e-mailed link, if it has one, and store the conversation it opens;
 * whether it did. A wrong or expired link leaves the page as it was (false).
 */
export async function redeemEmailLink({ api, store, location = window.location, history = window.history }) {
  const link = reopenLinkOf(location.hash);
  if (!link) return false;
  history.replaceState(history.state, "", `${location.pathname}${location.search}`);
  try {
    const { conversation, token } = await api.reopenConversation(link);
    store.save(withReopened(store.load(), conversation, token));
    return true;
  } catch {
    return false;
  }
}
