/**
 * The agent side's marks on the dashboard's conversations: one MarkSender per conversation,
 * so the list's "delivered" and the open transcript's "read" go out as one POST per burst.
 *
 * The dashboard holds a conversation's last message as soon as its feed brings it, so the
 * visitor sees "Delivered" then; what is deliverable is the store's rule (dashboard-store.js).
 */
import { MarkSender } from "./mark-sender.js";

export class AgentMarks {
  #store;
  #send;
  #senders = new Map(); // String(id) → the MarkSender of the agent side's marks on it

  /** `send(id, marks)` posts the marks of conversation `id`. */
  constructor({ store, send }) {
    this.#store = store;
    this.#send = send;
  }

  /** The conversation's newest state came: acknowledge its marks, mark its last entry delivered. */
  deliver(id) {
    const conversation = this.#store.get(id);
    if (!conversation) return;
    this.#senders.get(String(id))?.acknowledge(conversation.marks?.agent);
    const seq = this.#store.deliverable(conversation);
    if (seq !== null) this.of(id).delivered(seq);
  }

  /** The MarkSender of conversation `id`, made on first use. */
  of(id) {
    let sender = this.#senders.get(String(id));
    if (!sender) {
      sender = new MarkSender({
        marks: this.#store.get(id)?.marks?.agent,
        send: (marks) => this.#send(id, marks),
      });
      this.#senders.set(String(id), sender);
    }
    return sender;
  }

  /** The agent's session ended: nothing more is sent. */
  close() {
    for (const sender of this.#senders.values()) sender.close();
  }
}
