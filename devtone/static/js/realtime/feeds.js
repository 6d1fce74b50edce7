/**
 * Feeds: what a TierNegotiator carries. The ladder, the timings and the recovery are the same
 * for every page; what differs is the URLs, what the cursor is, and how an answer or a
 * stream event becomes page events. A feed says exactly that, and nothing else:
 *
 * - ConversationFeed: one conversation's log (DESIGN.md §1). The cursor is the highest seq
 *   shown; SSE `message` events (`id: <seq>`) and the `messages` of HTTP answers are entries,
 *   dropped at or below the cursor; SSE `conversation` and `typing` events, and the
 *   `conversation` (and a long-poll's `typing`) of every HTTP answer, pass through to the
 *   page as they are.
 * - DashboardFeed: the agents' dashboard. The cursor is the opaque `etag` of the last
 *   snapshot; there are no entries: SSE `snapshot`, `conversation` and `stats` events pass
 *   through (typing travels on the open transcript's conversation feed only), and every
 *   HTTP answer is delivered as a `snapshot` event. The
 *   server sends a fresh snapshot on every connect, so a reconnect needs no cursor.
 *
 * Feeds are immutable and pure: no timers, no DOM, no network. The negotiator keeps the
 * delivered cursor; each HTTP transport keeps the cursor of its own run.
 *
 * Shape (what transports.js and negotiator.js use):
 *   cursor                      the starting cursor
 *   streamUrl, pollUrl          the SSE URL and the HTTP tiers' URL (either may be null)
 *   entryEvent                  the SSE event that carries entries, or null
 *   events                      the SSE events passed through to the page as they are
 *   deniedStatuses              HTTP statuses that mean "no longer yours": stop, never retry
 *   streamUrlAt(cursor)         the URL of a first SSE connect from `cursor`
 *   pollUrlAt(cursor, {waitS, limit, first})   the URL of one HTTP request
 *   read(body, {cursor, limit}) an HTTP answer as {hello, entries, events: [[type, data]…],
 *                               cursor, empty, full}, or {failure} when it is not one
 *   accept(cursor, type, data)  the cursor after delivering `type`, or null to drop it
 *   at(cursor)                  the same feed starting from `cursor`
 */

