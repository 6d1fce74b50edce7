/**
 * The dashboard's search, between the API and the SearchView: a query and its pages, and
 * which conversation a result opens (with the seq of its message).
 *
 * Options: `api` (ApiClient), `view` (SearchView), `label()` (the list's label filter,
 * which narrows the search too), `open(conversation, seq)`, `ended()` (a 401).
 */
import { ApiError } from "./api.js";

export class DashboardSearch {
  #api;
  #view;
  #label;
  #open;
  #ended;
  #query = null; // the search shown: {q, page}
  #found = new Map(); // String(id) → the conversation of a result shown

  constructor({ api, view, label = () => "", open, ended }) {
    this.#api = api;
    this.#view = view;
    this.#label = label;
    this.#open = open;
    this.#ended = ended;
    view.onsearch = (q) => this.#find({ q, page: 1 });
    view.onmore = () => this.#query && this.#find({ ...this.#query, page: this.#query.page + 1 });
    view.onclear = () => (this.#query = null);
    view.onopen = (id, seq) => {
      const conversation = this.#found.get(String(id));
      if (conversation) this.#open(conversation, seq);
    };
  }

  async #find(query) {
    try {
      const answer = await this.#api.search({ ...query, label: this.#label() });
      if (query.page === 1) this.#found.clear();
      for (const result of answer.results ?? []) this.#found.set(String(result.conversation?.id), result.conversation);
      this.#query = query;
      this.#view.show(answer.results, { append: query.page > 1, more: answer.next_page != null });
    } catch (error) {
      const apiError = ApiError.from(error);
      if (apiError.status === 401) this.#ended();
      else this.#view.failed(apiError.message);
    }
  }
}
