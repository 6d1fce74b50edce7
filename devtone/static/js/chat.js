/**
 * The customer chat page (/chat): the only module here that wires pieces together.
 *
 * Config comes from `<main id="chat" data-api-base data-negotiate-url>`. The visitor (who
 * they are, their conversation, the earlier ones: visitor-store.js) lives in localStorage
 * under `devtone.visitor`, so a reload continues the same conversation; messages not yet
 * sent live in the Outbox (`devtone.outbox.<conversationId>`), so a reload while offline
 * loses none of them.
 *
 * A conversation starts with its first message: the pre-chat form (or the host page's
 * identify()) only says who the visitor is, and the first send creates the conversation.
 * "New conversation" asks first, and the one left stays reachable under "Earlier
 * conversations" for as long as its token is kept.
 *
 * The agent side shows as: the header's status line and the closed notice (from status
 * entries and every conversation state: history, long-poll/poll answers, SSE `conversation`
 * events), "<agent> is typing…", and "Seen" under the latest message the agent has read.
 * A closed conversation keeps its composer: writing again reopens it (the server says so
 * with a status entry).
 *
 * Inside the widget (/embed, `data-embed="true"`) the same page also talks to the host page
 * through embed-bridge.js: identify/reset from the host, the count of unseen agent messages
 * (from the visitor's seen mark on the server, which this page moves while the visitor can
 * see the conversation) and new agent messages to it. While the widget's panel is closed
 * the page never takes the focus and marks nothing seen.
 */
import { ApiClient, ApiError } from "./api.js";
import { ConversationSession } from "./conversation-session.js";
import { ConversationState } from "./conversation-state.js";
import { connectEmbed } from "./embed-bridge.js";
import { clearErrors, showFieldError } from "./form-errors.js";
import { ConnectionIndicator } from "./indicator.js";
import { MessageList } from "./message-list.js";
import { ReadMarker } from "./read-marker.js";
import { TypingIndicator, TypingSignal } from "./typing.js";
import { UnseenMessages } from "./unseen.js";
import {
  leavingConversation,
  resumingConversation,
  validVisitor,
  visitorStore,
  withConversation,
  withoutConversation,
} from "./visitor-store.js";

const FORGET_ON = new Set([401, 403, 404]); // the stored token no longer opens the conversation
const GONE_NOTICE = "Your previous conversation is no longer available. Start a new one.";
const STARTED = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** The page: who the visitor is → composer → (first message) conversation, history, live. */
class ChatPage {
  #root;
  #api;
  #negotiateUrl;
  #indicator;
  #list;
  #session = null; // the open conversation's ConversationSession
  #visitor = null; // the visitor's record (visitor-store.js): null until they say who they are
  #seenMarker = null; // moves the visitor's seen mark on the open conversation
  #unseen = new UnseenMessages();
  #store = visitorStore;
  #state = new ConversationState();
  #agentTyping; // "<agent> is typing…"
  #typing = null; // TypingSignal of the open conversation: the visitor's own typing, out
  #el;
  #starting = false;
  #opening = false; // reading the history: the unseen count waits for the conversation's marks
  #panelOpen; // embedded: is the widget's panel open (focus only then)
  /** Told every new entry that arrives live (not the history); set by the embed wiring. */
  onlivemessage = null;
  /** Told the count of unseen agent messages whenever it changes; set by the embed wiring. */
  onunseen = null;

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
      newConfirm: byId("new-confirm"),
      conversationNotice: byId("conversation-notice"),
      earlier: byId("earlier"),
      earlierList: byId("earlier-list"),
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
      this.#identifyFromForm();
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
    newConversation.addEventListener("click", () => this.#askNewConversation(true));
    document.getElementById("new-confirm-yes").addEventListener("click", () => this.#leaveForNew());
    document.getElementById("new-confirm-no").addEventListener("click", () => this.#askNewConversation(false));
    this.#el.earlierList.addEventListener("click", (event) => {
      const id = Number(event.target.closest("button[data-conversation-id]")?.dataset.conversationId);
      if (Number.isInteger(id)) this.#resume(id);
    });
    // The negotiator retries at once on `online` too; the outbox need not wait for it.
    window.addEventListener("online", () => this.#session?.resume());
    document.addEventListener("visibilitychange", () => this.#markSeen());

    const visitor = this.#store.load();
    if (visitor?.token) this.#openConversation(visitor);
    else if (visitor?.name) this.#showComposer(visitor);
    else this.#showStartForm();
  }

  // ── who the visitor is ───────────────────────────────────────────────────────────────

  /** The pre-chat form: nothing is created here (a conversation starts with a message). */
  #showStartForm(notice = "") {
    this.#leaveConversation();
    this.#visitor = null;
    const { startForm, startNotice, conversation, connection, newConversation } = this.#el;
    conversation.hidden = true;
    connection.hidden = true; // no conversation, nothing to be connected to
    newConversation.hidden = true;
    this.#askNewConversation(false);
    startNotice.textContent = notice;
    startNotice.hidden = !notice;
    clearErrors(startForm);
    startForm.hidden = false;
    this.#focus(startForm.elements.namedItem("name"));
  }

  #identifyFromForm() {
    const form = this.#el.startForm;
    clearErrors(form);
    const name = form.elements.namedItem("name").value.trim();
    const email = form.elements.namedItem("email").value.trim();
    if (!name) {
      showFieldError(form, { field: "name", message: "Please tell us your name." });
      return;
    }
    const record = validVisitor({ ...this.#visitor, name, email });
    this.#store.save(record);
    this.#showComposer(record);
  }

  /** The composer of a conversation not started yet: the first message starts it. */
  #showComposer(record, notice = "") {
    this.#leaveConversation();
    this.#visitor = record;
    const { startForm, conversation, connection, newConversation, conversationNotice } = this.#el;
    startForm.hidden = true;
    conversation.hidden = false;
    connection.hidden = true; // connected once there is a conversation to follow
    newConversation.hidden = true;
    this.#askNewConversation(false);
    conversationNotice.textContent = notice;
    conversationNotice.hidden = !notice;
    this.#renderEarlier();
    this.#focus(this.#el.messageForm.elements.namedItem("body"));
  }

  /** Close the open conversation's session (its unsent messages stay stored with it). */
  #leaveConversation() {
    this.#opening = false;
    this.#session?.close();
    this.#session = null;
    this.#seenMarker?.close();
    this.#seenMarker = null;
    this.#typing = null;
    this.#list.clear();
    this.#resetConversationState();
    this.#unseen.reset();
    this.#reportUnseen();
    this.#api.token = null;
  }

