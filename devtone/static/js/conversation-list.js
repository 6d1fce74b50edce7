/**
 * ConversationListView: the dashboard's filter buttons and its list of conversations.
 *
 * Renders what it is given (the page asks the DashboardStore for it) and reports what the
 * agent does: `onfilter(filter)` when a filter button is pressed, `onopen(id)` when a
 * conversation is opened (click, or Enter on the selected one). The selection moves with
 * ArrowUp/ArrowDown (Home/End to the ends) and is shown by `aria-selected`; the open one
 * carries `aria-current`. Never touches the network; user text only through textContent.
 *
 * Each item is `<li data-conversation-id data-status data-unread data-reply tabindex>`
 * (`data-reply="unseen"`: the visitor has not seen the last reply); items are kept
 * per id and only moved when the order changes, so focus and selection survive updates.
 */

import { labelChips } from "./labels-view.js";
import { _, language, ngettext } from "./texts.js";

const PREVIEW_CHARS = 80;

/** What a conversation's status badge says. */
const STATUS_LABELS = Object.freeze({
  waiting: _("Waiting"),
  active: _("Active"),
  closed: _("Closed"),
});

/** `text` cut to `max` characters (by code point, so no emoji is split), with "…". */
export function truncate(text, max = PREVIEW_CHARS) {
  const chars = Array.from(String(text ?? "").replace(/\s+/g, " ").trim());
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : chars.join("");
}

/** "20:01" for today, else "24 Nov" ("24 de nov." in pt-BR); "" when the instant does not parse. */
export function shortTime(iso, now = new Date(), locale = language()) {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return "";
  const sameDay = date.toDateString() === now.toDateString();
  return sameDay
    ? date.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleDateString(locale, { day: "numeric", month: "short" });
}

/** Who answers for the team: agents, and bots (API tokens) posting under their own name. */
const TEAM_SENDERS = new Set(["agent", "bot"]);

/** The preview line of a conversation's last message ("Ada: On my way" for an agent's). */
export function previewOf(conversation) {
  const last = conversation?.last_message;
  if (!last) return _("No messages yet");
  const body = truncate(last.body ?? "");
  return TEAM_SENDERS.has(last.sender) && last.kind !== "status" && last.author?.name ? `${last.author.name}: ${body}` : body;
}

/** Whether the conversation's last message is an agent's reply the visitor has not seen. */
export function replyUnseen(conversation) {
  const last = conversation?.last_message;
  if (!TEAM_SENDERS.has(last?.sender) || last.kind !== "text" || !Number.isInteger(last.seq)) return false;
  const seen = conversation.marks?.visitor?.seen;
  return last.seq > (Number.isInteger(seen) ? seen : 0);
}

/** The filter buttons and the conversation list of the dashboard. */
export class ConversationListView {
  /** Called with the filter name when a filter button is pressed. */
  onfilter = null;
  /** Called with a conversation id when the agent opens it. */
  onopen = null;

  #ul;
  #buttons;
  #document;
  #formatTime;
  #items = new Map(); // String(id) → <li>
  #order = []; // String(id) in the order shown
  #selected = null; // String(id) of the selected item
  #emptyText;
  #colourOf = () => null; // a label's colour, by name

