/**
 * The visitor the chat page is for: the record it works with (visitor-store.js; null until
 * they say who they are), where it is kept (this page's localStorage, or through the widget
 * the host page's too), and which records only amended it.
 *
 * Records are values: a new one replaces the old. Work that waits on a record (a
 * conversation opening, a first message starting one) checks it is still current when it
 * resumes. A record that only says more of the same visitor in the same place (a signed id,
 * their conversations from other browsers) amends the current one, and such work still
 * counts as current; one for another visitor or another conversation does not.
 */
export class CurrentVisitor {
  /** Where records are kept: {load(), save(record), forget()}. */
  store;
  #record = null;
  #amended = new WeakMap(); // record → the record it amended

  constructor(store) {
    this.store = store;
  }

  /** The record the page shows (null: the start form). */
  get record() {
    return this.#record;
  }

  /** The record, or before the page shows anyone (or while it shows the start form) the stored one. */
  get known() {
    return this.#record ?? this.store.load();
  }

  /** Keep `record` (the page shows it, or will). */
  save(record) {
    this.store.save(record);
  }

  /** Keep nothing of the visitor any more. */
  forget() {
    this.store.forget();
  }

  /** Another visitor, or another conversation: whatever waited on the previous record is over. */
  set(record) {
    this.#record = record;
  }

  /** More known of the same visitor in the same place: what waited on the previous record goes on. */
  amend(record) {
    this.#amended.set(record, this.#record);
    this.#record = record;
  }

  /** Whether `record` is the current one, or one the current one amended. */
  isCurrent(record) {
    for (let now = this.#record; now; now = this.#amended.get(now)) if (now === record) return true;
    return false;
  }
}
