/**
 * TranscriptView: the dashboard's open conversation — its header (visitor, status, agent),
 * the actions (assign to me; for admins assign to another agent; close), the messages
 * (a MessageList seen from the agent's side), the visitor's typing line and the reply
 * composer (Enter sends, Shift+Enter is a newline), whose toggle switches between a reply
 * and a private note (only agents see it; it may be written in a closed conversation).
 *
 * Never touches the network: it reports what the agent does through callbacks, and the
 * page decides. User text only through textContent.
 */
import { AttachmentRenderer } from "./attachments.js";
import { FilePicker } from "./file-picker.js";
import { MessageList } from "./message-list.js";
import { pageLocale } from "./message-times.js";
import { _ } from "./texts.js";
import { TypingIndicator } from "./typing.js";

/** What a conversation's status badge says. */
const STATUS_LABELS = Object.freeze({
  waiting: _("Waiting"),
  active: _("Active"),
  closed: _("Closed"),
});

/** The open conversation's panel. */
export class TranscriptView {
  /** Called with null (to me) or another agent's id when the agent assigns. */
  onassign = null;
  /** Called when the agent closes the conversation (the close button). */
  onfinish = null;
  /** Called when the agent dismisses the panel (its close button). */
  ondismiss = null;
  /** Called with the body and its kind ("text" or "note") when the agent sends. */
  onreply = null;
  /** Called with the composer's text on every change (typing out). */
  oninput = null;
  /** Called with the files the agent attaches (button, drop, pasted image). */
  onfiles = null;

  /** The messages of the open conversation. */
  messages;
  /** The visitor's "is typing…" line. */
  typing;

  #el;
  #isAdmin;
  #closed = false;
  #files;