  // ── new and earlier conversations ───────────────────────────────────────────────────

  #askNewConversation(ask) {
    const { newConfirm, newConversation } = this.#el;
    newConfirm.hidden = !ask;
    newConversation.setAttribute("aria-expanded", String(ask));
    if (ask) this.#focus(document.getElementById("new-confirm-yes"));
  }

  /** Confirmed: this conversation goes to the earlier ones, and the composer starts anew. */
  #leaveForNew() {
    const record = leavingConversation(this.#visitor);
    this.#store.save(record);
    this.#showComposer(record);
  }

  #resume(conversationId) {
    const record = resumingConversation(this.#visitor, conversationId);
    this.#store.save(record);
    this.#openConversation(record);
  }

  #renderEarlier() {
    const { earlier, earlierList } = this.#el;
    const conversations = this.#visitor?.earlier ?? [];
    earlierList.replaceChildren(
      ...conversations.map(({ conversationId, startedAt }) => {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "link-button";
        button.dataset.conversationId = String(conversationId);
        const when = Date.parse(startedAt);
        button.textContent = Number.isNaN(when)
          ? `Conversation #${conversationId}`
          : `Conversation of ${STARTED.format(when)}`;
        item.append(button);
        return item;
      }),
    );
    earlier.hidden = conversations.length === 0;
  }

  // ── the host page (embedded only) ───────────────────────────────────────────────────

  /** Remember who the visitor is (the start form is then skipped); never starts anything. */
  identify({ name = "", email = "" } = {}) {
    const form = this.#el.startForm;
    if (name) form.elements.namedItem("name").value = name;
    if (email) form.elements.namedItem("email").value = email;
    // Merged with what is stored: identify() may come before the page has started.
    const current = this.#visitor ?? this.#store.load();
    if (!name || current?.token) return; // in a conversation: it already has its name
    const record = validVisitor({ ...current, name, email });
    this.#store.save(record);
    this.#showComposer(record);
  }

  /** Forget the visitor (tokens, earlier conversations) and show an empty start form. */
  reset() {
    this.#session?.discard(); // their unsent messages go with them
    this.#session = null;
    this.#store.forget();
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
    this.#markSeen();
  }

  #focus(element) {
    if (this.#panelOpen) element?.focus();
  }

  /** The first message: create the conversation, then send it through its outbox. */
  async #startWith(body) {
    if (this.#starting) return;
    const record = this.#visitor;
    const { messageForm, startForm } = this.#el;
    const textarea = messageForm.elements.namedItem("body");
    const submit = messageForm.querySelector("[type=submit]");
    clearErrors(messageForm);
    this.#starting = true;
    textarea.readOnly = true; // what is being sent stays put until it is queued
    submit.disabled = true;
    let opened = null;
    try {
      const { conversation, token } = await this.#api.startConversation({ name: record.name, email: record.email });
      if (this.#visitor !== record) return; // reset meanwhile
      opened = withConversation(record, {
        id: conversation.id,
        token,
        name: conversation.visitor?.name,
        startedAt: conversation.created_at,
      });
      this.#store.save(opened);
    } catch (error) {
      const apiError = asApiError(error);
      if (apiError.field === "name" || apiError.field === "email") {
        this.#showStartForm();
        startForm.elements.namedItem("name").value = record.name ?? "";
        startForm.elements.namedItem("email").value = record.email ?? "";
        showFieldError(startForm, apiError);
      } else {
        this.#showComposerError(apiError.message || "Your message could not be sent. Check your connection and retry.");
      }
      return;
    } finally {
      this.#starting = false;
      textarea.readOnly = false;
      submit.disabled = false;
    }
    textarea.value = "";
    this.#typing?.stop();
    await this.#openConversation(opened);
    if (this.#visitor === opened) this.#session?.send(body);
  }

  // ── conversation ─────────────────────────────────────────────────────────────────────

  async #openConversation(visitor) {
    this.#leaveConversation(); // a previous conversation's session, status, typing, marks
    this.#visitor = visitor;
    this.#api.token = visitor.token;
    const { startForm, conversation, connection, newConversation, conversationNotice } = this.#el;
    startForm.hidden = true;
    conversation.hidden = false;
    connection.hidden = false;
    newConversation.hidden = false;
    conversationNotice.hidden = true;
    this.#askNewConversation(false);
    this.#renderEarlier();
    this.#indicator.render({ state: "connecting", tier: "none" });
    this.#typing = this.#createTypingSignal(visitor);
    this.#seenMarker = new ReadMarker({
      send: async (seq) => {
        const answer = await this.#api.markRead(visitor.conversationId, seq);
        if (this.#visitor === visitor) this.#applyConversation(answer?.conversation);
      },
    });
    // What a previous page left unsent shows at once and is sent again with the same
    // client_id; a copy the server already stored turns up in the history (or the POST
    // answer) and confirms it, so nothing is shown or stored twice.
    const session = this.#createSession(visitor);
    this.#session = session;

    this.#opening = true;
    try {
      await session.open();
    } catch (error) {
      if (this.#visitor !== visitor) return; // the visitor started over meanwhile
      const apiError = asApiError(error);
      if (FORGET_ON.has(apiError.status)) {
        this.#gone(visitor);
        return;
      }
      // The server is unreachable for now; the stream replays the backlog after the
      // cursor as well, so connect anyway and let the negotiator retry.
      this.#showComposerError(apiError.message);
    }
    if (this.#visitor !== visitor) return;
    this.#opening = false;
    this.#reportUnseen();
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
          if (current()) this.#gone(visitor);
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

  /** The token no longer opens `visitor`'s conversation: let it go, keep who they are. */
  #gone(visitor) {
    if (this.#visitor === visitor) this.#session?.discard(); // nothing of it can be sent now
    const record = withoutConversation(this.#visitor ?? visitor, visitor.conversationId);
    if (record) this.#store.save(record);
    else this.#store.forget();
    if (record?.name) this.#showComposer(record, GONE_NOTICE);
    else this.#showStartForm(GONE_NOTICE);
  }

  #show(message) {
    const fresh = this.#list.upsert(message);
    if (!fresh) return false; // shown already: the POST answer and the stream both bring it
    this.#agentTyping.message(message);
    if (this.#state.applyEntry(message)) this.#renderConversationState();
    this.#list.markSeen(this.#state.readSeq);
    if (this.#unseen.add(message)) this.#reportUnseen();
    this.#markSeen();
    return true;
  }

  #applyConversation(conversation) {
    if (!conversation) return;
    if (this.#state.applyConversation(conversation)) this.#renderConversationState();
    this.#list.markSeen(this.#state.readSeq);
    const seen = conversation.marks?.visitor?.seen;
    this.#seenMarker?.acknowledge(seen);
    if (this.#unseen.seenUpTo(seen)) this.#reportUnseen();
  }

  /** The visitor can see the conversation: everything shown is seen (the badge goes at
   *  once; the mark follows in one POST per burst). */
  #markSeen() {
    if (!this.#seenMarker || !this.#panelOpen || document.visibilityState !== "visible") return;
    const seq = this.#list.lastSeq;
    if (!seq) return;
    this.#seenMarker.seen(seq);
    if (this.#unseen.seenUpTo(seq)) this.#reportUnseen();
  }

  #reportUnseen() {
    if (!this.#opening) this.onunseen?.(this.#unseen.count);
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
    if (!this.#visitor || textarea.disabled || textarea.readOnly || !body.trim()) return;
    if (!this.#session) {
      this.#startWith(body);
      return;
    }
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
      if (this.#visitor?.token) this.#gone(this.#visitor);
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
    page.onunseen = (count) => embed.unseen(count);
    page.store = embed.store;
    embed.ready().then(() => page.start()); // after the host handed back the visitor
  } else {
    page.start();
  }
}
