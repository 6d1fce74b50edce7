/**
 * CannedPicker: "/" in the dashboard's reply box opens the list of canned replies,
 * filtered as the agent types (canned-replies.js). Keyboard only if they like: ↑ and ↓
 * move, Enter inserts the reply with its variables filled in, Esc closes; the text stays
 * in the box to be edited before it is sent. The ARIA listbox pattern: the box keeps the
 * focus and names the highlighted option with aria-activedescendant.
 *
 * Knows no network: `load()` gives the replies the server lets this agent use, and
 * `variables()` what fills them for the open conversation. User text via textContent.
 */
import { fillVariables, insertReply, matchReplies, slashQuery } from "./canned-replies.js";
import { _ } from "./texts.js";

const KEYS = new Set(["ArrowDown", "ArrowUp", "Enter", "Escape"]);

export class CannedPicker {
  #field;
  #list;
  #load;
  #variables;
  #replies = [];
  #shown = []; // the replies listed now, in order
  #active = -1; // the highlighted one's index in #shown
  #query = null; // {start, end, query} while open
  #loading = null;
  #failed = false; // the last load failed: the list says so

  /**
   * `field` is the reply textarea, `list` an empty <ul> beside it; `load()` resolves with
   * the replies, `variables()` returns {visitorName, agentName, conversationId}.
   */
  constructor({ field, list, load, variables }) {
    this.#field = field;
    this.#list = list;
    this.#load = load;
    this.#variables = variables;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", _("Canned replies"));
    list.hidden = true;
    field.setAttribute("aria-autocomplete", "list");
    field.setAttribute("aria-controls", list.id);
    field.addEventListener("input", () => this.#update());
    field.addEventListener("click", () => this.#update());
    field.addEventListener("blur", () => this.close());
    // Captured on the form, before the box's own Enter (send) and the page's Esc (dismiss).
    field.form.addEventListener("keydown", (event) => this.#key(event), true);
    list.addEventListener("mousedown", (event) => event.preventDefault()); // keep the focus
    list.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) this.#choose(Number(option.dataset.index));
    });
  }

  /** Whether the list is showing. */
  get isOpen() {
    return this.#query !== null;
  }

  /** Hide the list (the text stays as typed). */
  close() {
    if (this.#query === null) return;
    this.#query = null;
    this.#shown = [];
    this.#active = -1;
    this.#list.hidden = true;
    this.#list.replaceChildren();
    this.#field.removeAttribute("aria-activedescendant");
  }

  #update() {
    const found = this.#field.disabled ? null : slashQuery(this.#field.value, this.#field.selectionStart);
    if (!found) {
      this.close();
      return;
    }
    const opening = this.#query === null;
    this.#query = found;
    if (opening) this.#refresh();
    this.#render();
  }

  /** Read the replies again each time the list opens: a reply saved meanwhile is there. */
  #refresh() {
    if (this.#loading) return;
    this.#loading = Promise.resolve()
      .then(() => this.#load())
      .then(
        (replies) => {
          this.#replies = Array.isArray(replies) ? replies : [];
          this.#failed = false;
        },
        () => {
          this.#failed = true;
        },
      )
      .finally(() => {
        this.#loading = null;
        if (this.#query !== null) this.#render({ keep: true });
      });
  }

  /** List the replies the query matches; the first is highlighted, or (`keep`: the same
   *  query, the replies read again) the one that was. */
  #render({ keep = false } = {}) {
    const previous = this.#shown[this.#active]?.id;
    this.#shown = matchReplies(this.#replies, this.#query.query);
    const kept = keep ? this.#shown.findIndex((reply) => reply.id === previous) : -1;
    this.#active = this.#shown.length ? Math.max(kept, 0) : -1;
    const document = this.#list.ownerDocument;
    const items = this.#shown.map((reply, index) => {
      const item = document.createElement("li");
      item.id = `${this.#list.id}-option-${index}`;
      item.className = "canned-picker__option";
      item.setAttribute("role", "option");
      item.dataset.index = String(index);
      item.dataset.shortcut = reply.shortcut;
      const shortcut = document.createElement("span");
      shortcut.className = "canned-picker__shortcut";
      shortcut.textContent = `/${reply.shortcut}`;
      const text = document.createElement("span");
      text.className = "canned-picker__text";
      text.textContent = reply.text;
      item.append(shortcut, text);
      return item;
    });
    if (!items.length) {
      const empty = document.createElement("li");
      empty.className = "canned-picker__empty";
      empty.setAttribute("role", "presentation");
      empty.textContent = this.#loading
        ? _("Loading…")
        : this.#failed
          ? _("The canned replies could not be loaded.")
          : this.#replies.length
            ? _("No canned reply matches.")
            : _("No canned replies yet.");
      items.push(empty);
    }
    this.#list.replaceChildren(...items);
    this.#list.hidden = false;
    this.#highlight();
  }

  #highlight() {
    for (const option of this.#list.querySelectorAll("[role=option]")) {
      const active = Number(option.dataset.index) === this.#active;
      option.setAttribute("aria-selected", String(active));
      if (active) {
        this.#field.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView?.({ block: "nearest" });
      }
    }
    if (this.#active < 0) this.#field.removeAttribute("aria-activedescendant");
  }

  #key(event) {
    if (this.#query === null || event.target !== this.#field || !KEYS.has(event.key)) return;
    if (event.isComposing || event.keyCode === 229) return;
    if (event.key === "Enter" && event.shiftKey) {
      this.close(); // a new line, as always
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    const count = this.#shown.length;
    if (event.key === "Escape") this.close();
    else if (event.key === "Enter") {
      if (this.#active < 0) this.close(); // nothing to insert: never sends "/…" by accident
      else this.#choose(this.#active);
    }
    else if (count) {
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.#active = (this.#active + step + count) % count;
      this.#highlight();
    }
  }

  #choose(index) {
    const reply = this.#shown[index];
    const query = this.#query;
    if (!reply || !query) return;
    const filled = fillVariables(reply.text, this.#variables(), _("customer"));
    const { text, caret } = insertReply(this.#field.value, query, filled);
    this.close();
    this.#field.value = text;
    this.#field.setSelectionRange(caret, caret);
    this.#field.focus();
    // The box changed as if typed (drafts, typing); the caret is past any "/" of it.
    this.#field.dispatchEvent(new Event("input", { bubbles: true }));
  }
}
