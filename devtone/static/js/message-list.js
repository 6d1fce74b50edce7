/**
 * MessageList: renders a conversation's entries into one <ul>, once each and in seq order.
 *
 * Never touches the network and never parses HTML: every piece of user text goes through
 * textContent. Pending (not yet stored) messages sit at the bottom until the server's copy
 * arrives, from the POST response or from the stream, whichever is first.
 *
 * The same list serves both sides: `self` is the sender whose messages are this page's own
 * ("visitor" on the chat page, "agent" on the dashboard): its pending messages, their
 * delivery states (message-states.js), its "Seen" mark, and no name over them (only a
 * "You" for screen readers). Which side is drawn on the
 * right is the stylesheet's business (`.messages--agent-side` on the dashboard's <ul>).
 *
 * It reads like a messenger: consecutive messages of one author form a group (name and
 * initials once, message-groups.js), a day line stands before each day's first entry
 * (message-times.js), and whether the view follows new entries is ScrollFollower's call.
 * Entries arrive out of order (history, pending ones confirmed late), so each insertion
 * asks again about the neighbours it lands between. The <ul> holds two kinds of <li>:
 * entries (`.message`) and day lines (`.day-line`), each day line just before its entry.
 */
import { continuesGroup, entryFacts, initials, startsDay } from "./message-groups.js";
import { DeliveryStates } from "./message-states.js";
import { dayLabel, dayNumber, fullLabel, timeLabel } from "./message-times.js";
import { ScrollFollower } from "./scroll-follower.js";
import { _ } from "./texts.js";

// "bot": an API token's messages (its name as author): the team's side, like an agent's.
const SENDERS = new Set(["visitor", "agent", "bot", "system"]);

const STATUS_TEXT = Object.freeze({
  waiting: _("Waiting for an agent"),
  active: _("An agent joined the conversation"),
  closed: _("Conversation closed"),
});

// The log keeps its status lines in English (the record an API reader gets, whatever the
// reader's language; log_writer.py writes them): the page words them in its own.
const JOINED = /^(.+) joined the conversation\.$/s;
const STORED_STATUS = Object.freeze({
  "The conversation was reopened.": () => _("The conversation was reopened."),
  "The conversation was closed.": () => _("The conversation was closed."),
});

/** How often a page asks `refreshDays()` whether "Today" became "Yesterday" (ms). */
export const DAY_CHECK_MS = 60_000;

/** Every other word this list writes. */
const TEXTS = Object.freeze({
  you: _("You"),
  agent: _("Support"),
  visitor: _("Visitor"),
  seen: _("Seen"),
  note: _("Private note"),
  bot: _("Bot"),
});

/** Entries shown as a line of the log, not a bubble: status and label changes. */
const LOG_LINES = new Set(["status", "label"]);

/**
 * CSS classes of a rendered entry: `message message--<sender>`, plus `message--status`
 * (status and label changes), or `message--note` for an agent's private note (only
 * agents ever receive one).
 */
export function messageClasses(message) {
  const status = LOG_LINES.has(message?.kind);
  const sender = status ? "system" : SENDERS.has(message?.sender) ? message.sender : "system";
  if (status) return ["message", `message--${sender}`, "message--status"];
  if (message?.kind === "note") return ["message", `message--${sender}`, "message--note"];
  return ["message", `message--${sender}`];
}

/** The line of a label entry (its body: JSON `{added, removed}`): who changed what. */
export function labelChangeText(message) {
  let change = {};
  try {
    change = JSON.parse(message?.body ?? "{}") ?? {};
  } catch {
    change = {};
  }
  const name = message?.author?.name ?? "";
  const list = (names) => (Array.isArray(names) ? names.map(String).join(", ") : "");
  const lines = [];
  if (list(change.added)) lines.push(_("{name} added the labels: {labels}.", { name, labels: list(change.added) }));
  if (list(change.removed)) lines.push(_("{name} removed the labels: {labels}.", { name, labels: list(change.removed) }));
  return lines.join(" ");
}

