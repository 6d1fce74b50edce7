/**
 * The chat's first step: the pre-chat form that asks who the visitor is.
 *
 * It creates nothing (a conversation starts with its first message): a valid form is
 * handed to `onidentify({name, email})`, and the page decides what follows. The host
 * page's identify() fills it in too, and a name or e-mail the server refused comes back
 * to it with the server's error under its field.
 */
import { clearErrors, showFieldError } from "./form-errors.js";
import { _ } from "./texts.js";

export class StartStep {
  #form;
  #notice;
  #away; // the away notice: shown, with the e-mail required, while the team is away
  /** Told `{name, email}` (trimmed, a name given) when the visitor submits the form. */
  onidentify = null;

  constructor(form, notice, away = null) {
    this.#form = form;
    this.#notice = notice;
    this.#away = away;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#submit();
    });
  }

  /** Whether the form is what the visitor sees. */
  get shown() {
    return !this.#form.hidden;
  }

  /** The field to focus when the step shows. */
  get field() {
    return this.#field("name");
  }

  /** Show the form, with `notice` above it (none: hidden) and no errors. */
  show(notice = "") {
    this.#notice.textContent = notice;
    this.#notice.hidden = !notice;
    clearErrors(this.#form);
    this.#form.hidden = false;
  }

  /** The team is away (`text`: what to tell the visitor) or not (""): the e-mail address
   * is then required, and optional again once someone is there. */
  setAway(text = "") {
    const email = this.#field("email");
    email.required = Boolean(text);
    email.setAttribute("aria-required", String(Boolean(text)));
    for (const hint of this.#form.querySelectorAll("[data-email-optional]")) hint.hidden = Boolean(text);
    if (!this.#away) return;
    this.#away.textContent = text;
    this.#away.hidden = !text;
  }

  hide() {
    this.#form.hidden = true;
  }

  /** Put `name` and `email` in the fields (what is empty leaves its field as it is). */
  fill({ name = "", email = "" } = {}) {
    if (name) this.#field("name").value = name;
    if (email) this.#field("email").value = email;
  }

  /** Show the form again with what the visitor gave and the server's error under its field. */
  refused(record, error) {
    this.show();
    this.#field("name").value = record.name ?? "";
    this.#field("email").value = record.email ?? "";
    showFieldError(this.#form, error);
  }

  /** Empty the fields (the visitor was forgotten). */
  clear() {
    this.#form.reset();
  }

  #submit() {
    clearErrors(this.#form);
    const name = this.#field("name").value.trim();
    const email = this.#field("email").value.trim();
    if (!name) {
      showFieldError(this.#form, { field: "name", message: _("Please tell us your name.") });
      return;
    }
    if (!email && this.#field("email").required) {
      showFieldError(this.#form, { field: "email", message: _("We are away: please leave your e-mail address.") });
      return;
    }
    this.onidentify?.({ name, email });
  }

  #field(name) {
    return this.#form.elements.namedItem(name);
  }
}
