/**
 * ConversationView: what the chat page shows of the agent's side of the open
 * conversation, from the entries and the conversation states the session brings: the
 * header's status line and the closed notice, "<agent> is typing…", the delivery state of
 * each of the visitor's messages (the agent side's marks) with "Seen" under the latest the
 * agent read, and the count of agent messages the visitor has not seen (the widget's
 * badge), kept with the visitor's seen mark on the server.
 *
 * It reports the visitor's own marks: delivered as the agent side's entries reach the page,
 * seen when they are on screen. Knows no network: the page gives it the MarkSender of the
 * conversation it follows.
 */
import { ConversationState } from "./conversation-state.js";
import { TypingIndicator } from "./typing.js";
import { UnseenMessages } from "./unseen.js";

export class ConversationView {
  /** Told the count of unseen agent messages whenever it changes. */
  onunseen = null;
  /** Told the conversation's status whenever it is shown (null: none). */
  onstatus = null;
  /** Reading the history: the unseen count waits for the conversation's marks. */
  opening = false;

  #list;
  #el;
  #canSee;
  #state = new ConversationState();
  #unseen = new UnseenMessages();
  #agentTyping;
  #marker = null; // moves the visitor's marks on the followed conversation
  #othersSeq = 0; // the highest seq of an entry not the visitor's (the agent's, the service's)

  /** `list` is the page's MessageList; `canSee()` says whether the visitor can see it now. */
  constructor({ list, status, closedNotice, messageForm, typing, canSee }) {
    this.#list = list;
    this.#el = { status, closedNotice, messageForm };
    this.#canSee = canSee;
    this.#agentTyping = new TypingIndicator(typing, { sender: "agent" });
  }

  /** Follow a conversation whose marks `marker` (a MarkSender) moves (after `leave()`). */
  follow(marker) {
    this.#marker = marker;
  }

  /** Forget the followed conversation: its status, typing, marks and unseen count. */
  leave() {
    this.opening = false;
    this.#marker?.close();
    this.#marker = null;
    this.#othersSeq = 0;
    this.#state.reset();
    this.#agentTyping.hide();
    this.#render();
    this.#unseen.reset();
    this.reportUnseen();
  }

  /** Show an entry; false when it was shown already (the POST answer and the stream both bring it). */
  show(message) {
    const fresh = this.#list.upsert(message);
    if (!fresh) return false;
    this.#agentTyping.message(message);
    if (this.#state.applyEntry(message)) this.#render();
    this.#list.markSeen(this.#state.readSeq);
    if (this.#unseen.add(message)) this.reportUnseen();
    if (message.sender !== "visitor") {
      // The visitor's client has it: "Delivered" for the agent, whether or not it is seen.
      this.#othersSeq = Math.max(this.#othersSeq, message.seq);
      this.#marker?.delivered(this.#list.lastSeq);
    }
    this.markSeen();
    return true;
  }

  /** A conversation JSON (history, long-poll/poll answers, SSE events, a mark's answer). */
  apply(conversation) {
    if (!conversation) return;
    if (this.#state.applyConversation(conversation)) this.#render();
    this.#list.markSeen(this.#state.readSeq);
    this.#list.markStates(conversation.marks?.agent);
    this.#marker?.acknowledge(conversation.marks?.visitor);
    if (this.#unseen.seenUpTo(conversation.marks?.visitor?.seen)) this.reportUnseen();
  }

  /** "<agent> is typing…" from a typing event. */
  typing(detail) {
    this.#agentTyping.update(detail);
  }

  /** The visitor can see the conversation: everything shown is seen (the badge goes at
   *  once; the mark follows in one POST per burst). */
  markSeen() {
    if (!this.#marker || !this.#canSee()) return;
    const seq = this.#list.lastSeq;
    if (!seq) return;
    // Only news from the other side is worth a mark: the visitor's own lines are no news to them.
    if (this.#othersSeq > this.#marker.marks.seen) this.#marker.seen(seq);
    if (this.#unseen.seenUpTo(seq)) this.reportUnseen();
  }

  reportUnseen() {
    if (!this.opening) this.onunseen?.(this.#unseen.count);
  }

  // A closed conversation keeps its composer: the visitor's next message reopens it.
  #render() {
    const { status, closedNotice, messageForm } = this.#el;
    status.textContent = this.#state.line;
    status.hidden = !this.#state.status;
    closedNotice.hidden = this.#state.status !== "closed";
    messageForm.classList.toggle("composer--closed", this.#state.status === "closed");
    this.onstatus?.(this.#state.status);
  }
}
