/**
 * The agents' dashboard (/dashboard): the only module here that wires the dashboard's pieces.
 *
 * Config comes from `<main id="dashboard" data-csrf-token data-agent-id data-agent-name
 * data-agent-role data-api-base data-negotiate-url>`. The agent is signed in with the
 * session cookie; every POST carries the CSRF token (ApiClient in agent mode).
 *
 * Two feeds, each on its own TierNegotiator, shared by the agent's tabs (shared-feed.js): the dashboard feed (snapshots, conversation
 * upserts, stats) for the whole page, and, while a transcript is open, that conversation's
 * feed (its entries, state changes and the visitor's typing). Every conversation JSON from
 * either goes through the DashboardStore, which keeps the newest version; the views are
 * rendered from the store.
 */
import { AgentMarks } from "./agent-marks.js";
import { ApiClient, ApiError } from "./api.js";
import { CannedPicker } from "./canned-picker.js";
import { ConversationListView } from "./conversation-list.js";
import { ConversationSession } from "./conversation-session.js";
import { DashboardAlerts } from "./dashboard-alerts.js";
import { DashboardSearch } from "./dashboard-search.js";
import { DashboardStore } from "./dashboard-store.js";
import { Drafts } from "./drafts.js";
import { ConnectionIndicator, DASHBOARD_LABELS, DASHBOARD_MEANINGS } from "./indicator.js";
import { LabelsView } from "./labels-view.js";
import { DAY_CHECK_MS } from "./message-list.js";
import { AGENT_OUTBOX_KEY_PREFIX } from "./outbox.js";
import { DashboardFeed } from "./realtime/feeds.js";
import { feedNegotiator } from "./realtime/shared-feed.js";
import { reportTierChanges } from "./realtime/tier-report.js";
import { SearchView } from "./search-view.js";
import { StatsView } from "./stats-view.js";
import { TeamPresence } from "./team-presence.js";
import { _ } from "./texts.js";
import { TranscriptView } from "./transcript-view.js";
import { TypingSignal } from "./typing.js";

const DEFAULT_FILTER = "open";

/** The dashboard: the live list, the stats, and one open transcript at a time. */
class DashboardPage {
  #base;
  #negotiateUrl;
  #me; // {id, name, role}
  #api;
  #store;
  #indicator;
  #stats;
  #list;
  #alerts; // sound, notifications, title and favicon badges (dashboard-alerts.js)
  #transcript;
  #filter = DEFAULT_FILTER;
  #negotiator = null; // the dashboard feed's
  #session = null; // the open transcript: {id, conversation (a ConversationSession), reader, typing}
  #marks; // the agent side's marks on each conversation (agent-marks.js)
  #ended = false; // the agent's session ended: nothing more is sent
  #drafts; // what the agent was typing when their session ended, per conversation
  #presence; // the agent's presence beat and the team's statuses
  #labels; // the open conversation's labels, the picker and the list's label filter
  #label = ""; // the list's label filter ("" for all)
  #search; // the search box and its results
  #reveal = null; // the seq a search result opens its conversation at
  #picker; // the reply box's "/" list of canned replies