  /**
   * `document` holds the transcript's elements (by id); `isAdmin` shows the assign-to
   * select; `loadFile(url)` resolves to an attachment's Blob.
   */
  constructor(document, { isAdmin = false, loadFile = () => Promise.reject(new Error("no loader")) } = {}) {
    const byId = (id) => document.getElementById(id);
    this.#el = {
      root: byId("transcript"),
      visitor: byId("transcript-visitor"),
      email: byId("transcript-email"),
      status: byId("transcript-status"),
      agent: byId("transcript-agent"),
      rating: byId("transcript-rating"),
      assign: byId("assign-button"),
      assignOther: byId("assign-other"),
      assignSelect: byId("assign-select"),
      assignSelectButton: byId("assign-select-button"),
      finish: byId("close-button"),
      dismiss: byId("transcript-dismiss"),
      error: byId("transcript-error"),
      form: byId("reply-form"),
      body: byId("reply-body"),
      replyError: byId("reply-error"),
      noteToggle: byId("reply-as-note"),
      attach: byId("reply-attach"),
      attachInput: byId("reply-attach-input"),
    };
    this.#isAdmin = isAdmin;
    const navigator = document.defaultView?.navigator;
    const locale = pageLocale(document.documentElement?.lang, navigator?.languages ?? []);
    this.messages = new MessageList(byId("transcript-messages"), {
      self: "agent",
      locale,
      pill: byId("transcript-new-messages"),
      attachments: new AttachmentRenderer({ document, load: loadFile, locale }),
    });
    this.#files = new FilePicker({
      button: this.#el.attach,
      input: this.#el.attachInput,
      dropZone: this.#el.root,
      field: this.#el.body,
    });
    this.#files.onfiles = (files) => this.onfiles?.(files);
    this.typing = new TypingIndicator(byId("transcript-typing"), { sender: "visitor" });
    this.#bind();
  }

  /** The id of the open conversation, or null. */
  get conversationId() {
    return this.#el.root.hidden ? null : (this.#el.root.dataset.conversationId ?? null);
  }

  /** Show an empty panel for `conversation` (its messages come next). */
  open(conversation) {
    const { root, body } = this.#el;
    this.messages.clear();
    this.typing.hide();
    this.clearError();
    body.value = "";
    root.dataset.conversationId = String(conversation.id);
    root.hidden = false;
    this.render(conversation, { mine: false });
    // On a narrow screen the panel sits below the list: bring it into view.
    root.scrollIntoView?.({ block: "nearest" });
  }

  /** Show the conversation's current state; `mine` hides "Assign to me". */
  render(conversation, { mine }) {
    const el = this.#el;
    const closed = conversation.status === "closed";
    el.visitor.textContent = conversation.visitor?.name || _("Visitor");
    el.email.textContent = conversation.visitor?.email ?? "";
    el.email.hidden = !conversation.visitor?.email;
    el.status.textContent = STATUS_LABELS[conversation.status] ?? conversation.status ?? "";
    el.status.dataset.status = conversation.status ?? "";
    const agent = conversation.agent?.name;
    el.agent.textContent = !agent ? _("Unassigned") : mine ? _("Assigned to you") : _("Assigned to {name}", { name: agent });
    this.#renderRating(conversation.rating);
    el.assign.hidden = mine || closed;
    if (el.assignOther) el.assignOther.hidden = !this.#isAdmin || closed;
    el.finish.hidden = closed;
    this.#closed = closed;
    this.#showMode();
  }

  /** Whether the composer writes a private note (the toggle is on). */
  get writingNote() {
    return Boolean(this.#el.noteToggle?.checked);
  }

  // The composer's look and state for a reply or a note. The server refuses replies to a
  // closed conversation (409), so say so before typing; a note may still be written there.
  #showMode() {
    const el = this.#el;
    const note = this.writingNote;
    const blocked = this.#closed && !note;
    el.form.classList.toggle("composer--note", note);
    el.body.disabled = blocked;
    const submit = el.form.querySelector("[type=submit]");
    submit.disabled = blocked;
    // A file is a message to the visitor, never a note: no attaching while writing one.
    el.attach.disabled = blocked || note;
    this.#files.enabled = !blocked && !note;
    submit.textContent = note ? _("Add note") : _("Send");
    el.body.placeholder = note
      ? _("Private note: only agents see it. @name alerts a teammate.")
      : blocked
        ? _("This conversation is closed")
        : _("Reply… (Enter sends, Shift+Enter for a new line)");
  }

  /** The visitor's rating of this closing: stars, "Rated 4 out of 5", and their comment. */
  #renderRating(rating) {
    const line = this.#el.rating;
    if (!line) return;
    const text = rating ? _("Rated {score} out of 5", { score: rating.score }) : "";
    const comment = rating?.comment ? ` — “${rating.comment}”` : "";
    line.dataset.score = String(rating?.score ?? "");
    line.hidden = !rating;
    if (!rating) {
      line.replaceChildren();
      return;
    }
    const stars = line.ownerDocument.createElement("span");
    stars.className = "transcript__rating-stars";
    stars.setAttribute("aria-hidden", "true");
    stars.textContent = `${"★".repeat(rating.score)}${"☆".repeat(5 - rating.score)} `;
    line.replaceChildren(stars, text + comment);
  }

  /** Hide the panel and forget its conversation. */
  close() {
    const { root } = this.#el;
    root.hidden = true;
    delete root.dataset.conversationId;
    this.messages.clear();
    this.typing.hide();
  }

  /** Fill the admin's assign-to select with the active agents. */
  setAgents(agents) {
    const select = this.#el.assignSelect;
    if (!select) return;
    const document = select.ownerDocument;
    select.replaceChildren(
      ...agents
        .filter((agent) => agent.active !== false)
        .map((agent) => {
          const option = document.createElement("option");
          option.value = String(agent.id);
          option.textContent = agent.name;
          return option;
        }),
    );
  }

  /** Show an action's failure (assign, close) above the messages. */
  showError(message) {
    this.#el.error.textContent = message;
    this.#el.error.hidden = false;
  }

  /** Show a reply's failure under the composer. */
  showReplyError(message) {
    this.#el.replyError.textContent = message;
    this.#el.replyError.hidden = false;
  }

  /** Hide both error lines. */
  clearError() {
    for (const element of [this.#el.error, this.#el.replyError]) {
      element.textContent = "";
      element.hidden = true;
    }
  }

  /** Whether the composer holds text the agent has not sent. */
  get hasDraft() {
    return this.#el.body.value.trim() !== "";
  }

  /** What the composer holds, not sent: `{text, kind}` ("note" while the toggle is on). */
  get draft() {
    return { text: this.#el.body.value, kind: this.writingNote ? "note" : "text" };
  }

  /** Put a draft kept from an ended session back, a note as a note. */
  restoreDraft({ text, kind }) {
    if (!text) return;
    this.#el.body.value = text;
    if (this.#el.noteToggle) {
      this.#el.noteToggle.checked = kind === "note";
      this.#showMode();
    }
  }

  /** Put the cursor in the composer. */
  focusComposer() {
    if (!this.#el.body.disabled) this.#el.body.focus();
  }

  #bind() {
    const el = this.#el;
    el.assign.addEventListener("click", () => this.onassign?.(null));
    el.assignSelectButton?.addEventListener("click", () => {
      if (el.assignSelect.value) this.onassign?.(el.assignSelect.value);
    });
    el.finish.addEventListener("click", () => this.onfinish?.());
    el.dismiss?.addEventListener("click", () => this.ondismiss?.());
    el.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#reply();
    });
    el.body.addEventListener("keydown", (event) => {
      // Enter sends, Shift+Enter is a newline; never while an IME is composing a word.
      if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
      event.preventDefault();
      this.#reply();
    });
    // Typing a note is nothing the visitor may hear of.
    el.body.addEventListener("input", () => this.oninput?.(this.writingNote ? "" : el.body.value));
    el.noteToggle?.addEventListener("change", () => {
      this.#showMode();
      this.oninput?.(this.writingNote ? "" : el.body.value);
      if (!el.body.disabled) el.body.focus();
    });
  }

  #reply() {
    const body = this.#el.body.value;
    if (this.#el.body.disabled || !body.trim()) return;
    this.#el.replyError.hidden = true;
    // A reply the page cannot take (the session ended) stays in the composer.
    if (this.onreply?.(body, this.writingNote ? "note" : "text") === false) return;
    this.#el.body.value = "";
    this.#el.body.focus();
  }
}
