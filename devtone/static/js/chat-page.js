/**
 * The customer chat page (/chat, and /embed in the widget): its pieces, put together
 * (chat.js builds it and wires the host page or the page's links).
 *
 * Config comes from `<main id="chat" data-api-base data-negotiate-url>`. The visitor (who
 * they are, their conversation, the earlier ones: visitor-store.js) lives in localStorage
 * under `devtone.visitor`, so a reload continues the same conversation; messages not yet
 * sent live in the Outbox (`devtone.outbox.<conversationId>`), so a reload while offline
 * loses none of them.
 *
 * The pre-chat form (or the host page's identify()) only says who the visitor is; the first
 * send starts the conversation (conversation-start.js). "New conversation" asks first, and
 * the one left stays under "Earlier conversations" for as long as its token is kept.
 *
 * The agent side shows as: the header's status line and the closed notice (from status
 * entries and every conversation state: history, long-poll/poll answers, SSE `conversation`
 * events), "<agent> is typing…", each message's delivery state (sending, sent, delivered,
 * seen, or not sent with Retry and Discard) and "Seen" under the latest the agent has read.
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
import { AttachmentRenderer } from "./attachments.js";
import { Composer } from "./composer.js";
import { ConversationStarter } from "./conversation-start.js";
import { ConversationSession } from "./conversation-session.js";
import { ConversationView } from "./conversation-view.js";
import { CurrentVisitor } from "./current-visitor.js";
import { MarkSender } from "./mark-sender.js";
import { ConversationSwitcher } from "./earlier-conversations.js";
import { renderGreeting, showAvailability } from "./greeting.js";
import { ConnectionIndicator } from "./indicator.js";
import { DAY_CHECK_MS, MessageList } from "./message-list.js";
import { FilePicker } from "./file-picker.js";
import { pageLocale } from "./message-times.js";
import { RatingForm } from "./rating-form.js";
import { SignedVisitor } from "./signed-visitor.js";
import { StartStep } from "./start-step.js";
import { _ } from "./texts.js";
import { TranscriptRequest } from "./transcript-request.js";
import { TypingSignal } from "./typing.js";
import { VisibleViewport } from "./visible-viewport.js";
import {
  identifiedVisitor,
  leavingConversation,
  resumingConversation,
  sameIdentity,
  validIdentity,
  validVisitor,
  visitorStore,
  withoutConversation,
} from "./visitor-store.js";

const FORGET_ON = new Set([401, 403, 404]); // the stored token no longer opens the conversation
const COULD_NOT_SEND = _("Your message could not be sent. Check your connection and retry.");
const GONE_NOTICE = _("Your previous conversation is no longer available. Start a new one.");
const LOCALE = pageLocale(document.documentElement.lang, navigator.languages ?? [navigator.language]);
const STARTED = new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeStyle: "short" });

/** The page: who the visitor is → composer → (first message) conversation, history, live. */
export class ChatPage {
  #root;
  #api;
  #negotiateUrl;
  #indicator;
  #list;
  #session = null; // the open conversation's ConversationSession
  #view; // the agent's side of it: status, typing, seen, unseen (conversation-view.js)
  #who = new CurrentVisitor(visitorStore); // the visitor's record and where it is kept
  #signed; // a signed visitor's conversations from other browsers (signed-visitor.js)
  #typing = null; // TypingSignal of the open conversation: the visitor's own typing, out
  #el;
  #composer; // the message form
  #startStep; // the pre-chat form (start-step.js)
  #greeting; // the empty conversation's greeting (greeting.js)
  #transcript; // "E-mail me this conversation" (transcript-request.js)
  #rating; // the rating asked once the conversation is closed (rating-form.js)
  #switcher; // "New conversation" and the earlier ones (earlier-conversations.js)
  #starter; // the first message starts the conversation (conversation-start.js)
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
      conversation: byId("conversation"),
      messages: byId("messages"),
      messageForm: byId("message-form"),
      closedNotice: byId("closed-notice"),
      conversationNotice: byId("conversation-notice"),
      status: byId("conversation-status"),
      typing: byId("typing"),
    };
    this.#indicator = new ConnectionIndicator(this.#el.connection);
    const [pill, greeting] = [byId("new-messages"), byId("greeting")];
    const attachments = new AttachmentRenderer({ document, load: (url) => this.#api.fetchFile(url), locale: LOCALE });
    this.#list = new MessageList(this.#el.messages, { self: "visitor", locale: LOCALE, pill, empty: greeting, attachments });
    this.#greeting = greeting;
    renderGreeting(greeting, LOCALE);
    const { status, closedNotice, messageForm, typing } = this.#el;
    this.#view = new ConversationView({
      list: this.#list,
      ...{ status, closedNotice, messageForm, typing },
      canSee: () => this.#panelOpen && document.visibilityState === "visible",
    });
    this.#startStep = new StartStep(byId("start-form"), byId("start-notice"), byId("start-away"));
    this.#startStep.onidentify = (who) => this.#identified(who);
    this.#transcript = new TranscriptRequest(byId("email-transcript"), byId("transcript-notice"), this.#api);
    this.#rating = new RatingForm(byId("rating-form"), byId("rating-thanks"));
    this.#switcher = new ConversationSwitcher(document, STARTED);
    this.#switcher.onnew = () => this.#leaveForNew();
    this.#switcher.onresume = (id) => this.#resume(id);
    this.#composer = new Composer(messageForm);
    this.#composer.onsend = (body) => this.#send(body);
    this.#composer.oninput = (text) => this.#typing?.input(text);
    const save = (record) => this.#who.save(record);
    this.#starter = new ConversationStarter({ api: this.#api, composer: this.#composer, save, couldNotSend: COULD_NOT_SEND });
    this.#signed = new SignedVisitor({ who: this.#who, starter: this.#starter });
    this.#signed.onresumed = (record) => this.#openConversation(record);
    this.#signed.onearlier = (record) => this.#switcher.show(record.earlier ?? [], Boolean(record.token));
    this.#starter.onrefused = (record, apiError) => {
      this.#showStartForm();
      this.#startStep.refused(record, apiError);
    };
    const files = new FilePicker({
      button: byId("attach-button"),
      input: byId("attach-input"),
      dropZone: this.#el.conversation,
      field: this.#composer.field,
    });
    files.onfiles = (chosen) => this.#sendFiles(chosen);
    this.#list.onretry = (clientId) => this.#session?.retry(clientId);
    this.#list.ondiscard = (clientId) => {
      this.#session?.drop(clientId);
      this.#list.removePending(clientId);
    };
  }

  /** Told the count of unseen agent messages whenever it changes; set by the embed wiring. */
  set onunseen(report) {
    this.#view.onunseen = report;
  }

  /** Told the conversation's status whenever it is shown (null: none); set by the embed wiring. */
  set onstatus(report) {
    this.#view.onstatus = report;
  }

  /** Where the visitor is kept: this page's storage, or (embedded) the host page's too. */
  set store(store) {
    this.#who.store = store;
  }

  /** Bind the forms and show whichever step the stored visitor calls for. */
  start() {
    // The negotiator retries at once on `online` too; the outbox need not wait for it.
    window.addEventListener("online", () => this.#session?.resume());
    document.addEventListener("visibilitychange", () => this.#view.markSeen());
    setInterval(() => this.#list.refreshDays(), DAY_CHECK_MS);
    new VisibleViewport().start(); // the composer stays above a phone's keyboard

    const visitor = this.#who.store.load();
    if (visitor?.token) this.#openConversation(visitor);
    else if (visitor?.name) this.#showComposer(visitor);
    else this.#showStartForm();
  }

  // ── who the visitor is ───────────────────────────────────────────────────────────────

  /** The pre-chat form: nothing is created here (a conversation starts with a message). */
  #showStartForm(notice = "") {
    this.#leaveConversation();
    this.#who.set(null);
    const { conversation, connection } = this.#el;
    conversation.hidden = true;
    connection.hidden = true; // no conversation, nothing to be connected to
    this.#switcher.show([], false);
    this.#startStep.show(notice);
    this.#focus(this.#startStep.field);
    this.#readAvailability();
  }

  /** Whether the team is there, read when the start of a conversation shows: before a
   * conversation exists the page follows no feed (unknown: the page says what it said). */
  #readAvailability() {
    const show = (found) => showAvailability(found, { startStep: this.#startStep, greeting: this.#greeting, locale: LOCALE });
    this.#api.getAvailability().then(show, () => {});
  }

  #identified({ name, email }) {
    // The stored record may hold a signed identity given before the visitor had a name.
    const record = validVisitor({ ...this.#who.known, name, email });
    this.#who.save(record);
    this.#showComposer(record);
  }

  /** The composer of a conversation not started yet: the first message starts it. */
  #showComposer(record, notice = "") {
    this.#leaveConversation();
    this.#who.set(record);
    const { conversation, connection, conversationNotice } = this.#el;
    this.#startStep.hide();
    conversation.hidden = false;
    connection.hidden = true; // connected once there is a conversation to follow
    this.#switcher.show(record.earlier ?? [], false);
    conversationNotice.textContent = notice;
    conversationNotice.hidden = !notice;
    this.#focus(this.#composer.field);
    this.#readAvailability();
  }

  /** Close the open conversation's session (its unsent messages stay stored with it). */
  #leaveConversation() {
    this.#session?.close();
    this.#session = null;
    this.#typing = null;
    this.#list.clear();
    this.#view.leave();
    this.#rating.render(null);
    this.#rating.onrate = null;
    this.#transcript.hide();
    this.#api.token = null;
  }

  // ── new and earlier conversations ───────────────────────────────────────────────────

  /** Confirmed: this conversation goes to the earlier ones, and the composer starts anew. */
  #leaveForNew() {
    const record = leavingConversation(this.#who.record);
    this.#who.save(record);
    this.#showComposer(record);
  }

  #resume(conversationId) {
    const record = resumingConversation(this.#who.record, conversationId);
    this.#who.save(record);
    this.#openConversation(record);
  }

  // ── the host page (embedded only) ───────────────────────────────────────────────────

  /**
   * Remember who the visitor is (the start form is then skipped); never starts anything.
   * With a signed identity (`id`, `hash`: docs/identity.md) the conversation the visitor
   * has open in another browser opens here, history and all; another signed-in person
   * on this browser first forgets the previous one.
   */
  identify(told = {}) {
    // Merged with what is stored: identify() may come before the page has started.
    const { forget, record, resume } = identifiedVisitor(this.#who.known, told);
    if (forget) this.reset(); // someone else signed in here: nothing of theirs is the new one's
    this.#startStep.fill({ name: told.name ?? "", email: told.email ?? "" });
    if (record) this.#who.save(record);
    if (record?.token) {
      if (this.#who.record?.token) this.#who.amend(record); // a signed id links the next ones
    } else if (record) {
      if (record.name) this.#showComposer(record);
      if (resume) this.#signed.resume(record);
    }
    const signed = (record ?? this.#who.known)?.identity;
    if (signed && sameIdentity(signed, validIdentity(told))) this.#signed.linkEarlier(signed);
  }

  /** Forget the visitor (tokens, earlier conversations) and show an empty start form. */
  reset() {
    this.#session?.discard(); // their unsent messages go with them
    this.#session = null;
    this.#who.forget();
    this.#startStep.clear();
    this.#showStartForm();
  }

  /** The widget's panel opened or closed: focus follows it into the chat. */
  setPanelOpen(open) {
    this.#panelOpen = open;
    if (!open) return;
    const target = this.#startStep.shown ? this.#startStep.field : this.#composer.field;
    this.#focus(target);
    this.#view.markSeen();
  }

  #focus(element) {
    if (this.#panelOpen) element?.focus();
  }

  /** The first message (or file): create the conversation, then `send(session)` through it. */
  async #startWith(send, { clear = true } = {}) {
    const opened = await this.#starter.start(this.#who.record, {
      language: document.documentElement.lang,
      stillCurrent: (record) => this.#who.isCurrent(record),
      resume: !this.#who.record?.fresh, // they asked for a new one: the one left stays left
    });
    if (!opened) return;
    if (clear) this.#composer.clear();
    this.#typing?.stop();
    await this.#openConversation(opened);
    if (this.#who.isCurrent(opened) && this.#session) send(this.#session);
  }

  // ── conversation ─────────────────────────────────────────────────────────────────────

  async #openConversation(visitor) {
    this.#leaveConversation(); // a previous conversation's session, status, typing, marks
    this.#who.set(visitor);
    this.#api.token = visitor.token;
    const { conversation, connection, conversationNotice } = this.#el;
    this.#startStep.hide();
    conversation.hidden = false;
    connection.hidden = false;
    conversationNotice.hidden = true;
    this.#switcher.show(visitor.earlier ?? [], true);
    this.#transcript.show(visitor);
    this.#indicator.render({ state: "connecting", tier: "none" });
    // Typing is a hint: a lost signal costs nothing, so failures are not even reported.
    const sendTyping = (typing) => this.#api.sendTyping(visitor.conversationId, typing).catch(() => {});
    this.#typing = new TypingSignal({ send: sendTyping });
    this.#view.follow(
      new MarkSender({
        send: async (marks) => {
          const answer = await this.#api.moveMarks(visitor.conversationId, marks);
          if (this.#who.isCurrent(visitor)) this.#apply(answer?.conversation);
        },
      }),
    );
    this.#rating.onrate = async (score, comment) => {
      const answer = await this.#api.rateConversation(visitor.conversationId, score, comment);
      if (this.#who.isCurrent(visitor)) this.#view.apply(answer?.conversation);
      return answer;
    };
    // What a previous page left unsent shows at once and is sent again with the same
    // client_id; a copy the server already stored turns up in the history (or the POST
    // answer) and confirms it, so nothing is shown or stored twice.
    const session = this.#createSession(visitor);
    this.#session = session;

    this.#view.opening = true;
    try {
      await session.open();
    } catch (error) {
      if (!this.#who.isCurrent(visitor)) return; // the visitor started over meanwhile
      const apiError = ApiError.from(error);
      if (FORGET_ON.has(apiError.status)) {
        this.#gone(visitor);
        return;
      }
      // The server is unreachable for now; the stream replays the backlog after the
      // cursor as well, so connect anyway and let the negotiator retry.
      this.#composer.showError(apiError.message);
    }
    if (!this.#who.isCurrent(visitor)) return;
    this.#view.opening = false;
    this.#view.reportUnseen();
    session.follow(this.#list.lastSeq);
    this.#focus(this.#composer.field);
  }

  #createSession(visitor) {
    const current = () => this.#who.isCurrent(visitor);
    return new ConversationSession({
      api: this.#api,
      conversationId: visitor.conversationId,
      base: this.#root.dataset.apiBase || "/api",
      negotiateUrl: this.#negotiateUrl,
      token: visitor.token,
      handlers: {
        entry: (message, { live }) => {
          if (this.#view.show(message) && live) this.onlivemessage?.(message);
        },
        // A status entry says what changed, not who (its author is the service): the
        // conversation says who joined. Every history page and long-poll or poll answer
        // brings it; SSE sends it after each status entry and on each change outside the
        // log (a read mark). The page never asks for it again.
        conversation: (conversation) => this.#apply(conversation),
        hello: (detail) => this.#apply(detail?.conversation),
        typing: (detail) => this.#view.typing(detail),
        state: (detail) => this.#indicator.render(detail),
        denied: () => {
          if (current()) this.#gone(visitor);
        },
        pending: ({ clientId, body }) => this.#list.addPending(clientId, body, visitor.name),
        failed: (detail) => this.#failed(detail),
      },
    });
  }

  /** A conversation state: the agent's side of it, and the rating it may ask for. */
  #apply(conversation) {
    if (!conversation) return;
    this.#view.apply(conversation);
    this.#rating.render(conversation);
  }

  /** The token no longer opens `visitor`'s conversation: let it go, keep who they are. */
  #gone(visitor) {
    if (this.#who.isCurrent(visitor)) this.#session?.discard(); // nothing of it can be sent now
    const record = withoutConversation(this.#who.record ?? visitor, visitor.conversationId);
    if (record) this.#who.save(record);
    else this.#who.forget();
    if (record?.name) this.#showComposer(record, GONE_NOTICE);
    else this.#showStartForm(GONE_NOTICE);
  }

  // ── composer ─────────────────────────────────────────────────────────────────────────

  // The composer works offline too: a message shows at once as "sending" and the outbox
  // sends it when it can (same client_id on every try, so it is stored once).
  #send(body) {
    if (!this.#who.record) return;
    if (!this.#session) {
      this.#startWith((session) => session.send(body));
      return;
    }
    this.#typing?.stop();
    this.#session.send(body);
    this.#composer.clear();
    this.#focus(this.#composer.field);
  }

  // Files are messages too: the first one starts the conversation, and each shows at once
  // as "sending" with its name (the text being typed stays in the composer).
  #sendFiles(files) {
    if (!this.#who.record) return;
    if (!this.#session) {
      this.#startWith((session) => files.forEach((file) => session.sendFile(file)), { clear: false });
      return;
    }
    for (const file of files) this.#session.sendFile(file);
  }

  #failed({ clientId, error, permanent }) {
    if (!error) {
      this.#list.markFailed(clientId); // not sent before the page was left: it still waits
      return;
    }
    const apiError = ApiError.from(error);
    if (FORGET_ON.has(apiError.status)) {
      // The token no longer opens the conversation (a 401 keeps the message queued: forget it here).
      if (this.#who.record?.token) this.#gone(this.#who.record);
      return;
    }
    this.#list.markFailed(clientId);
    this.#composer.showError(permanent ? apiError.message : COULD_NOT_SEND);
  }
}