  /** `list` is the <ul>, `filterButtons` the `[data-filter]` buttons; `formatTime(iso)` is injectable. */
  constructor({ list, filterButtons, document = list.ownerDocument, formatTime = shortTime } = {}) {
    this.#ul = list;
    this.#buttons = [...filterButtons];
    this.#document = document;
    this.#formatTime = formatTime;
    this.#emptyText = list.dataset.emptyText || "No conversations here.";
    for (const button of this.#buttons) {
      button.addEventListener("click", () => this.onfilter?.(button.dataset.filter));
    }
    list.addEventListener("keydown", (event) => this.#keydown(event));
    // Tabbing into the list (or clicking a row) lands on a row: that row is the selection,
    // so the arrows move on from where the focus is, as in any listbox.
    list.addEventListener("focusin", (event) => {
      const li = event.target.closest?.("li[data-conversation-id]");
      if (li && li.dataset.conversationId !== this.#selected) this.#select(li.dataset.conversationId, false);
    });
    list.addEventListener("click", (event) => {
      const li = event.target.closest?.("li[data-conversation-id]");
      if (!li) return;
      this.#select(li.dataset.conversationId, false);
      this.onopen?.(li.dataset.conversationId);
    });
  }

  /**
   * Show `conversations` (in order, each with its `unread`), the filter `counts`, the
   * current `filter` and the `openId`.
   */
  render({ conversations, counts, filter, openId = null, isMine = () => false, colourOf = () => null }) {
    this.#colourOf = colourOf;
    for (const button of this.#buttons) {
      button.setAttribute("aria-pressed", String(button.dataset.filter === filter));
      const count = button.querySelector("[data-count]");
      if (count) count.textContent = String(counts?.[button.dataset.filter] ?? 0);
    }
    const ids = [];
    const shown = new Set();
    for (const { conversation, unread } of conversations) {
      const id = String(conversation.id);
      if (shown.has(id)) continue; // each conversation once, whatever the caller sends
      shown.add(id);
      ids.push(id);
      const li = this.#items.get(id) ?? this.#create(id);
      this.#fill(li, conversation, unread, isMine(conversation));
      li.setAttribute("aria-current", String(id === String(openId)));
    }
    this.#place(ids, shown);
    if (!shown.has(this.#selected)) this.#selected = shown.has(String(openId)) ? String(openId) : null;
    this.#renderSelection();
  }

  #create(id) {
    const li = this.#document.createElement("li");
    li.className = "conversation-item";
    li.dataset.conversationId = id;
    li.setAttribute("role", "option");
    this.#items.set(id, li);
    return li;
  }

  #fill(li, conversation, unread, mine) {
    const status = String(conversation.status ?? "");
    li.dataset.status = status;
    li.dataset.unread = String(unread);
    const when = conversation.last_message?.created_at ?? conversation.updated_at ?? conversation.created_at;
    const agent = conversation.agent?.name ? (mine ? _("You") : conversation.agent.name) : _("Unassigned");
    const time = this.#element("time", "conversation-item__time", this.#formatTime(when));
    if (when) time.setAttribute("datetime", when);
    const badge = this.#element("span", "unread-badge", String(unread));
    badge.hidden = unread <= 0;
    badge.setAttribute("aria-label", ngettext("{count} unread message", "{count} unread messages", unread));
    const unseen = replyUnseen(conversation);
    li.dataset.reply = unseen ? "unseen" : "";
    const reply = this.#element("span", "conversation-item__reply", _("Reply not seen yet"));
    reply.hidden = !unseen;
    li.replaceChildren(
      this.#element("span", "conversation-item__name", conversation.visitor?.name || _("Visitor")),
      time,
      this.#element("span", `status-badge status-badge--${status}`, STATUS_LABELS[status] ?? status),
      this.#element("span", "conversation-item__agent", agent),
      this.#element("span", "conversation-item__preview", previewOf(conversation)),
      reply,
      badge,
    );
    const chips = labelChips(this.#document, conversation.labels, this.#colourOf);
    if (chips) li.append(chips);
  }

  /** Put the items for `ids` in that order, moving only what is out of place. */
  #place(ids, shown) {
    for (const [id, li] of this.#items) {
      if (!shown.has(id)) {
        li.remove();
        this.#items.delete(id);
      }
    }
    this.#ul.querySelector(":scope > .conversation-list__empty")?.remove();
    let previous = null;
    for (const id of ids) {
      const li = this.#items.get(id);
      const expected = previous ? previous.nextElementSibling : this.#ul.firstElementChild;
      if (li !== expected) {
        // Moving the focused item would blur it; give focus back after the move.
        const focused = this.#document.activeElement === li;
        if (previous) previous.after(li);
        else this.#ul.prepend(li);
        if (focused) li.focus();
      }
      previous = li;
    }
    this.#order = ids;
    if (ids.length === 0) {
      const empty = this.#element("li", "conversation-list__empty", this.#emptyText);
      empty.setAttribute("role", "presentation");
      this.#ul.append(empty);
    }
  }

  #keydown(event) {
    const index = this.#order.indexOf(this.#selected);
    const last = this.#order.length - 1;
    let next = null;
    if (event.key === "ArrowDown") next = index < 0 ? 0 : Math.min(last, index + 1);
    else if (event.key === "ArrowUp") next = index < 0 ? 0 : Math.max(0, index - 1);
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = last;
    else if (event.key === "Enter" && this.#selected !== null) {
      event.preventDefault();
      this.onopen?.(this.#selected);
      return;
    } else return;
    event.preventDefault(); // arrows would scroll the page instead
    if (last >= 0) this.#select(this.#order[next], true);
  }

  #select(id, focus) {
    this.#selected = id;
    this.#renderSelection();
    if (focus) this.#items.get(id)?.focus();
  }

  // One item is in the tab order (the selected one, else the first): arrows do the rest.
  #renderSelection() {
    const tabbable = this.#selected ?? this.#order[0] ?? null;
    for (const [id, li] of this.#items) {
      li.setAttribute("aria-selected", String(id === this.#selected));
      li.tabIndex = id === tabbable ? 0 : -1;
    }
  }

  #element(tag, className, text) {
    const element = this.#document.createElement(tag);
    element.className = className;
    element.textContent = text;
    return element;
  }
}
