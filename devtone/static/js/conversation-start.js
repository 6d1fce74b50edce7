/**
 * The first message starts the conversation (chat page and widget): create it on the server
 * with who the visitor is, keep its token with the visitor, and say why when it cannot be.
 *
 * The composer is held meanwhile, so the text being sent stays put until it is queued; one
 * start at a time. A name or e-mail the server refuses goes back to the pre-chat form
 * (`onrefused`); anything else shows under the composer, and the text stays there to retry.
 * A visitor the site identified with a signed id (record.identity) may be handed the open
 * conversation they started in another browser: the server answers with that one.
 */
import { ApiError } from "./api.js";
import { withConversation } from "./visitor-store.js";

export class ConversationStarter {
  /** Told `(record, apiError)` when the server refused the visitor's name or e-mail. */
  onrefused = null;

  #api;
  #composer;
  #save;
  #couldNotSend;
  #starting = false;

  /** `save(record)` keeps the visitor; `couldNotSend` is the notice of a failed start. */
  constructor({ api, composer, save, couldNotSend }) {
    this.#api = api;
    this.#composer = composer;
    this.#save = save;
    this.#couldNotSend = couldNotSend;
  }

  /**
   * Start `record`'s conversation; the visitor record that holds it, or null when it was not
   * started (refused, failed, already starting, or `stillCurrent(record)` no longer holds).
   */
  async start(record, { language, stillCurrent, resume = true }) {
    if (this.#starting) return null;
    this.#composer.clearErrors();
    this.#starting = true;
    this.#composer.hold(true);
    try {
      const { conversation, token, identity } = await this.#api.startConversation({ ...record, language, resume });
      // The site's developer sees a hash the server did not accept (docs/identity.md).
      if (identity === "refused") console.warn("devtone: identify() hash refused; this conversation is not linked");
      if (!stillCurrent(record)) return null; // reset meanwhile
      const opened = withConversation(record, {
        id: conversation.id,
        token,
        name: conversation.visitor?.name,
        startedAt: conversation.created_at,
      });
      this.#save(opened);
      return opened;
    } catch (error) {
      const apiError = ApiError.from(error);
      if (apiError.field === "name" || apiError.field === "email") this.onrefused?.(record, apiError);
      else this.#composer.showError(apiError.message || this.#couldNotSend);
      return null;
    } finally {
      this.#starting = false;
      this.#composer.hold(false);
    }
  }

  /**
   * The conversation a signed visitor (`identity`) has open in another browser, with a
   * token of this browser's: the visitor record that holds it, or null (none open, the
   * identity not verified, or `current()` — the visitor's record now — gives null: the
   * visitor moved on meanwhile).
   */
  async resumeSigned(identity, { current }) {
    let answer;
    try {
      answer = await this.#api.resumeConversation(identity);
    } catch {
      return null; // none open (404), or the identity was not verified (403): start as usual
    }
    const record = current();
    if (!record) return null;
    const { conversation, token } = answer;
    const opened = withConversation(record, {
      id: conversation.id,
      token,
      name: conversation.visitor?.name,
      startedAt: conversation.created_at,
    });
    this.#save(opened);
    return opened;
  }

  /**
   * The signed visitor's conversations closed on other browsers that this one does not
   * hold (`known` ids), as earlier conversations ({conversationId, token, startedAt});
   * none when there are none, the identity is not verified or the request failed.
   */
  async earlierSigned(identity, known) {
    try {
      const { earlier } = await this.#api.earlierConversations(identity, known);
      return earlier.map(({ conversation, token }) => ({
        conversationId: conversation.id,
        token,
        startedAt: conversation.created_at,
      }));
    } catch {
      return []; // a lookup that failed leaves the earlier ones as they were
    }
  }
}
