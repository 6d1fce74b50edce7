/**
 * "E-mail me this conversation" in the chat's header: shown while a conversation is open
 * and the visitor gave an address; asks the server to e-mail the transcript and says
 * where it goes (or why it cannot).
 */
import { ApiError } from "./api.js";
import { _ } from "./texts.js";

export class TranscriptRequest {
  #button;
  #notice;
  #send;
  #conversationId = null;

  /** `api`: an ApiClient holding the visitor's token (its emailTranscript → {email}). */
  constructor(button, notice, api) {
    this.#button = button;
    this.#notice = notice;
    this.#send = (conversationId) => api.emailTranscript(conversationId);
    button.addEventListener("click", () => this.#request());
  }

  /** Offer it for the visitor's open conversation (not without an address). */
  show({ conversationId, email } = {}) {
    this.#conversationId = conversationId ?? null;
    this.#button.hidden = !(email && this.#conversationId != null);
    this.#button.disabled = false;
    this.#say("");
  }

  /** No conversation open: nothing to send. */
  hide() {
    this.show({});
  }

  async #request() {
    const conversationId = this.#conversationId;
    if (conversationId == null) return;
    this.#button.disabled = true;
    try {
      const { email } = await this.#send(conversationId);
      if (conversationId === this.#conversationId) this.#say(_("We are e-mailing this conversation to {email}.", { email }));
    } catch (error) {
      if (conversationId === this.#conversationId) this.#say(ApiError.from(error).message);
    } finally {
      this.#button.disabled = false;
    }
  }

  #say(text) {
    this.#notice.textContent = text;
    this.#notice.hidden = !text;
  }
}
