/**
 * The customer chat page (/chat): the only module here that wires pieces together.
 *
 * Config comes from `<main id="chat" data-api-base data-negotiate-url>`. The visitor
 * ({conversationId, token, name}) lives in localStorage under `devtone.visitor`, so a
 * reload continues the same conversation; messages not yet sent live in the Outbox
 * (`devtone.outbox.<conversationId>`), so a reload while offline loses none of them.
 *
 * The agent side shows as: the header's status line and the closed notice (from status
 * entries and every conversation state: history, long-poll/poll answers, SSE `conversation`
 * events), "<agent> is typing…", and "Seen" under the latest message the agent has read.
 * A closed conversation keeps its composer: writing again reopens it (the server says so
 * with a status entry).
 *
 * Inside the widget (/embed, `data-embed="true"`) the same page also talks to the host page
 * through embed-bridge.js: identify/reset from the host, unread counts and new agent
 * messages to it. While the widget's panel is closed the page never takes the focus.
 */
import { ApiClient, ApiError } from "./api.js";
import { ConversationSession } from "./conversation-session.js";
import { ConversationState } from "./conversation-state.js";
import { connectEmbed } from "./embed-bridge.js";
import { clearErrors, showFieldError } from "./form-errors.js";
import { ConnectionIndicator } from "./indicator.js";
import { MessageList } from "./message-list.js";
import { TypingIndicator, TypingSignal } from "./typing.js";
import { visitorStore } from "./visitor-store.js";

const FORGET_ON = new Set([401, 403, 404]); // the stored token no longer opens the conversation
const GONE_NOTICE = "Your previous conversation is no longer available. Start a new one.";

/** The page: start form → history → live stream, and the composer. */
class ChatPage {
  #root;
  #api;
  #negotiateUrl;
  #indicator;
  #list;
  #session = null; // the open conversation's ConversationSession
  #visitor = null;
  #store = visitorStore;
  #state = new ConversationState();
  #agentTyping; // "<agent> is typing…"
  #typing = null; // TypingSignal of the open conversation: the visitor's own typing, out
  #el;
  #starting = false;
  #panelOpen; // embedded: is the widget's panel open (focus only then)
  /** Told every new entry that arrives live (not the history); set by the embed wiring. */
  onlivemessage = null;

