/**
 * ConversationState: what the customer page knows about its conversation beyond the
 * messages — its status, the agent's name, and how far the agent has read — from every
 * source the page gets: conversation JSON (the history answer, each long-poll/poll answer,
 * SSE `conversation` events) and the log's status entries.
 *
 * Pure: no DOM, no network. A conversation JSON older than the one held (by `version`) is
 * ignored, since a late answer must not undo a newer state; status entries arrive in seq
 * order on one feed and always apply.
 */

import { _ } from "./texts.js";

const STATUSES = new Set(["waiting", "active", "closed"]);

/** The header line for a status, e.g. "Ada is here". */
export function statusLine({ status, agentName }) {
  switch (status) {
    case "waiting":
      return _("Waiting for an agent…");
    case "active":
      return agentName ? _("{name} is here", { name: agentName }) : _("An agent is here");
    case "closed":
      return _("This conversation is closed");
    default:
      return "";
  }
}

/** The conversation's status, agent and read mark, newest source wins. */
export class ConversationState {
  status = null; // waiting | active | closed, null until known
  agentName = null;
  readSeq = 0; // the agent's read mark: visitor messages at or below it were seen
  #version = -Infinity;

  /** A conversation JSON; returns whether anything shown changed. */
  applyConversation(conversation) {
    if (!conversation || typeof conversation !== "object") return false;
    const version = Number.isFinite(conversation.version) ? conversation.version : null;
    if (version !== null && version < this.#version) return false; // an older copy
    if (version !== null) this.#version = version;
    const before = this.#snapshot();
    if (STATUSES.has(conversation.status)) this.status = conversation.status;
    if (conversation.agent?.name) this.agentName = conversation.agent.name;
    if (Number.isInteger(conversation.agent_read_seq)) this.readSeq = conversation.agent_read_seq;
    return this.#snapshot() !== before;
  }

  /**
   * A log entry: status entries move the status; an agent's entry names the agent. A
   * system entry's author is the service itself ("devtone"), never the agent, so the
   * name of an agent who just joined comes with the conversation update that follows.
   */
  applyEntry(message) {
    const before = this.#snapshot();
    if (message?.sender === "agent" && message.author?.name) this.agentName = message.author.name;
    if (message?.kind === "status" && STATUSES.has(message.status)) this.status = message.status;
    return this.#snapshot() !== before;
  }

  /** The header line for the current state. */
  get line() {
    return statusLine(this);
  }

  /** Forget everything (another conversation starts). */
  reset() {
    Object.assign(this, { status: null, agentName: null, readSeq: 0 });
    this.#version = -Infinity;
  }

  #snapshot() {
    return `${this.status}|${this.agentName}|${this.readSeq}`;
  }
}
