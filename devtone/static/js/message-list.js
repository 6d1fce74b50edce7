/**
 * MessageList: renders a conversation's entries into one <ul>, once each and in seq order.
 *
 * Never touches the network and never parses HTML: every piece of user text goes through
 * textContent. Pending (not yet stored) messages sit at the bottom until the server's copy
 * arrives, from the POST response or from the stream, whichever is first.
 *
 * The same list serves both sides: `self` is the sender whose messages are this page's own
 * ("visitor" on the chat page, "agent" on the dashboard): its pending messages, its "You"
 * and its "Seen" marks. Which side is drawn on the right is the stylesheet's business
 * (`.messages--agent-side` on the dashboard's <ul>).
 */

const SENDERS = new Set(["visitor", "agent", "system"]);

const STATUS_TEXT = Object.freeze({
  waiting: "Waiting for an agent",
  active: "An agent joined the conversation",
  closed: "Conversation closed",
});

// How close to the bottom (px) still counts as "reading the latest", so new entries scroll.
const STICKY_PX = 48;

/** CSS classes of a rendered entry: `message message--<sender>`, plus `message--status`. */
export function messageClasses(message) {
  const status = message?.kind === "status";
  const sender = status ? "system" : SENDERS.has(message?.sender) ? message.sender : "system";
  return status ? ["message", `message--${sender}`, "message--status"] : ["message", `message--${sender}`];
}

/** The line shown for a status entry: its body, or a text for its status. */
export function statusText(message) {
  return message?.body || STATUS_TEXT[message?.status] || "";
}

