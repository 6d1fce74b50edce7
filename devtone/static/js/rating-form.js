/**
 * RatingForm: once an agent closes the conversation, the chat page (and the widget's
 * frame) asks the visitor to rate it 1–5 with an optional comment. It shows what the
 * conversation says: closed and not rated for this closing (`rating` null) → the form;
 * rated → thanks; open → nothing. Whether a rating is still due is the server's to say
 * (a reopened conversation comes back with `rating` null).
 *
 * Knows no network: the page sends the rating (`onrate`) and hands back the answer.
 */
import { _ } from "./texts.js";

/** What the form shows for a conversation JSON: "form", "thanks" or "none". */
export function ratingStep(conversation) {
  if (!conversation || conversation.status !== "closed") return "none";
  return conversation.rating ? "thanks" : "form";
}

export class RatingForm {
  /** Called with (score, comment); resolves with the rated conversation or rejects with an ApiError. */
  onrate = null;

  #form;
  #thanks;
  #error;
  #sending = false;
  #step = "none";
  #version = 0; // the newest conversation shown: an older answer never undoes a rating

  /** `form` is #rating-form (radios `score`, textarea `comment`); `thanks` the line shown after. */
  constructor(form, thanks) {
    this.#form = form;
    this.#thanks = thanks;
    this.#error = form.querySelector("#rating-error");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#submit();
    });
  }

  /** Show what `conversation` calls for (null: the page left it). */
  render(conversation) {
    if (conversation && (conversation.version ?? 0) < this.#version) return;
    this.#version = conversation ? (conversation.version ?? 0) : 0;
    const step = ratingStep(conversation);
    if (step === this.#step) return;
    this.#step = step;
    if (step === "form") this.#form.reset();
    this.#form.hidden = step !== "form";
    this.#thanks.hidden = step !== "thanks";
    if (step === "thanks") this.#thanks.textContent = _("Thank you for your rating!");
    this.#showError("");
  }

  async #submit() {
    if (this.#sending) return;
    const score = Number(this.#form.elements.namedItem("score").value);
    if (!score) {
      this.#showError(_("Choose from 1 to 5 stars."));
      return;
    }
    const comment = this.#form.elements.namedItem("comment").value;
    this.#sending = true;
    this.#form.querySelector("[type=submit]").disabled = true;
    try {
      const answer = await this.onrate?.(score, comment);
      this.render(answer?.conversation ?? null);
    } catch (error) {
      this.#showError(error?.message || _("Your rating could not be sent. Try again."));
    } finally {
      this.#sending = false;
      this.#form.querySelector("[type=submit]").disabled = false;
    }
  }

  #showError(message) {
    this.#error.textContent = message;
    this.#error.hidden = !message;
  }
}
