/**
 * Composer: the chat page's message form. Enter sends, Shift+Enter is a new line (never
 * while an IME is composing a word); what it sends is the page's business (`onsend`).
 * Text only through the textarea's value; errors in the form's error slot.
 */
import { clearErrors, showFieldError } from "./form-errors.js";

export class Composer {
  /** Called with the text when the visitor sends a message that is not blank. */
  onsend = null;
  /** Called with the text as the visitor types. */
  oninput = null;

  #form;
  #textarea;
  #submit;

  /** `form` is the composer's <form>, with a `body` textarea and a submit button. */
  constructor(form) {
    this.#form = form;
    this.#textarea = form.elements.namedItem("body");
    this.#submit = form.querySelector("[type=submit]");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#send();
    });
    this.#textarea.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
      event.preventDefault();
      this.#send();
    });
    this.#textarea.addEventListener("input", () => this.oninput?.(this.#textarea.value));
  }

  /** The textarea (for focus). */
  get field() {
    return this.#textarea;
  }

  /** While held, what is being sent stays put (the first message waits for its conversation). */
  hold(held) {
    this.#textarea.readOnly = held;
    this.#submit.disabled = held;
  }

  /** Sent: empty the field and its errors. */
  clear() {
    this.#textarea.value = "";
    clearErrors(this.#form);
  }

  showError(message) {
    showFieldError(this.#form, { field: "body", message });
  }

  clearErrors() {
    clearErrors(this.#form);
  }

  #send() {
    const body = this.#textarea.value;
    if (this.#textarea.disabled || this.#textarea.readOnly || !body.trim()) return;
    this.onsend?.(body);
  }
}
