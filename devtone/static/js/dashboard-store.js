/**
 * DashboardStore: the conversations an agent's dashboard knows, by id, and the statistics.
 *
 * Pure: no DOM, no network, no timers. It applies the one rule of the dashboard (DESIGN.md
 * §1): an incoming conversation replaces the held one only if its `version` is greater (or
 * none is held), and a snapshot replaces the whole set but never with an older version of
 * a conversation than the one held. Everything the page shows is derived from here: the
 * filters and their counts, the order of the list, the unread counts and the tab badge.
 */

/** The list's filters, in the order of their buttons. */
export const FILTERS = Object.freeze(["waiting", "mine", "open", "closed"]);

/** Epoch ms of a conversation's latest activity: its last message, else updated, else created. */
export function activityTime(conversation) {
  for (const iso of [conversation?.last_message?.created_at, conversation?.updated_at, conversation?.created_at]) {
    const ms = iso ? Date.parse(iso) : NaN;
    if (Number.isFinite(ms)) return ms;
  }
  return 0;
}

/** Newest activity first; the higher id first when two are as new. */
export function byActivity(a, b) {
  return activityTime(b) - activityTime(a) || compareIds(b.id, a.id);
}

function compareIds(a, b) {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return String(a).localeCompare(String(b));
}

function versionOf(conversation) {
  return Number.isFinite(conversation?.version) ? conversation.version : -Infinity;
}

const key = (id) => String(id);

/** The dashboard's conversations and stats; `me` is the signed-in agent's id. */
export class DashboardStore {
  stats = null; // {day, waiting, active, closed_today, messages_today, median_first_reply_seconds}

  #me;
  #conversations = new Map(); // String(id) → conversation JSON, as the server sent it
  #readUpTo = new Map(); // String(id) → seq this page marked read (unread shows 0 at once)
  #primed = false; // whether the first snapshot arrived: conversations after it are new

  /** `me` is compared as a string with each conversation's `agent.id`. */
  constructor({ me } = {}) {
    this.#me = me == null ? null : key(me);
  }

  /** How many conversations are held. */
  get size() {
    return this.#conversations.size;
  }

  /** The held conversation with this id, or undefined. */
  get(id) {
    return this.#conversations.get(key(id));
  }

  /**
   * Replace the whole set (keeping any newer copy already held) and the stats. Returns the
   * ids that appeared for the first time after the first snapshot: new conversations.
   */
  applySnapshot({ conversations = [], stats } = {}) {
    const next = new Map();
    const added = [];
    for (const conversation of conversations) {
      if (conversation?.id == null) continue;
      const id = key(conversation.id);
      const held = this.#conversations.get(id);
      next.set(id, held && versionOf(held) > versionOf(conversation) ? held : conversation);
      if (!held && this.#primed) added.push(conversation.id);
    }
    this.#conversations = next;
    if (stats && typeof stats === "object") this.stats = stats;
    this.#primed = true;
    return added;
  }

  /** One conversation: {changed, added}; ignored (changed false) unless its version is newer. */
  upsert(conversation) {
    if (conversation?.id == null) return { changed: false, added: false };
    const id = key(conversation.id);
    const held = this.#conversations.get(id);
    if (held && versionOf(conversation) <= versionOf(held)) return { changed: false, added: false };
    this.#conversations.set(id, conversation);
    return { changed: true, added: !held && this.#primed };
  }

  /** New statistics (a `stats` event). */
  setStats(stats) {
    if (stats && typeof stats === "object") this.stats = stats;
  }

  /** This page marked the conversation read up to `seq`: its unread shows 0 at once. */
  markRead(id, seq) {
    if (!Number.isInteger(seq)) return;
    const held = this.#readUpTo.get(key(id)) ?? 0;
    this.#readUpTo.set(key(id), Math.max(held, seq));
  }

  /** Unread visitor messages: the server's count, unless this page has read past the end. */
  unread(conversation) {
    const readUpTo = this.#readUpTo.get(key(conversation?.id));
    if (readUpTo !== undefined && readUpTo >= (conversation.last_seq ?? 0)) return 0;
    return Number.isInteger(conversation?.unread) && conversation.unread > 0 ? conversation.unread : 0;
  }

  /**
   * The seq up to which this agent's client should mark `conversation` delivered, or null:
   * its last message is the visitor's and above the agent side's delivered mark (the
   * dashboard holds it), in a conversation that is mine or nobody's (only those move the
   * agent side's marks).
   */
  deliverable(conversation) {
    const last = conversation?.last_message;
    if (last?.sender !== "visitor" || !Number.isInteger(last.seq)) return null;
    if (conversation.agent?.id != null && !this.isMine(conversation)) return null;
    const delivered = conversation.marks?.agent?.delivered;
    return last.seq > (Number.isInteger(delivered) ? delivered : 0) ? last.seq : null;
  }

  /** Whether the conversation is assigned to me. */
  isMine(conversation) {
    return this.#me !== null && conversation?.agent?.id != null && key(conversation.agent.id) === this.#me;
  }

  /** Whether the conversation belongs in `filter` (one of FILTERS). */
  matches(conversation, filter) {
    const closed = conversation?.status === "closed";
    switch (filter) {
      case "waiting":
        return conversation?.status === "waiting";
      case "mine":
        return this.isMine(conversation) && !closed;
      case "open":
        return !closed;
      case "closed":
        return closed;
      default:
        return false;
    }
  }

  /** The conversations in `filter`, newest activity first, each once. */
  list(filter) {
    return [...this.#conversations.values()].filter((c) => this.matches(c, filter)).sort(byActivity);
  }

  /** How many conversations each filter holds: {waiting, mine, open, closed}. */
  counts() {
    const counts = Object.fromEntries(FILTERS.map((filter) => [filter, 0]));
    for (const conversation of this.#conversations.values()) {
      for (const filter of FILTERS) if (this.matches(conversation, filter)) counts[filter] += 1;
    }
    return counts;
  }

  /** The tab badge: waiting conversations plus the unread messages of mine. */
  badgeCount() {
    let count = 0;
    for (const conversation of this.#conversations.values()) {
      if (conversation.status === "waiting") count += 1;
      if (this.matches(conversation, "mine")) count += this.unread(conversation);
    }
    return count;
  }
}
