/**
 * Delivery states of the page's own messages, as a messenger shows them: sending → sent
 * (stored, seq given) → delivered (the other side's client has it) → seen (the other side
 * had it on screen), or failed, with Retry and Discard.
 *
 * `messageState` is pure: a stored message's state from the other side's marks
 * (`conversation.marks.<other side>`). `DeliveryStates` draws the state of each own message
 * in the element MessageList gives it: ticks with the state's name as their accessible
 * name and title, or "Not sent" with two real buttons. Marks only move forward, so a late
 * conversation copy never takes a tick back. User text never passes through here.
 */
import { _ } from "./texts.js";

/** Each state's name, as a screen reader reads it and a tooltip shows it. */
export const STATE_LABELS = Object.freeze({
  sending: _("Sending"),
  sent: _("Sent"),
  delivered: _("Delivered"),
  seen: _("Seen"),
  failed: _("Not sent"),
});

// What the eye sees; the name above is what the state is called.
const TICKS = Object.freeze({ sending: "◷", sent: "✓", delivered: "✓✓", seen: "✓✓" });

const TEXTS = Object.freeze({ retry: _("Retry"), discard: _("Discard") });

/** A stored message's state, given the other side's marks {delivered, seen}. */
export function messageState(seq, marks) {
  const seen = Number.isInteger(marks?.seen) ? marks.seen : 0;
  const delivered = Math.max(Number.isInteger(marks?.delivered) ? marks.delivered : 0, seen);
  if (seq <= seen) return "seen";
  if (seq <= delivered) return "delivered";
  return "sent";
}

/** The higher of two marks, side by side (marks never move back). */
export function laterMarks(held, marks) {
  const pick = (name) => Math.max(held?.[name] ?? 0, Number.isInteger(marks?.[name]) ? marks[name] : 0);
  return { delivered: pick("delivered"), seen: pick("seen") };
}

/** The state marks of one MessageList's own messages. */
export class DeliveryStates {
  #document;
  #retry;
  #discard;
  #marks = { delivered: 0, seen: 0 }; // the other side's
  #stored = new Map(); // own stored <li> → its seq

  /** `retry(clientId)` and `discard(clientId)` are called by a failed message's buttons. */
  constructor(document, { retry, discard }) {
    this.#document = document;
    this.#retry = retry;
    this.#discard = discard;
  }

  /** The other side's marks as last applied. */
  get marks() {
    return { ...this.#marks };
  }

  /** An own message on its way: "Sending". */
  sending(li) {
    this.#stored.delete(li);
    this.#draw(li, "sending");
  }

  /** An own message not sent: "Not sent", Retry and Discard. */
  failed(li, clientId) {
    this.#stored.delete(li);
    this.#draw(li, "failed");
    const retry = this.#button("message__retry", TEXTS.retry, () => this.#retry(clientId));
    const discard = this.#button("message__discard", TEXTS.discard, () => this.#discard(clientId));
    const actions = this.#element("span", "message__actions");
    actions.append(retry, discard);
    li.append(actions);
  }

  /** An own message the server stored as `seq`: sent, delivered or seen by the marks. */
  stored(li, seq) {
    this.#stored.set(li, seq);
    this.#draw(li, messageState(seq, this.#marks));
  }

  /** An own message that left the list (discarded). */
  forget(li) {
    this.#stored.delete(li);
  }

  /** The other side's marks moved (never back): redraw what changed; true if anything did. */
  update(marks) {
    const next = laterMarks(this.#marks, marks);
    if (next.delivered === this.#marks.delivered && next.seen === this.#marks.seen) return false;
    this.#marks = next;
    for (const [li, seq] of this.#stored) {
      const state = messageState(seq, next);
      if (li.dataset.state !== state) this.#draw(li, state);
    }
    return true;
  }

  /** Forget everything (another conversation). */
  clear() {
    this.#stored.clear();
    this.#marks = { delivered: 0, seen: 0 };
  }

  // One state element per message, after its time; a failed one's buttons go with it.
  #draw(li, state) {
    for (const child of [...li.children]) {
      if (child.classList.contains("message__state") || child.classList.contains("message__actions")) child.remove();
    }
    li.dataset.state = state;
    const element = this.#element("span", "message__state");
    element.dataset.state = state;
    element.setAttribute("title", STATE_LABELS[state]);
    if (state === "failed") {
      element.textContent = STATE_LABELS.failed; // in words: it asks the writer to act
    } else {
      // Ticks are a picture: its name is the state's, in the page's language.
      element.textContent = TICKS[state];
      element.setAttribute("role", "img");
      element.setAttribute("aria-label", STATE_LABELS[state]);
    }
    li.append(element);
  }

  #button(className, text, onclick) {
    const button = this.#element("button", className);
    button.type = "button";
    button.textContent = text;
    button.addEventListener("click", onclick);
    return button;
  }

  #element(tag, className) {
    const element = this.#document.createElement(tag);
    element.className = className;
    return element;
  }
}
