/**
 * The dashboard's search: the box, and its results in place of the list (the visitor,
 * the status, and the matching text with its hits marked), page after page.
 *
 * Never touches the network: it reports `onsearch(q)`, `onmore()`, `onclear()` and
 * `onopen(conversationId, seq)` (seq: the matching message's, or null); the page asks
 * the API and calls `show`. The snippet comes as parts `{text, hit}` and becomes text
 * nodes and `<mark>` elements: never HTML.
 */
import { _, ngettext } from "./texts.js";

/** The parts of a snippet that can be shown: `{text: string, hit: boolean}` only. */
export function snippetRuns(parts) {
  if (!Array.isArray(parts)) return [];
  return parts
    .filter((part) => typeof part?.text === "string" && part.text !== "")
    .map((part) => ({ text: part.text, hit: part.hit === true }));
}

/** The search box and its results. */
export class SearchView {
  onsearch = null;
  onmore = null;
  onclear = null;
  onopen = null;

  #document;
  #form;
  #input;
  #panel;
  #summary;
  #list;
  #more;
  #inbox; // what the results take the place of (the filters and the list)

  constructor(document) {
    this.#document = document;
    const byId = (id) => document.getElementById(id);
    this.#form = byId("search-form");
    this.#input = byId("search-q");
    this.#panel = byId("search-panel");
    this.#summary = byId("search-summary");
    this.#list = byId("search-results");
    this.#more = byId("search-more");
    this.#inbox = [byId("conversation-list"), document.querySelector(".filters"), byId("label-filter")?.closest("label")];
    this.#form?.addEventListener("submit", (event) => {
      event.preventDefault();
      const q = this.#input.value.trim();
      if (q) this.onsearch?.(q);
      else this.clear();
    });
    this.#more?.addEventListener("click", () => this.onmore?.());
    byId("search-clear")?.addEventListener("click", () => this.clear());
    this.#input?.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.#panel.hidden) {
        event.preventDefault(); // the transcript's Esc is not this one
        this.clear();
      }
    });
  }

  /** Show a page of `results` (appended after the first), and whether more can come. */
  show(results, { append = false, more = false } = {}) {
    this.#panel.hidden = false;
    for (const element of this.#inbox) if (element) element.hidden = true;
    if (!append) this.#list.replaceChildren();
    for (const result of results ?? []) this.#list.append(this.#item(result));
    const count = this.#list.children.length;
    this.#summary.textContent = count
      ? ngettext("{count} result", "{count} results", count) + (more ? "+" : "")
      : _("Nothing found.");
    this.#more.hidden = !more;
  }

  /** Say that the search failed (the list stays as it was). */
  failed(message) {
    this.#panel.hidden = false;
    this.#summary.textContent = message;
  }

  /** Back to the list. */
  clear() {
    this.#panel.hidden = true;
    this.#list.replaceChildren();
    for (const element of this.#inbox) if (element) element.hidden = false;
    this.onclear?.();
  }

  #item(result) {
    const conversation = result?.conversation ?? {};
    const seq = Number.isInteger(result?.message?.seq) ? result.message.seq : null;
    const li = this.#document.createElement("li");
    const button = this.#document.createElement("button");
    button.type = "button";
    button.className = "search-result";
    button.dataset.conversationId = String(conversation.id ?? "");
    if (seq !== null) button.dataset.seq = String(seq);
    const name = this.#element("span", "search-result__name", conversation.visitor?.name || _("Visitor"));
    const snippet = this.#element("span", "search-result__snippet", "");
    for (const run of snippetRuns(result?.snippet)) {
      if (run.hit) snippet.append(this.#element("mark", "", run.text));
      else snippet.append(this.#document.createTextNode(run.text));
    }
    button.append(name, snippet);
    button.addEventListener("click", () => this.onopen?.(conversation.id, seq));
    li.append(button);
    return li;
  }

  #element(tag, className, text) {
    const element = this.#document.createElement(tag);
    if (className) element.className = className;
    element.textContent = text;
    return element;
  }
}
