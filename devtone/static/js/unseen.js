/**
 * UnseenMessages: how many of the agent's messages the visitor has not seen yet — the
 * widget's badge, on every page of the host site.
 *
 * The count comes from the server's side of things: the visitor's seen mark
 * (`conversation.marks.visitor.seen`, moved by the page's POST …/read) and the log's agent
 * text entries above it. A page that loads the conversation anew (the visitor moved to
 * another page of the site) counts the same as the page before it did.
 *
 * Pure: no DOM, no network.
 */

/** An agent's (or a bot's) text entry: what the badge counts and what the host page hears about. */
export function isAgentText(message) {
  return (message?.sender === "agent" || message?.sender === "bot") && message?.kind === "text";
}

export class UnseenMessages {
  #agentSeqs = new Set(); // seqs of agent text entries the page holds
  #seen = 0; // the visitor's seen mark: the server's, or a higher one the page sent

  /** The count now. */
  get count() {
    let count = 0;
    for (const seq of this.#agentSeqs) if (seq > this.#seen) count += 1;
    return count;
  }

  /** The seen mark the counter goes by. */
  get seen() {
    return this.#seen;
  }

  /** An entry the page holds (history or live); true if it changed the count. */
  add(message) {
    if (!isAgentText(message) || !Number.isInteger(message.seq) || this.#agentSeqs.has(message.seq)) return false;
    this.#agentSeqs.add(message.seq);
    return message.seq > this.#seen;
  }

  /** The mark moved to `seq` (the server said so, or the page marked it); never back. */
  seenUpTo(seq) {
    if (!Number.isInteger(seq) || seq <= this.#seen) return false;
    const before = this.count;
    this.#seen = seq;
    return this.count !== before;
  }

  /** Another conversation: nothing counted. */
  reset() {
    this.#agentSeqs.clear();
    this.#seen = 0;
  }
}
