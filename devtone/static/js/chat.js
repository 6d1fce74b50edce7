/**
 * The customer chat page (/chat): the only module here that wires pieces together.
 *
 * Config comes from `<main id="chat" data-api-base data-negotiate-url>`. The visitor
 * ({conversationId, token, name}) lives in localStorage under `devtone.visitor`, so a
 * reload continues the same conversation.
 */
import { ApiClient, ApiError, newClientId } from "./api.js";
import { ConnectionIndicator } from "./indicator.js";
import { MessageList } from "./message-list.js";
import { TierNegotiator } from "./realtime/negotiator.js";

const STORAGE_KEY = "devtone.visitor";
const HISTORY_PAGE = 200;
const CONVERSATION_STATUSES = new Set(["waiting", "active", "closed"]);
const FORGET_ON = new Set([401, 403, 404]); // the stored token no longer opens the conversation

/** localStorage wrapped: it throws in some private modes and when storage is disabled. */
const visitorStore = {
  load() {
    try {
      const visitor = JSON.parse(localStorage.getItem(STORAGE_KEY));
      return visitor?.conversationId != null && visitor?.token ? visitor : null;
    } catch {
      return null;
    }
  },
  save(visitor) {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(visitor));
    } catch {
      // Without storage the chat still works; it just will not survive a reload.
    }
  },
  forget() {
    try {
      localStorage.removeItem(STORAGE_KEY);
    } catch {
      // Nothing stored, nothing to forget.
    }
  },
};

/** Show `message` in the form's `[data-error-for=field]` slot, or its general slot. */
function showFieldError(form, error) {
  const slots = form.querySelectorAll("[data-error-for]");
  const named = [...slots].find((slot) => error.field && slot.dataset.errorFor === error.field);
  const slot = named ?? [...slots].find((candidate) => candidate.dataset.errorFor === "");
  if (!slot) return;
  slot.textContent = error.message;
  slot.hidden = false;
  if (named) form.elements.namedItem(error.field)?.setAttribute("aria-invalid", "true");
}