/** Short local time ("20:01") of an ISO 8601 instant; "" when it does not parse. */
export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** Index at which `seq` goes in an ascending array of seqs (after equal ones). */
export function insertionIndex(seqs, seq) {
  let low = 0;
  let high = seqs.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (seqs[mid] <= seq) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** One conversation's messages in a <ul>: dedupe by seq, pending → stored, failed, seen. */
export class MessageList {
  /** Called with a client_id when the writer clicks "retry" on a failed message. */
  onretry = null;

  #ul;
  #document;
  #formatTime;
  #self;
  #seqs = []; // ascending seqs of stored items, parallel to #items
  #items = [];
  #pending = new Map(); // client_id → <li>, in DOM order, always after every stored item
  #seen = null; // the one "Seen" mark: {seq, element}

  /**
   * `self` is the sender whose messages are this page's own; `formatTime(iso)` is
   * injectable so tests do not depend on the time zone.
   */
  constructor(
    ulElement,
    { document = ulElement.ownerDocument, formatTime: format = formatTime, self = "visitor" } = {},
  ) {
    this.#ul = ulElement;
    this.#document = document;
    this.#formatTime = format;
    this.#self = self;
  }

  /** Highest seq shown, 0 when none. */
  get lastSeq() {
    return this.#seqs.length ? this.#seqs[this.#seqs.length - 1] : 0;
  }

  /** Whether the entry with this seq is shown. */
  has(seq) {
    return this.#seqs[insertionIndex(this.#seqs, seq) - 1] === seq;
  }

  /** Show a stored entry; a seq already shown is ignored, a matching pending one becomes it. */
  upsert(message) {
    const seq = message?.seq;
    if (!Number.isInteger(seq) || this.has(seq)) return false;
    const clientId = message.client_id;
    let li = clientId ? this.#pending.get(clientId) : undefined;
    if (li) {
      this.#pending.delete(clientId);
      li.replaceChildren();
    } else {
      li = this.#document.createElement("li");
    }
    this.#fill(li, message);
    this.#keepBottom(() => this.#insertStored(li, seq));
    return true;
  }

  /**
   * Mark the latest own text message at or below `readSeq` as "Seen" (the other side's read
   * mark); exactly one mark at a time, none when no own message was read.
   */
  markSeen(readSeq) {
    let index = Number.isInteger(readSeq) ? insertionIndex(this.#seqs, readSeq) - 1 : -1;
    while (index >= 0 && !this.#isOwnText(this.#items[index])) index -= 1;
    const seq = index >= 0 ? this.#seqs[index] : null;
    if (this.#seen?.seq === seq) return;
    this.#seen?.element.remove();
    this.#seen = null;
    if (seq === null) return;
    const element = this.#element("span", "message__seen", "Seen");
    this.#items[index].append(element);
    this.#seen = { seq, element };
  }

  /** Show an outgoing message at once, marked "sending"; again with the same id = retrying. */
  addPending(clientId, body, authorName) {
    let li = this.#pending.get(clientId);
    if (li) {
      li.replaceChildren();
    } else {
      li = this.#document.createElement("li");
      this.#pending.set(clientId, li);
      this.#keepBottom(() => this.#ul.append(li), true);
    }
    this.#fill(li, {
      kind: "text",
      sender: this.#self,
      author: { name: authorName },
      body,
      client_id: clientId,
      created_at: new Date().toISOString(),
    });
    li.classList.add("message--pending");
    li.append(this.#element("span", "message__state", "sending…"));
    return li;
  }

  /** Mark a pending message as not sent, with a retry button. */
  markFailed(clientId) {
    const li = this.#pending.get(clientId);
    if (!li) return false; // already stored: nothing failed
    li.classList.remove("message--pending");
    li.classList.add("message--failed");
    for (const child of [...li.children]) {
      if (child.classList.contains("message__state")) child.remove();
    }
    const retry = this.#element("button", "message__state message__retry", "not sent — retry");
    retry.type = "button";
    retry.addEventListener("click", () => this.onretry?.(clientId));
    li.append(retry);
    return true;
  }

  /** Remove everything (another conversation is starting). */
  clear() {
    this.#ul.replaceChildren();
    this.#seqs = [];
    this.#items = [];
    this.#pending.clear();
    this.#seen = null;
  }

  #isOwnText(li) {
    return li.dataset.sender === this.#self && li.dataset.kind !== "status";
  }

  #fill(li, message) {
    li.className = messageClasses(message).join(" ");
    li.dataset.seq = Number.isInteger(message.seq) ? String(message.seq) : "";
    if (message.client_id) li.dataset.clientId = message.client_id;
    li.dataset.sender = message.sender ?? "system";
    li.dataset.kind = message.kind ?? "text";

    if (message.kind === "status") {
      li.append(this.#element("span", "message__body", statusText(message)));
    } else {
      li.append(
        this.#element("span", "message__author", message.author?.name || this.#defaultAuthor(message.sender)),
        this.#element("p", "message__body", message.body ?? ""),
      );
    }
    const time = this.#element("time", "message__time", this.#formatTime(message.created_at));
    if (message.created_at) time.setAttribute("datetime", message.created_at);
    li.append(time);
  }

  #insertStored(li, seq) {
    const index = insertionIndex(this.#seqs, seq);
    // Stored items before pending ones; among stored, by seq (usually the end: O(1)).
    const before = this.#items[index] ?? this.#pending.values().next().value ?? null;
    if (before) this.#ul.insertBefore(li, before);
    else this.#ul.append(li);
    this.#seqs.splice(index, 0, seq);
    this.#items.splice(index, 0, li);
  }

  #element(tag, className, text) {
    const element = this.#document.createElement(tag);
    element.className = className;
    element.textContent = text;
    return element;
  }

  #defaultAuthor(sender) {
    if (sender === this.#self) return "You";
    return sender === "agent" ? "Support" : sender === "visitor" ? "Visitor" : "";
  }

  // Follow new entries only when the reader is already at the bottom, or wrote them.
  #keepBottom(change, always = false) {
    const ul = this.#ul;
    const atBottom = ul.scrollHeight - ul.scrollTop - ul.clientHeight <= STICKY_PX;
    change();
    if (always || atBottom) ul.scrollTop = ul.scrollHeight;
  }
}