/** Append `name=value` to a URL that may already carry a query string (e.g. `?token=`). */
export function withParam(url, name, value) {
  const hash = url.indexOf("#");
  const base = hash === -1 ? url : url.slice(0, hash);
  const sep = base.includes("?") ? (base.endsWith("?") || base.endsWith("&") ? "" : "&") : "?";
  return `${base}${sep}${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
}

const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);

/** A conversation's log: entries by seq, plus its `conversation` and `typing` events. */
export class ConversationFeed {
  /** The SSE event whose data is one log entry (its `id:` is the seq). */
  entryEvent = "message";
  /** SSE events passed through: a state change (read mark, status) and typing. */
  events = Object.freeze(["conversation", "typing"]);
  /** The token (or session) no longer opens the conversation, or it is gone. */
  deniedStatuses = Object.freeze(new Set([401, 403, 404]));

  /** `streamUrl` and `messagesUrl` may carry `?token=`; `cursor` is the highest seq shown. */
  constructor({ streamUrl = null, messagesUrl = null, cursor = 0 } = {}) {
    this.streamUrl = streamUrl || null;
    this.pollUrl = messagesUrl || null;
    this.cursor = Number.isInteger(cursor) && cursor > 0 ? cursor : 0;
    Object.freeze(this);
  }

  /** The same feed from `cursor` (a tab taking over a shared feed: shared-feed.js). */
  at(cursor) {
    return new ConversationFeed({ streamUrl: this.streamUrl, messagesUrl: this.pollUrl, cursor });
  }

  /** The stream after `cursor`; the browser's own reconnects send Last-Event-ID instead. */
  streamUrlAt(cursor) {
    return withParam(this.streamUrl, "after", cursor);
  }

  /** `messages?after=N&wait=S&limit=L`. */
  pollUrlAt(cursor, { waitS, limit }) {
    const url = withParam(this.pollUrl, "after", cursor);
    return withParam(withParam(url, "wait", waitS), "limit", limit);
  }

  /** `{messages, cursor, conversation}` → its entries, then the conversation as an event. */
  read(body, { cursor, limit }) {
    const messages = body?.messages;
    if (!Array.isArray(messages)) return { failure: "answer has no messages" };
    let next = cursor;
    for (const message of messages) {
      if (Number.isInteger(message?.seq)) next = Math.max(next, message.seq);
    }
    if (Number.isInteger(body.cursor)) next = Math.max(next, body.cursor);
    return {
      hello: { cursor: body.cursor, conversation: body.conversation },
      entries: messages,
      events: [
        ...(isObject(body.conversation) ? [["conversation", body.conversation]] : []),
        ...(isObject(body.typing) ? [["typing", body.typing]] : []), // a long-poll woken by typing
      ],
      cursor: next,
      empty: messages.length === 0,
      full: messages.length >= limit,
    };
  }

  /** Entries at or below the cursor were shown already; events always pass. */
  accept(cursor, type, data) {
    if (type !== this.entryEvent) return cursor;
    const seq = data?.seq;
    // seq > cursor + 1 would be a gap; the server reads gaps from the database before
    // sending, so we trust its order and simply move on.
    return Number.isInteger(seq) && seq > cursor ? seq : null;
  }
}

/** The value of an answer's `etag`, as a string; null when it has none. */
function etagOf(data) {
  const etag = data?.etag;
  return typeof etag === "string" || Number.isFinite(etag) ? String(etag) : null;
}

/** The dashboard: snapshots (cursor = their etag), live upserts and stats. */
export class DashboardFeed {
  /** No entries: a dashboard has no log to dedupe; its store applies the version rule. */
  entryEvent = null;
  /** SSE events passed through: the snapshot after each hello, then live changes. */
  events = Object.freeze(["snapshot", "conversation", "stats"]);
  /** The agent's session ended (or the agent was deactivated). */
  deniedStatuses = Object.freeze(new Set([401, 403]));

  /** `streamUrl` is /api/dashboard/events, `snapshotUrl` /api/dashboard/snapshot. */
  constructor({ streamUrl = null, snapshotUrl = null } = {}) {
    this.streamUrl = streamUrl || null;
    this.pollUrl = snapshotUrl || null;
    this.cursor = null;
    Object.freeze(this);
  }

  /** The same feed: a stream or the first request of a run starts with a whole snapshot. */
  at() {
    return this;
  }

  /** Always the same URL: the server starts every stream with a fresh snapshot. */
  streamUrlAt() {
    return this.streamUrl;
  }

  /**
   * `snapshot?etag=E&wait=S`; the first request of a run carries no etag, so it answers at
   * once with a whole snapshot and proves the tier.
   */
  pollUrlAt(etag, { waitS, first }) {
    const url = first || etag === null ? this.pollUrl : withParam(this.pollUrl, "etag", etag);
    return withParam(url, "wait", first ? 0 : waitS);
  }

  /** Why `body` is not a whole snapshot of this feed, or null: `{conversations, stats, etag}`. */
  notASnapshot(body) {
    return Array.isArray(body?.conversations) ? null : "answer has no conversations";
  }

  /** A whole snapshot → one `snapshot` event; "empty" when the etag held. */
  read(body, { cursor }) {
    const failure = this.notASnapshot(body);
    if (failure) return { failure };
    const etag = etagOf(body);
    return {
      hello: { etag },
      entries: [],
      events: [["snapshot", body]],
      cursor: etag ?? cursor,
      empty: etag !== null && etag === cursor,
      full: false,
    };
  }

  /** A snapshot moves the cursor to its etag; nothing is ever dropped here. */
  accept(cursor, type, data) {
    return type === "snapshot" ? (etagOf(data) ?? cursor) : cursor;
  }
}
