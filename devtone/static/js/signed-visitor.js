/**
 * A visitor the site signed in (identify() with a valid hash: docs/identity.md) seen from
 * another browser: the conversation they have open elsewhere opens here, and those closed
 * elsewhere join the earlier ones. The server checks the hash; a lookup that fails leaves
 * the page as it was.
 */
import { heldIds, sameIdentity, withEarlier } from "./visitor-store.js";

export class SignedVisitor {
  /** Told the record that holds the conversation open elsewhere: the page opens it. */
  onresumed = null;
  /** Told the record with more earlier conversations, while the page shows the visitor. */
  onearlier = null;

  #who;
  #starter;

  /** `who`: the page's CurrentVisitor; `starter`: its ConversationStarter (the requests). */
  constructor({ who, starter }) {
    this.#who = who;
    this.#starter = starter;
  }

  /** The conversation `record`'s visitor has open in another browser, if any, opens here. */
  async resume(record) {
    const current = () => {
      const now = this.#who.known;
      // Not moved on meanwhile: still no conversation here, still the same visitor.
      return !now?.token && sameIdentity(now?.identity, record.identity) ? now : null;
    };
    const opened = await this.#starter.resumeSigned(record.identity, { current });
    if (opened) this.onresumed?.(opened);
  }

  /** Their conversations closed on other browsers join the earlier ones (kept, and shown). */
  async linkEarlier(identity) {
    const found = await this.#starter.earlierSigned(identity, heldIds(this.#who.known));
    const now = this.#who.known;
    if (!found.length || !sameIdentity(now?.identity, identity)) return; // someone else by now
    const record = withEarlier(now, found);
    this.#who.save(record);
    if (!this.#who.record) return; // the start form: the stored record is read when they go on
    this.#who.amend(record);
    this.onearlier?.(record);
  }
}
