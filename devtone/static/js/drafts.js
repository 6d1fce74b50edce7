/**
 * Drafts: what an agent had typed but not sent when their session ended, kept per agent and
 * conversation until they open that conversation again (after signing in). A draft is
 * never sent by itself: it comes back into the composer, and the agent decides.
 *
 * Storage is injected (localStorage by default) and wrapped: it throws in some private
 * modes and when full, and a lost draft must never break the page.
 */

/** Storage key prefix; the agent's id, a dot and the conversation id follow. */
export const DRAFT_KEY_PREFIX = "devtone.agent-draft.";

export class Drafts {
  #prefix;
  #storage;

  /** `agentId` keeps one agent's drafts from another's on a shared browser. */
  constructor({ agentId, storage = defaultStorage() }) {
    this.#prefix = `${DRAFT_KEY_PREFIX}${agentId}.`;
    this.#storage = storage;
  }

  /**
   * Keep `text` for `conversationId` (blank text keeps nothing), with its `kind`: a private
   * note must come back as a note, never as a reply the next Enter sends to the visitor.
   */
  keep(conversationId, text, kind = "text") {
    if (!String(text ?? "").trim()) return;
    try {
      this.#storage?.setItem(`${this.#prefix}${conversationId}`, JSON.stringify({ text, kind }));
    } catch {
      // Without storage the draft is lost with the page, as it was before.
    }
  }

  /** `{text, kind}` kept for `conversationId`, removed from storage; text "" if none. */
  take(conversationId) {
    const key = `${this.#prefix}${conversationId}`;
    try {
      const kept = this.#storage?.getItem(key) ?? "";
      this.#storage?.removeItem(key);
      return parseDraft(kept);
    } catch {
      return { text: "", kind: "text" };
    }
  }
}

/** A stored draft: `{text, kind}` JSON, or the plain text drafts were kept as before notes. */
export function parseDraft(kept) {
  try {
    const draft = JSON.parse(kept);
    if (typeof draft?.text === "string") return { text: draft.text, kind: draft.kind === "note" ? "note" : "text" };
  } catch {
    // plain text, kept by an earlier version of the page
  }
  return { text: typeof kept === "string" ? kept : "", kind: "text" };
}

function defaultStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // reading localStorage itself throws when storage is blocked
  }
}