/** The line shown for a status entry: its body, or a text for its status. */
export function statusText(message) {
  if (message?.kind === "label") return labelChangeText(message);
  const body = message?.body ?? "";
  const joined = JOINED.exec(body);
  if (joined) return _("{name} joined the conversation.", { name: joined[1] });
  return Object.hasOwn(STORED_STATUS, body) ? STORED_STATUS[body]() : body || STATUS_TEXT[message?.status] || "";
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
  /** Called with a client_id when the writer clicks "Retry" on a failed message. */
  onretry = null;
  /** Called with a client_id when the writer clicks "Discard" on a failed message. */
  ondiscard = null;

  #ul;
  #document;
  #formatTime;
  #self;
  #locale;
  #timeZone;
  #now;
  #follower;
  #empty;
  #seqs = []; // ascending seqs of stored items, parallel to #items
  #items = [];
  #pending = new Map(); // client_id → <li>, in DOM order, always after every stored item
  #seen = null; // the one "Seen" mark: {seq, element}
  #facts = new WeakMap(); // entry <li> → entryFacts(): what its neighbours are compared on
  #dayLines = new Map(); // entry <li> → the day line just above it (first entry of a day)
  #labelledOn = null; // the viewer's day the day lines were written on
  #states; // the delivery state of each own message
  #attachments; // AttachmentRenderer: how a message's file is shown (none: its name as text)

  /**
   * `self` is the sender whose messages are this page's own; `locale` and `timeZone`
   * (undefined: the browser's) say how times read; `now()`, `formatTime(iso)` are
   * injectable for tests. `pill` is the "New messages ↓" button, `empty` an element shown
   * while the list has no entry (the greeting).
   */
  constructor(
    ulElement,
    {
      document = ulElement.ownerDocument,
      self = "visitor",
      locale = undefined,
      timeZone = undefined,
      now = () => Date.now(),
      formatTime = (iso) => timeLabel(iso, locale, timeZone),
      pill = null,
      empty = null,
      attachments = null,
      ResizeObserver = globalThis.ResizeObserver,
    } = {},
  ) {
    this.#attachments = attachments;
    this.#ul = ulElement;
    this.#document = document;
    this.#formatTime = formatTime;
    this.#self = self;
    this.#locale = locale;
    this.#timeZone = timeZone;
    this.#now = now;
    this.#follower = new ScrollFollower(ulElement, { pill, ResizeObserver });
    this.#empty = empty;
    this.#states = new DeliveryStates(document, {
      retry: (clientId) => this.onretry?.(clientId),
      discard: (clientId) => this.ondiscard?.(clientId),
    });
    this.#showEmpty();
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
    const confirmed = Boolean(li);
    if (li) {
      this.#pending.delete(clientId);
      this.#detach(li);
      li.replaceChildren();
    } else {
      li = this.#document.createElement("li");
    }
    this.#fill(li, message);
    if (this.#isOwnText(li)) this.#states.stored(li, seq);
    else if (confirmed) this.#states.forget(li); // a note: no delivered or seen to show
    this.#follower.keep(() => this.#insertStored(li, seq), { arrived: confirmed ? 0 : 1 });
    this.#showEmpty();
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
    const element = this.#element("span", "message__seen", TEXTS.seen);
    this.#items[index].append(element);
    this.#seen = { seq, element };
  }

  /** Show each own message's state from the other side's marks {delivered, seen}. */
  markStates(marks) {
    this.#states.update(marks);
  }

  /** Show an outgoing message (`kind` "note": a private note) at once, marked "sending";
   *  again with the same id = retrying. */
  addPending(clientId, body, authorName, kind = "text") {
    let li = this.#pending.get(clientId);
    const retrying = Boolean(li);
    if (li) li.replaceChildren();
    else li = this.#document.createElement("li");
    this.#fill(li, {
      kind: kind === "note" ? "note" : "text",
      sender: this.#self,
      author: { name: authorName },
      body,
      client_id: clientId,
      created_at: new Date(this.#now()).toISOString(),
    });
    li.classList.add("message--pending");
    this.#states.sending(li);
    if (retrying) {
      this.#relink(li);
      const next = this.#nextEntry(li);
      if (next) this.#relink(next);
    } else {
      this.#pending.set(clientId, li);
      this.#follower.keep(() => this.#place(li, null), { own: true });
      this.#showEmpty();
    }
    return li;
  }

  /** Mark a pending message as not sent, with Retry and Discard. */
  markFailed(clientId) {
    const li = this.#pending.get(clientId);
    if (!li) return false; // already stored: nothing failed
    li.classList.remove("message--pending");
    li.classList.add("message--failed");
    this.#states.failed(li, clientId);
    return true;
  }

  /** Take a message that was never stored out of the list (the writer discarded it). */
  removePending(clientId) {
    const li = this.#pending.get(clientId);
    if (!li) return false;
    this.#pending.delete(clientId);
    this.#states.forget(li);
    this.#follower.keep(() => this.#detach(li));
    this.#showEmpty();
    return true;
  }

  /** Remove everything (another conversation is starting). */
  clear() {
    this.#ul.replaceChildren();
    this.#attachments?.releaseAll(); // their blob: URLs would hold the files all day
    this.#seqs = [];
    this.#items = [];
    this.#pending.clear();
    this.#dayLines.clear();
    this.#seen = null;
    this.#states.clear();
    this.#follower.reset();
    this.#showEmpty();
  }

  /** Scroll to the entry `seq` and mark it (a search opened the conversation at it). */
  reveal(seq) {
    for (const li of this.#ul.querySelectorAll(".message--found")) li.classList.remove("message--found");
    const li = this.#items[this.#seqs.indexOf(seq)];
    if (!li) return false;
    li.classList.add("message--found");
    li.tabIndex = -1;
    li.scrollIntoView({ block: "center" });
    li.focus({ preventScroll: true });
    return true;
  }

  /** Write the day lines again if the viewer's day changed since ("Today" → "Yesterday"). */
  refreshDays() {
    if (dayNumber(this.#now(), this.#timeZone) === this.#labelledOn) return;
    for (const [li, line] of this.#dayLines) this.#labelDay(line, this.#facts.get(li));
  }

  #isOwnText(li) {
    // Notes and label changes never reach the visitor: no "delivered" or "seen" on them.
    return li.dataset.sender === this.#self && li.dataset.kind === "text";
  }

  #fill(li, message) {
    li.className = messageClasses(message).join(" ");
    li.dataset.seq = Number.isInteger(message.seq) ? String(message.seq) : "";
    if (message.client_id) li.dataset.clientId = message.client_id;
    li.dataset.sender = message.sender ?? "system";
    li.dataset.kind = message.kind ?? "text";
    this.#facts.set(li, { ...entryFacts(message, this.#timeZone), iso: message.created_at });

    if (LOG_LINES.has(message.kind)) {
      li.append(this.#element("span", "message__body", statusText(message)));
    } else if (message.kind === "note") {
      // Any agent's note, with its author: the team reads who wrote it.
      li.append(
        this.#element("span", "message__note-label", TEXTS.note),
        this.#element("span", "message__author", message.author?.name || ""),
        this.#element("p", "message__body", message.body ?? ""),
      );
    } else if (message.sender === this.#self) {
      // Your own messages carry no name; screen readers still hear whose they are.
      li.append(this.#element("span", "message__author visually-hidden", TEXTS.you), this.#body(message));
    } else {
      const name = message.author?.name || this.#defaultAuthor(message.sender);
      const avatar = this.#element("span", "message__avatar", initials(name));
      avatar.setAttribute("aria-hidden", "true");
      li.append(avatar, this.#element("span", "message__author", name));
      if (message.sender === "bot") li.append(this.#element("span", "message__bot-tag", TEXTS.bot));
      li.append(this.#body(message));
    }
    const time = this.#element("time", "message__time", this.#formatTime(message.created_at));
    if (message.created_at) {
      time.setAttribute("datetime", message.created_at);
      time.setAttribute("title", fullLabel(message.created_at, this.#locale, this.#timeZone));
    }
    li.append(time);
  }

  // A message's text, or the file it carries (a pending upload shows its file's name).
  #body(message) {
    if (!message.attachment || !this.#attachments) return this.#element("p", "message__body", message.body ?? "");
    const body = this.#element("div", "message__body message__body--attachment");
    body.append(this.#attachments.render(message.attachment));
    return body;
  }

  #insertStored(li, seq) {
    const index = insertionIndex(this.#seqs, seq);
    // Stored items before pending ones; among stored, by seq (usually the end: O(1)).
    this.#place(li, this.#items[index] ?? this.#pending.values().next().value ?? null);
    this.#seqs.splice(index, 0, seq);
    this.#items.splice(index, 0, li);
  }

  // Put an entry just above `next` (an entry, or null for the end), then settle the group
  // and day line of both: the entry that was below its new place now has it above.
  #place(li, next) {
    const before = next ? (this.#dayLines.get(next) ?? next) : null; // a day line goes with its entry
    if (before) this.#ul.insertBefore(li, before);
    else this.#ul.append(li);
    this.#relink(li);
    if (next) this.#relink(next);
  }

  // Take an entry out (a pending one about to take its stored place), with its day line.
  #detach(li) {
    const next = this.#nextEntry(li);
    this.#dayLines.get(li)?.remove();
    this.#dayLines.delete(li);
    li.remove();
    if (next) this.#relink(next);
  }

  // Does this entry continue the group above it, and does a day line go above it?
  #relink(li) {
    const facts = this.#facts.get(li);
    const previous = this.#previousEntry(li);
    const above = previous ? this.#facts.get(previous) : null;
    li.classList.toggle("message--continued", continuesGroup(above, facts));
    let line = this.#dayLines.get(li);
    if (!startsDay(above, facts)) {
      line?.remove();
      this.#dayLines.delete(li);
      return;
    }
    if (!line) {
      line = this.#document.createElement("li");
      line.className = "day-line";
      line.append(this.#document.createElement("time"));
      this.#dayLines.set(li, line);
    }
    this.#labelDay(line, facts);
    if (li.previousElementSibling !== line) this.#ul.insertBefore(line, li);
  }

  #labelDay(line, facts) {
    const now = this.#now();
    this.#labelledOn = dayNumber(now, this.#timeZone);
    const time = line.firstElementChild;
    time.textContent = dayLabel(facts.iso, now, this.#locale, this.#timeZone);
    time.setAttribute("datetime", facts.iso);
  }

  #previousEntry(li) {
    let node = li.previousElementSibling;
    while (node && !this.#facts.has(node)) node = node.previousElementSibling;
    return node;
  }

  #nextEntry(li) {
    let node = li.nextElementSibling;
    while (node && !this.#facts.has(node)) node = node.nextElementSibling;
    return node;
  }

  #showEmpty() {
    if (this.#empty) this.#empty.hidden = this.#seqs.length > 0 || this.#pending.size > 0;
  }

  #element(tag, className, text) {
    const element = this.#document.createElement(tag);
    element.className = className;
    element.textContent = text;
    return element;
  }

  #defaultAuthor(sender) {
    if (sender === "bot") return TEXTS.bot;
    return sender === "agent" ? TEXTS.agent : sender === "visitor" ? TEXTS.visitor : "";
  }
}