  constructor(root) {
    this.#root = root;
    this.#panelOpen = root.dataset.embed !== "true";
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
      status: byId("conversation-status"),
      typing: byId("typing"),
    };
    this.#indicator = new ConnectionIndicator(this.#el.connection);
    this.#list = new MessageList(this.#el.messages, { self: "visitor" });
    this.#agentTyping = new TypingIndicator(this.#el.typing, { sender: "agent" });
    this.#list.onretry = (clientId) => this.#session?.retry(clientId);
  }

  /** Where the visitor is kept: this page's storage, or (embedded) the host page's too. */
  set store(store) {
    this.#store = store;
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
    const textarea = messageForm.elements.namedItem("body");
    textarea.addEventListener("keydown", (event) => {
      // Enter sends, Shift+Enter is a newline; never while an IME is composing a word.
      if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
      event.preventDefault();
      this.#send();
    });
    textarea.addEventListener("input", () => this.#typing?.input(textarea.value));
    newConversation.addEventListener("click", () => this.#showStartForm());
    // The negotiator retries at once on `online` too; the outbox need not wait for it.
    window.addEventListener("online", () => this.#session?.resume());

    const visitor = this.#store.load();
    if (visitor) this.#openConversation(visitor);
    else this.#showStartForm();
  }

  // ── start form ───────────────────────────────────────────────────────────────────────

  #showStartForm(notice = "") {
    this.#session?.discard(); // that conversation is left behind, and its unsent messages too
    this.#session = null;
    this.#visitor = null;
    this.#typing = null;
    this.#store.forget();
    this.#list.clear();
    this.#resetConversationState();
    this.#api.token = null;

    const { startForm, startNotice, conversation, connection, newConversation } = this.#el;
    conversation.hidden = true;
    connection.hidden = true; // no conversation, nothing to be connected to
    newConversation.hidden = true;
    startNotice.textContent = notice;
    startNotice.hidden = !notice;
    clearErrors(startForm);
    startForm.hidden = false;
    this.#focus(startForm.elements.namedItem("name"));
  }

  // ── the host page (embedded only) ───────────────────────────────────────────────────

  /** Prefill the start form; with no conversation yet, start one with that name at once. */
  identify({ name = "", email = "" } = {}) {
    const form = this.#el.startForm;
    if (name) form.elements.namedItem("name").value = name;
    if (email) form.elements.namedItem("email").value = email;
    if (name && !this.#visitor && !this.#starting) this.#startConversation();
  }

  /** Forget the visitor (token and unsent messages) and show an empty start form. */
  reset() {
    this.#el.startForm.reset();
    this.#showStartForm();
  }

  /** The widget's panel opened or closed: focus follows it into the chat. */
  setPanelOpen(open) {
    this.#panelOpen = open;
    if (!open) return;
    const { startForm, messageForm } = this.#el;
    const target = startForm.hidden ? messageForm.elements.namedItem("body") : startForm.elements.namedItem("name");
    this.#focus(target);
  }

  #focus(element) {
    if (this.#panelOpen) element?.focus();
  }

  async #startConversation() {
    if (this.#starting) return;
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
    this.#starting = true;
    try {
      const { conversation, token } = await this.#api.startConversation({ name, email });
      const visitor = { conversationId: conversation.id, token, name: conversation.visitor?.name || name };
      this.#store.save(visitor);
      form.reset();
      await this.#openConversation(visitor);
    } catch (error) {
      showFieldError(form, asApiError(error));
    } finally {
      submit.disabled = false;
      this.#starting = false;
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
    this.#resetConversationState(); // a previous conversation's status, typing, read mark
    this.#typing = this.#createTypingSignal(visitor);
    // What a previous page left unsent shows at once and is sent again with the same
    // client_id; a copy the server already stored turns up in the history (or the POST
    // answer) and confirms it, so nothing is shown or stored twice.
    this.#session?.close();
    const session = this.#createSession(visitor);
    this.#session = session;

    try {
      await session.open();
    } catch (error) {
      if (this.#visitor !== visitor) return; // the visitor started over meanwhile
      const apiError = asApiError(error);
      if (FORGET_ON.has(apiError.status)) {
        this.#showStartForm(GONE_NOTICE);
        return;
      }
      // The server is unreachable for now; the stream replays the backlog after the
      // cursor as well, so connect anyway and let the negotiator retry.
      this.#showComposerError(apiError.message);
    }
    if (this.#visitor !== visitor) return;
    session.follow(this.#list.lastSeq);
    this.#focus(this.#el.messageForm.elements.namedItem("body"));
  }

  #createSession(visitor) {
    const current = () => this.#visitor === visitor;
    return new ConversationSession({
      api: this.#api,
      conversationId: visitor.conversationId,
      base: this.#root.dataset.apiBase || "/api",
      negotiateUrl: this.#negotiateUrl,
      token: visitor.token,
      handlers: {
        entry: (message, { live }) => {
          if (this.#show(message) && live) this.onlivemessage?.(message);
        },
        // A status entry says what changed, not who (its author is the service): the
        // conversation says who joined. Every history page and long-poll or poll answer
        // brings it; SSE sends it after each status entry and on each change outside the
        // log (a read mark). The page never asks for it again.
        conversation: (conversation) => this.#applyConversation(conversation),
        hello: (detail) => this.#applyConversation(detail?.conversation),
        typing: (detail) => this.#agentTyping.update(detail),
        state: (detail) => this.#indicator.render(detail),
        denied: () => {
          if (current()) this.#showStartForm(GONE_NOTICE);
        },
        pending: ({ clientId, body }) => this.#list.addPending(clientId, body, visitor.name),
        failed: (detail) => this.#failed(detail),
      },
    });
  }

  #createTypingSignal(visitor) {
    return new TypingSignal({
      // Typing is a hint: a lost signal costs nothing, so failures are not even reported.
      send: (typing) => this.#api.sendTyping(visitor.conversationId, typing).catch(() => {}),
    });
  }

  #show(message) {
    const fresh = this.#list.upsert(message);
    if (!fresh) return false; // shown already: the POST answer and the stream both bring it
    this.#agentTyping.message(message);
    if (this.#state.applyEntry(message)) this.#renderConversationState();
    this.#list.markSeen(this.#state.readSeq);
    return true;
  }

  #applyConversation(conversation) {
    if (this.#state.applyConversation(conversation)) this.#renderConversationState();
    this.#list.markSeen(this.#state.readSeq);
  }

  #resetConversationState() {
    this.#state.reset();
    this.#agentTyping.hide();
    this.#renderConversationState();
  }

  // A closed conversation keeps its composer: the visitor's next message reopens it.
  #renderConversationState() {
    const { status, closedNotice, messageForm } = this.#el;
    status.textContent = this.#state.line;
    status.hidden = !this.#state.status;
    closedNotice.hidden = this.#state.status !== "closed";
    messageForm.classList.toggle("composer--closed", this.#state.status === "closed");
  }

  // ── composer ─────────────────────────────────────────────────────────────────────────

  // The composer works offline too: a message shows at once as "sending" and the outbox
  // sends it when it can (same client_id on every try, so it is stored once).
  #send() {
    const textarea = this.#el.messageForm.elements.namedItem("body");
    const body = textarea.value;
    if (!this.#visitor || !this.#session || textarea.disabled || !body.trim()) return;
    clearErrors(this.#el.messageForm);
    this.#typing?.stop();
    this.#session.send(body);
    textarea.value = "";
    this.#focus(textarea);
  }

  #failed({ clientId, error, permanent }) {
    const apiError = asApiError(error);
    if (FORGET_ON.has(apiError.status)) {
      // The token no longer opens the conversation (a 401 keeps the message queued: forget it here).
      this.#showStartForm(GONE_NOTICE);
      return;
    }
    this.#list.markFailed(clientId);
    if (permanent) this.#showComposerError(apiError.message);
    else this.#showComposerError("Your message could not be sent. Check your connection and retry.");
  }

  #showComposerError(message) {
    showFieldError(this.#el.messageForm, { field: "body", message });
  }
}

function asApiError(error) {
  return error instanceof ApiError ? error : new ApiError({ message: String(error?.message ?? error) });
}

const root = document.getElementById("chat");
if (root) {
  const page = new ChatPage(root);
  // Embedded: the bridge is on only for a host origin the server allowed (else null).
  const hostOrigin = root.dataset.hostOrigin || "";
  const embed =
    root.dataset.embed === "true" ? connectEmbed({ page, hostOrigin, ownStore: visitorStore }) : null;
  if (embed) {
    page.onlivemessage = (message) => embed.message(message);
    page.store = embed.store;
    embed.ready().then(() => page.start()); // after the host handed back the visitor
  } else {
    page.start();
  }
}
