/**
 * Typing, both ways: TypingSignal tells the server that this side is typing (throttled),
 * TypingIndicator shows that the other side is ("Ada is typing…") and hides it again.
 *
 * Neither knows the network or the page: the signal calls the `send(typing)` it is given
 * (its failures are the caller's to ignore), the indicator writes one element's text and
 * `hidden`. Clock and timers are injected, so both run in Node tests.
 */

import { _ } from "./texts.js";

/** How often `{typing: true}` may go out while someone keeps typing. */
export const TYPING_THROTTLE_MS = 2000;
/** How long "is typing…" stays up without a new typing event (a lost `false` must not stick). */
export const TYPING_EXPIRY_MS = 5000;

/**
 * Outgoing typing: `true` at most once per throttle while typing, `false` once when it stops.
 *
 * One signal is in flight at a time. Two requests sent together may be handled in either
 * order, and a `false` handled after the `true` it took back would leave the other side
 * without "is typing…" while this side types on (the server drops a repeated `true` for
 * two seconds). So a signal decided while one is in flight waits for its answer, and
 * only the latest of those goes out, and only if it says something new.
 */
export class TypingSignal {
  #send;
  #now;
  #throttleMs;
  #typing = false; // whether the server was last told `true`
  #sentAt = -Infinity; // when `true` last went out
  #inFlight = false; // a signal's request is not answered yet
  #waiting = null; // the latest signal decided meanwhile (true / false), or null

  /** `send(typing)` posts the signal and returns its request's promise; `now()` is
   * injectable for tests. */
  constructor({ send, now = () => Date.now(), throttleMs = TYPING_THROTTLE_MS } = {}) {
    if (typeof send !== "function") throw new TypeError("TypingSignal needs send()");
    this.#send = send;
    this.#now = now;
    this.#throttleMs = throttleMs;
  }

  /** The composer's text changed: typing while it has text, stopped when it is empty. */
  input(text) {
    if (!String(text ?? "").trim()) {
      this.stop();
      return;
    }
    const now = this.#now();
    if (this.#typing && now - this.#sentAt < this.#throttleMs) return;
    this.#typing = true;
    this.#sentAt = now;
    this.#post(true);
  }

  /** The message was sent or the composer emptied: say `false`, once, if `true` was said. */
  stop() {
    if (!this.#typing) return;
    this.#typing = false;
    this.#sentAt = -Infinity; // typing again right after a send is news at once
    this.#post(false);
  }

  #post(typing) {
    if (this.#inFlight) {
      this.#waiting = typing;
      return;
    }
    this.#inFlight = true;
    const answered = () => {
      this.#inFlight = false;
      const next = this.#waiting;
      this.#waiting = null;
      if (next !== null && next !== typing) this.#post(next);
    };
    let request;
    try {
      request = this.#send(typing);
    } catch (error) {
      request = Promise.reject(error);
    }
    Promise.resolve(request).then(answered, answered);
  }
}

/** Incoming typing of one side ("agent" or "visitor") shown on one element. */
export class TypingIndicator {
  #element;
  #sender;
  #setTimeout;
  #clearTimeout;
  #expiryMs;
  #timer = null; // the one timer: hides the line when typing events stop coming
  #name = null; // who is shown typing

  /** `sender` is the side whose typing is shown; timers are injectable for tests. */
  constructor(
    element,
    {
      sender,
      setTimeout = (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout = (id) => globalThis.clearTimeout(id),
      expiryMs = TYPING_EXPIRY_MS,
    } = {},
  ) {
    this.#element = element;
    this.#sender = sender;
    this.#setTimeout = setTimeout;
    this.#clearTimeout = clearTimeout;
    this.#expiryMs = expiryMs;
    this.#render();
  }

  /** Whether the line is up. */
  get visible() {
    return this.#name !== null;
  }

  /** A `typing` event {sender, name, typing}; the other side's own events are ignored. */
  update({ sender, name, typing } = {}) {
    if (sender !== this.#sender) return;
    if (!typing) {
      this.hide();
      return;
    }
    this.#cancel();
    this.#name = name || defaultName(sender);
    this.#timer = this.#setTimeout(() => {
      this.#timer = null;
      this.hide();
    }, this.#expiryMs);
    this.#render();
  }

  /** A new entry: a text from the side shown typing means it finished typing. */
  message(message) {
    if (message?.sender === this.#sender && message?.kind !== "status") this.hide();
  }

  /** Hide the line and drop its timer (also when the conversation changes). */
  hide() {
    this.#cancel();
    if (this.#name === null) return;
    this.#name = null;
    this.#render();
  }

  #cancel() {
    if (this.#timer === null) return;
    this.#clearTimeout(this.#timer);
    this.#timer = null;
  }

  #render() {
    this.#element.textContent = this.#name === null ? "" : _("{name} is typing…", { name: this.#name });
    this.#element.hidden = this.#name === null;
  }
}

function defaultName(sender) {
  return sender === "agent" ? _("Support") : _("The visitor");
}