function clearErrors(form) {
  for (const slot of form.querySelectorAll("[data-error-for]")) {
    slot.textContent = "";
    slot.hidden = true;
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/** The page: start form → history → live stream, and the composer. */
class ChatPage {
  #root;
  #api;
  #negotiateUrl;
  #indicator;
  #list;
  #negotiator = null;
  #visitor = null;
  #outbox = new Map(); // client_id → body, for "retry" on a failed message
  #el;

  constructor(root) {
    this.#root = root;
    this.#api = new ApiClient({ base: root.dataset.apiBase || "/api" });
    this.#negotiateUrl = root.dataset.negotiateUrl || "/api/realtime/negotiate";
    const byId = (id) => document.getElementById(id);
    this.#el = {
      connection: byId("connection"),
      startForm: byId("start-form"),
      startNotice: byId("start-notice"),
      conversation: byId("conversation"),
      messages: byId("messages"),
      messageForm: byId("message-form"),
      closedNotice: byId("closed-notice"),
      newConversation: byId("new-conversation"),
    };
    this.#indicator = new ConnectionIndicator(this.#el.connection);
    this.#list = new MessageList(this.#el.messages);
    this.#list.onretry = (clientId) => this.#resend(clientId);
  }

  /** Bind the forms and show whichever step the stored visitor calls for. */
  start() {
    const { startForm, messageForm, newConversation } = this.#el;
    startForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#startConversation();
    });
    messageForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#send();
    });
    messageForm.elements.namedItem("body").addEventListener("keydown", (event) => {
      // Enter sends, Shift+Enter is a newline; never while an IME is composing a word.
      if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
      event.preventDefault();
      this.#send();
    });
    newConversation.addEventListener("click", () => this.#showStartForm());

    const visitor = visitorStore.load();
    if (visitor) this.#openConversation(visitor);
    else this.#showStartForm();
  }

  // ── start form ───────────────────────────────────────────────────────────────────────

  #showStartForm(notice = "") {
    this.#negotiator?.close();
    this.#negotiator = null;
    this.#visitor = null;
    this.#outbox.clear();
    visitorStore.forget();
    this.#list.clear();
    this.#api.token = null;

    const { startForm, startNotice, conversation, connection, newConversation } = this.#el;
    conversation.hidden = true;
    connection.hidden = true; // no conversation, nothing to be connected to
    newConversation.hidden = true;
    startNotice.textContent = notice;
    startNotice.hidden = !notice;
    clearErrors(startForm);
    startForm.hidden = false;
    startForm.elements.namedItem("name").focus();
  }

  async #startConversation() {
    const form = this.#el.startForm;
    const submit = form.querySelector("[type=submit]");
    clearErrors(form);
    const name = form.elements.namedItem("name").value.trim();
    const email = form.elements.namedItem("email").value.trim();
    if (!name) {
      showFieldError(form, { field: "name", message: "Please tell us your name." });
      return;
    }
    submit.disabled = true;
    try {
      const { conversation, token } = await this.#api.startConversation({ name, email });
      const visitor = { conversationId: conversation.id, token, name: conversation.visitor?.name || name };
      visitorStore.save(visitor);
      form.reset();
      await this.#openConversation(visitor);
    } catch (error) {
      showFieldError(form, asApiError(error));
    } finally {
      submit.disabled = false;
    }
  }

  // ── conversation ─────────────────────────────────────────────────────────────────────

  async #openConversation(visitor) {
    this.#visitor = visitor;
    this.#api.token = visitor.token;
    const { startForm, conversation, connection, newConversation } = this.#el;
    startForm.hidden = true;
    conversation.hidden = false;
    connection.hidden = false;
    newConversation.hidden = false;
    this.#indicator.render({ state: "connecting", tier: "none" });
    this.#list.clear();
    this.#setClosed(false); // a previous conversation may have left the composer disabled

    try {
      await this.#loadHistory(visitor);
    } catch (error) {
      if (this.#visitor !== visitor) return; // the visitor started over meanwhile
      const apiError = asApiError(error);
      if (FORGET_ON.has(apiError.status)) {
        this.#showStartForm("Your previous conversation is no longer available. Start a new one.");
        return;
      }
      // The server is unreachable for now; the stream replays the backlog after the
      // cursor as well, so connect anyway and let the negotiator retry.
      this.#showComposerError(apiError.message);
    }
    if (this.#visitor !== visitor) return;
    this.#connect(visitor);
    this.#el.messageForm.elements.namedItem("body").focus();
  }

  async #loadHistory(visitor) {
    let after = 0;
    for (;;) {
      const { messages, cursor, conversation } = await this.#api.listMessages(
        visitor.conversationId,
        after,
        HISTORY_PAGE,
      );
      if (this.#visitor !== visitor) return; // the visitor started over meanwhile
      for (const message of messages) this.#show(message);
      this.#setConversationStatus(conversation?.status);
      // Stop at the end, and also if a page brings nothing new (never loop forever).
      if (!messages.length || cursor <= after || cursor >= (conversation?.last_seq ?? cursor)) return;
      after = cursor;
    }
  }

  #connect(visitor) {
    const base = this.#root.dataset.apiBase || "/api";
    const streamUrl =
      `${base.replace(/\/+$/, "")}/conversations/${encodeURIComponent(visitor.conversationId)}` +
      `/events?token=${encodeURIComponent(visitor.token)}`;
    const negotiator = new TierNegotiator({
      negotiateUrl: this.#negotiateUrl,
      streamUrl,
      cursor: this.#list.lastSeq,
    });
    negotiator.addEventListener("statechange", (event) => this.#indicator.render(event.detail));
    negotiator.addEventListener("message", (event) => this.#show(event.detail));
    this.#negotiator = negotiator;
    negotiator.start();
  }

  #show(message) {
    this.#list.upsert(message);
    if (message.client_id) this.#outbox.delete(message.client_id);
    if (message.kind === "status") this.#setConversationStatus(message.status);
  }

  #setConversationStatus(status) {
    if (CONVERSATION_STATUSES.has(status)) this.#setClosed(status === "closed");
  }

  #setClosed(closed) {
    const form = this.#el.messageForm;
    for (const control of form.elements) control.disabled = closed;
    form.classList.toggle("composer--closed", closed);
    this.#el.closedNotice.hidden = !closed;
  }

  // ── composer ─────────────────────────────────────────────────────────────────────────

  #send() {
    const textarea = this.#el.messageForm.elements.namedItem("body");
    const body = textarea.value;
    if (!this.#visitor || textarea.disabled || !body.trim()) return;
    clearErrors(this.#el.messageForm);
    const clientId = newClientId();
    this.#outbox.set(clientId, body);
    this.#list.addPending(clientId, body, this.#visitor.name);
    textarea.value = "";
    textarea.focus();
    this.#post(clientId, body);
  }

  #resend(clientId) {
    const body = this.#outbox.get(clientId);
    if (body === undefined || !this.#visitor) return;
    this.#list.addPending(clientId, body, this.#visitor.name);
    this.#post(clientId, body); // same client_id: the server stores it at most once
  }

  async #post(clientId, body) {
    const visitor = this.#visitor;
    try {
      const { message } = await this.#api.postMessage(visitor.conversationId, body, clientId);
      if (this.#visitor === visitor) this.#show(message);
    } catch (error) {
      if (this.#visitor !== visitor) return;
      const apiError = asApiError(error);
      this.#list.markFailed(clientId);
      if (apiError.status === 409) this.#setClosed(true);
      else this.#showComposerError(apiError.message);
    }
  }

  #showComposerError(message) {
    showFieldError(this.#el.messageForm, { field: "body", message });
  }
}

function asApiError(error) {
  return error instanceof ApiError ? error : new ApiError({ message: String(error?.message ?? error) });
}

const root = document.getElementById("chat");
if (root) new ChatPage(root).start();
