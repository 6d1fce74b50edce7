/**
 * The chat page's "New conversation" and "Earlier conversations": the button that asks
 * before leaving the open conversation for a new one, and the conversations left so, each
 * a button that resumes it (for as long as its token is kept: visitor-store.js).
 */
import { _ } from "./texts.js";

/** "Conversation of 6 Dec 2026, 14:02", or by number when its start is unknown. */
export function earlierLabel({ conversationId, startedAt }, format) {
  const when = Date.parse(startedAt);
  return Number.isNaN(when)
    ? _("Conversation #{id}", { id: conversationId })
    : _("Conversation of {date}", { date: format.format(when) });
}

/** Fill `list` with a button per earlier conversation; hide `details` when there is none. */
export function renderEarlier(details, list, conversations, format) {
  const document = list.ownerDocument;
  list.replaceChildren(
    ...conversations.map((conversation) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link-button";
      button.dataset.conversationId = String(conversation.conversationId);
      button.textContent = earlierLabel(conversation, format);
      item.append(button);
      return item;
    }),
  );
  details.hidden = conversations.length === 0;
}

/** "New conversation" (asked first) and the earlier ones; the page says what each click does. */
export class ConversationSwitcher {
  #document;
  #newButton;
  #confirm;
  #earlier;
  #earlierList;
  #format;
  /** The visitor confirmed a new conversation. */
  onnew = null;
  /** The visitor picked an earlier conversation (its id). */
  onresume = null;

  /** The page's elements by id in `document`; `format` dates the earlier ones. */
  constructor(document, format) {
    const byId = (id) => document.getElementById(id);
    this.#document = document;
    this.#newButton = byId("new-conversation");
    this.#confirm = byId("new-confirm");
    this.#earlier = byId("earlier");
    this.#earlierList = byId("earlier-list");
    this.#format = format;
    this.#newButton.addEventListener("click", () => this.ask(true));
    byId("new-confirm-yes").addEventListener("click", () => this.onnew?.());
    byId("new-confirm-no").addEventListener("click", () => this.ask(false));
    this.#earlierList.addEventListener("click", (event) => {
      const id = Number(event.target.closest("button[data-conversation-id]")?.dataset.conversationId);
      if (Number.isInteger(id)) this.onresume?.(id);
    });
  }

  /** Show the confirmation (and move focus to its "yes") or put it away. */
  ask(ask) {
    this.#confirm.hidden = !ask;
    this.#newButton.setAttribute("aria-expanded", String(ask));
    if (ask) this.#document.getElementById("new-confirm-yes")?.focus();
  }

  /** Show the switch for `conversations` (the earlier ones); `offerNew`: a conversation is open. */
  show(conversations, offerNew) {
    this.#newButton.hidden = !offerNew;
    this.ask(false);
    renderEarlier(this.#earlier, this.#earlierList, conversations, this.#format);
  }
}
