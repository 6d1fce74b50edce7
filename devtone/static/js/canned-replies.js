/**
 * Canned replies in the composer, as pure functions: where a "/" query is being typed,
 * which replies it matches, and a reply's text with its variables filled in. The
 * picker (canned-picker.js) and the node tests use them; which replies an agent may use
 * is the server's to say (GET /api/canned-replies).
 */

/** The variables a reply's text may hold, and what fills each. */
export const VARIABLES = Object.freeze(["visitor.name", "agent.name", "conversation.id"]);

/**
 * The "/" query the caret is in: `/` at the start of the text or after whitespace, then
 * no whitespace up to the caret. `{start, end, query}` (start at the "/"), or null.
 */
export function slashQuery(text, caret = text.length) {
  const before = text.slice(0, caret);
  const slash = before.lastIndexOf("/");
  if (slash < 0) return null;
  if (slash > 0 && !/\s/.test(before[slash - 1])) return null;
  const query = before.slice(slash + 1);
  if (/\s/.test(query)) return null;
  return { start: slash, end: caret, query };
}

/** Lower case without accents, so "acao" finds "Ação" as people type it. */
export function folded(text) {
  return String(text).normalize("NFD").replace(/\p{M}/gu, "").toLocaleLowerCase();
}

/**
 * The replies `query` matches, best first: shortcuts that start with it, then shortcuts
 * that hold it, then texts that hold it (each group in the order given); at most `limit`.
 */
export function matchReplies(replies, query, limit = 8) {
  const wanted = folded(query);
  const groups = [[], [], []];
  for (const reply of replies ?? []) {
    const shortcut = folded(reply.shortcut ?? "");
    if (shortcut.startsWith(wanted)) groups[0].push(reply);
    else if (shortcut.includes(wanted)) groups[1].push(reply);
    else if (folded(reply.text ?? "").includes(wanted)) groups[2].push(reply);
  }
  return groups.flat().slice(0, limit);
}

/**
 * `text` with `{visitor.name}`, `{agent.name}` and `{conversation.id}` filled from
 * `values` ({visitorName, agentName, conversationId}); a blank visitor name becomes
 * `fallbackName` (a word in the page's language). Other braces stay as written.
 */
export function fillVariables(text, { visitorName, agentName, conversationId } = {}, fallbackName = "") {
  const visitor = String(visitorName ?? "").trim() || fallbackName;
  const values = {
    "visitor.name": visitor,
    "agent.name": String(agentName ?? "").trim(),
    "conversation.id": conversationId == null ? "" : String(conversationId),
  };
  return String(text).replace(/\{(visitor\.name|agent\.name|conversation\.id)\}/g, (_whole, name) => values[name]);
}

/** `text` with the "/" query (`{start, end}`) replaced by `reply`; `{text, caret}` after it. */
export function insertReply(text, { start, end }, reply) {
  const after = text.slice(end);
  return { text: text.slice(0, start) + reply + after, caret: start + reply.length };
}