  constructor(root) {
    const data = root.dataset;
    this.#base = (data.apiBase || "/api").replace(/\/+$/, "");
    this.#negotiateUrl = data.negotiateUrl || "/api/realtime/negotiate";
    this.#me = { id: data.agentId, name: data.agentName || _("You"), role: data.agentRole };
    this.#api = new ApiClient({ base: this.#base, csrfToken: data.csrfToken });
    this.#store = new DashboardStore({ me: data.agentId });
    this.#drafts = new Drafts({ agentId: data.agentId });
    this.#marks = new AgentMarks({
      store: this.#store,
      send: async (id, marks) => {
        const answer = await this.#api.moveMarks(id, marks);
        if (answer?.conversation) this.#upsert(answer.conversation);
      },
    });
    const byId = (id) => document.getElementById(id);
    this.#indicator = new ConnectionIndicator(byId("connection"), { labels: DASHBOARD_LABELS, meanings: DASHBOARD_MEANINGS });
    this.#stats = new StatsView(root);
    this.#alerts = new DashboardAlerts({
      root,
      document,
      inView: (conversation) => this.#store.matches(conversation, "mine") || this.#store.matches(conversation, "waiting"),
      leading: () => this.#negotiator?.leading ?? true, // a tab with its own feed alerts for itself
      watching: (id) => this.#session?.id === String(id) && document.visibilityState === "visible",
      open: (id) => this.#open(id),
      save: (changes) => this.#api.changeAlertSettings(changes),
      agentId: this.#me.id, // notes that mention them alert them too
    });
    this.#list = new ConversationListView({
      list: byId("conversation-list"),
      filterButtons: root.querySelectorAll("[data-filter]"),
    });
    this.#transcript = new TranscriptView(document, {
      isAdmin: this.#me.role === "admin",
      loadFile: (url) => this.#api.fetchFile(url),
    });
    this.#labels = new LabelsView(document);
    this.#search = new SearchView(document);
    this.#picker = new CannedPicker({
      field: byId("reply-body"),
      list: byId("canned-picker"),
      load: () => this.#api.listCannedReplies().then((answer) => answer?.canned_replies ?? []),
      variables: () => {
        const open = this.#session ? this.#store.get(this.#session.id) : null;
        return { visitorName: open?.visitor?.name, agentName: this.#me.name, conversationId: open?.id };
      },
    });
    this.#presence = new TeamPresence({
      beat: (active, away) => this.#api.beat(active, away),
      list: byId("team-list"),
      toggle: byId("away-toggle"),
      me: data.agentId,
    });
  }

  /** Bind the views, connect the dashboard feed, and load what admins need. */
  start() {
    this.#list.onfilter = (filter) => {
      this.#filter = filter;
      this.#render();
    };
    this.#list.onopen = (id) => {
      this.#reveal = null;
      this.#open(id);
    };
    this.#bindTranscript();
    this.#bindLabelsAndSearch();
    this.#alerts.start();
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || event.defaultPrevented || !this.#session) return;
      // Esc in a composer holding a draft would throw the draft away with the panel.
      if (event.target?.id === "reply-body" && this.#transcript.hasDraft) return;
      this.#dismiss();
    });
    document.addEventListener("visibilitychange", () => this.#markReadIfUnread());
    window.addEventListener("online", () => this.#session?.conversation.resume());
    setInterval(() => this.#transcript.messages.refreshDays(), DAY_CHECK_MS);
    this.#connect();
    this.#presence.start();
    if (this.#me.role === "admin") {
      this.#api
        .listAgents()
        .then(({ agents }) => this.#transcript.setAgents(agents ?? []))
        .catch(() => {}); // without the list the admin can still assign to themselves
    }
    this.#render();
  }

  // ── the dashboard feed ───────────────────────────────────────────────────────────────

  #connect() {
    const feed = new DashboardFeed({
      streamUrl: `${this.#base}/dashboard/events`,
      snapshotUrl: `${this.#base}/dashboard/snapshot`,
    });
    const negotiator = feedNegotiator({ negotiateUrl: this.#negotiateUrl, feed }); // one for all tabs
    reportTierChanges(negotiator, { url: `${this.#base}/realtime/report`, kind: "dashboard" });
    negotiator.addEventListener("statechange", ({ detail }) => this.#indicator.render(detail));
    negotiator.addEventListener("snapshot", ({ detail }) => {
      this.#store.applySnapshot(detail);
      this.#alerts.snapshot(this.#store.list("open").concat(this.#store.list("closed")));
      for (const conversation of detail?.conversations ?? []) this.#deliver(conversation.id);
      this.#render();
    });
    negotiator.addEventListener("conversation", ({ detail }) => this.#upsert(detail));
    negotiator.addEventListener("stats", ({ detail }) => {
      this.#store.setStats(detail);
      this.#stats.render(this.#store.stats);
    });
    negotiator.addEventListener("denied", () => this.#sessionEnded());
    this.#negotiator = negotiator;
    negotiator.start();
  }

  #upsert(conversation) {
    const { changed } = this.#store.upsert(conversation);
    if (changed) {
      this.#alerts.update(this.#store.get(conversation.id));
      this.#deliver(conversation.id);
      this.#render();
    }
  }

  /** The dashboard holds the conversation's last message: the visitor sees "Delivered". */
  #deliver(id) {
    if (!this.#ended) this.#marks.deliver(id);
  }

  #render() {
    const store = this.#store;
    this.#list.render({
      conversations: store
        .list(this.#filter)
        .filter((conversation) => !this.#label || (conversation.labels ?? []).includes(this.#label))
        .map((conversation) => ({ conversation, unread: store.unread(conversation) })),
      colourOf: this.#labels.colourOf,
      counts: store.counts(),
      filter: this.#filter,
      openId: this.#session?.id ?? null,
      isMine: (conversation) => store.isMine(conversation),
    });
    this.#stats.render(store.stats);
    this.#alerts.badge(store.badgeCount());
    const open = this.#session ? store.get(this.#session.id) : null;
    if (open) {
      this.#transcript.render(open, { mine: store.isMine(open) });
      this.#labels.render(open.labels ?? []);
      this.#session.reader.acknowledge(open.marks?.agent);
      // The agent's replies: sent, delivered, seen, as the visitor's client reports them.
      this.#transcript.messages.markStates(open.marks?.visitor);
      this.#transcript.messages.markSeen(open.marks?.visitor?.seen);
    }
  }

  // ── labels and search ─────────────────────────────────────────────────────────────────

  #bindLabelsAndSearch() {
    this.#api
      .listLabels()
      .then(({ labels }) => {
        this.#labels.setLabels(labels ?? []);
        this.#render();
      })
      .catch(() => {}); // without them the list still shows each conversation's names
    this.#labels.onfilter = (name) => {
      this.#label = name;
      this.#render();
    };
    this.#labels.onchange = (names) => this.#act((id) => this.#api.setLabels(id, names));
    new DashboardSearch({
      api: this.#api,
      view: this.#search,
      label: () => this.#label,
      ended: () => this.#sessionEnded(),
      open: (conversation, seq) => {
        this.#upsert(conversation); // the list may not hold it (closed long ago)
        this.#reveal = seq;
        if (this.#session?.id === String(conversation.id)) this.#revealFound();
        else this.#open(conversation.id);
      },
    });
  }

  /** Scroll the open transcript to the message a search result named. */
  #revealFound() {
    if (this.#reveal !== null && this.#transcript.messages.reveal(this.#reveal)) this.#reveal = null;
  }

  // ── the open transcript ──────────────────────────────────────────────────────────────

  #bindTranscript() {
    const transcript = this.#transcript;
    transcript.onassign = (agentId) =>
      this.#act((id) => this.#api.assignConversation(id, agentId === null ? null : asAgentId(agentId)));
    transcript.onfinish = () => this.#act((id) => this.#api.closeConversation(id));
    transcript.ondismiss = () => this.#dismiss();
    transcript.oninput = (text) => this.#session?.typing.input(text);
    transcript.onreply = (body, kind) => {
      if (!this.#session || this.#ended) return false; // kept in the composer
      this.#session.typing.stop();
      this.#session.conversation.send(body, kind);
      return true;
    };
    transcript.onfiles = (files) => {
      if (!this.#session || this.#ended) return;
      for (const file of files) this.#session.conversation.sendFile(file);
    };
    transcript.messages.onretry = (clientId) => this.#session?.conversation.retry(clientId);
    transcript.messages.ondiscard = (clientId) => {
      this.#session?.conversation.drop(clientId);
      transcript.messages.removePending(clientId);
    };
  }

  async #open(id) {
    const conversation = this.#store.get(id);
    if (!conversation || this.#ended) return;
    if (this.#session?.id === String(id)) {
      this.#transcript.focusComposer();
      return;
    }
    this.#closeSession();
    const session = { id: String(id) };
    session.reader = this.#marks.of(id); // the list's too: one POST per burst for both
    session.typing = new TypingSignal({
      // Typing is a hint: a lost signal costs nothing, so failures are not even reported.
      send: (typing) => this.#api.sendTyping(id, typing).catch(() => {}),
    });
    this.#session = session;
    this.#alerts.opened(id); // a mention of the agent there is read now
    this.#transcript.open(conversation);
    this.#transcript.restoreDraft(this.#drafts.take(session.id));
    session.conversation = this.#createConversation(session);
    this.#render();

    try {
      await session.conversation.open();
    } catch (error) {
      if (this.#session !== session) return;
      const apiError = ApiError.from(error);
      if (apiError.status === 401) {
        this.#sessionEnded();
        return;
      }
      // Unreachable for now: the feed replays everything after the cursor anyway.
      this.#transcript.showError(apiError.message);
    }
    if (this.#session !== session) return;
    session.conversation.follow(this.#transcript.messages.lastSeq);
    this.#markReadIfUnread();
    if (this.#reveal !== null) this.#revealFound();
    else this.#transcript.focusComposer();
  }

  /** The open transcript's conversation: history, its feed, and the agent's outbox. */
  #createConversation(session) {
    const current = () => this.#session === session;
    return new ConversationSession({
      api: this.#api,
      conversationId: session.id,
      base: this.#base,
      negotiateUrl: this.#negotiateUrl,
      // Never the visitor's queue, even in one browser, nor another agent's: the agent who
      // signs in next on this browser must not send what this one left unsent.
      outboxKeyPrefix: `${AGENT_OUTBOX_KEY_PREFIX}${this.#me.id}.`,
      handlers: {
        entry: (message) => this.#show(session, message),
        conversation: (conversation) => this.#upsert(conversation),
        typing: (detail) => this.#transcript.typing.update(detail),
        denied: (detail) => {
          if (detail?.status === 401) this.#sessionEnded();
          else if (current()) this.#transcript.showError(_("This conversation is no longer available."));
        },
        pending: ({ clientId, body, kind }) => {
          if (current()) this.#transcript.messages.addPending(clientId, body, this.#me.name, kind);
        },
        failed: (detail) => {
          if (current()) this.#replyFailed(detail);
        },
      },
    });
  }

  #show(session, message) {
    if (this.#session !== session) return;
    const fresh = this.#transcript.messages.upsert(message);
    if (!fresh) return;
    this.#transcript.typing.message(message);
    if (message.sender !== "visitor") return;
    session.reader.delivered(this.#transcript.messages.lastSeq);
    this.#markRead(session);
  }

  /** Read up to the newest entry shown, if the agent can see it: one POST per burst. */
  #markRead(session) {
    if (document.visibilityState !== "visible" || this.#session !== session) return;
    const seq = this.#transcript.messages.lastSeq;
    if (seq <= 0) return;
    session.reader.seen(seq);
    this.#store.markRead(session.id, seq); // the badge goes at once, not after the POST
    this.#render();
  }

  /** On opening and on the tab becoming visible: mark read if the server counts unread. */
  #markReadIfUnread() {
    const session = this.#session;
    const conversation = session && this.#store.get(session.id);
    if (conversation?.unread > 0) this.#markRead(session);
  }

  /** A reply the outbox could not send: say why, or end the agent's session on a 401. */
  #replyFailed(detail) {
    this.#transcript.messages.markFailed(detail.clientId);
    if (!detail.error) return; // not sent before the page was left: it still waits, marked
    const error = ApiError.from(detail.error);
    if (error.status === 401) this.#sessionEnded();
    else if (error.status === 409) this.#transcript.showReplyError(_("This conversation is closed; the reply was not sent."));
    else if (detail.permanent) this.#transcript.showReplyError(error.message);
    else this.#transcript.showReplyError(_("Your reply could not be sent. Check your connection and retry."));
  }

  /** Run an action on the open conversation (assign, close) and take its answer. */
  async #act(request) {
    const session = this.#session;
    if (!session || this.#ended) return;
    this.#transcript.clearError();
    try {
      const answer = await request(session.id);
      if (answer?.conversation) this.#upsert(answer.conversation);
    } catch (error) {
      const apiError = ApiError.from(error);
      if (apiError.status === 401) this.#sessionEnded();
      else if (this.#session === session) this.#transcript.showError(apiError.message);
    }
  }

  /** Close the transcript and give the keyboard back to the list. */
  #dismiss() {
    const id = this.#session?.id;
    this.#closeSession();
    this.#render();
    document.querySelector(`#conversation-list [data-conversation-id="${CSS.escape(id ?? "")}"]`)?.focus();
  }

  #closeSession() {
    const session = this.#session;
    if (!session) return;
    this.#session = null;
    this.#picker.close();
    session.conversation.close(); // unsent replies stay stored and go when it is opened again
    session.typing.stop();
    this.#transcript.close();
  }

  /** 401: the agent's session is over. Stop everything and say how to come back. */
  #sessionEnded() {
    if (this.#ended) return;
    this.#ended = true;
    // What the agent was typing waits for them in that conversation after they sign in.
    if (this.#session && this.#transcript.hasDraft) {
      const { text, kind } = this.#transcript.draft;
      this.#drafts.keep(this.#session.id, text, kind);
    }
    this.#closeSession();
    this.#marks.close();
    this.#alerts.close();
    this.#negotiator?.close();
    this.#presence.stop();
    this.#render();
    const notice = document.getElementById("session-ended");
    if (notice) notice.hidden = false;
  }
}

/** A select's value as the id the API expects (numbers stay numbers). */
function asAgentId(value) {
  return /^\d+$/.test(String(value)) ? Number(value) : value;
}


const root = document.getElementById("dashboard");
if (root) new DashboardPage(root).start();
