/**
 * Alerts: which visitor messages get the agent's attention, and how often an alert rings
 * again until someone has seen the conversation.
 *
 * A visitor's text in a conversation the agent sees under "Mine" or "Waiting" starts an
 * alert: it rings at once, then again every `intervalMs` (30 s), at most REPEATS more
 * times, and stops as soon as the agent side's seen mark reaches that message (any
 * agent opened it), or the conversation leaves Mine and Waiting (assigned to someone
 * else, closed). A newer visitor message rings at once and starts the count again.
 *
 * A note that mentions the agent (`conversation.mentions[agentId]`, the seq of the newest
 * such note: the dashboard's view only) starts an alert the same way, in any conversation,
 * in view or not; it stops once the agent side's seen mark reaches the note or the agent
 * has the conversation in front of them (`opened`).
 *
 * What a ring does (a sound, a desktop notification, nothing in a follower tab) is the
 * page's `ring` callback: this module knows no DOM and no network, and it owns the one
 * timer of each alert. Every tab of the dashboard runs the same schedule from the same
 * relayed events, so the tab that takes over from a closed leader goes on where it was.
 */

/** How many times an alert rings again after the first, unseen. */
export const REPEATS = 5;
/** How long between two rings, unless the server says otherwise (DEVTONE_ALERT_REPEAT_SECONDS). */
export const REPEAT_MS = 30_000;
/** Every setting, as an agent who never chose has them (the server's defaults too). */
export const DEFAULT_SETTINGS = Object.freeze({ sound: true, desktop: true, badge: true, quiet: false });

/** The seq of the visitor text `conversation` ends with, else null. */
export function visitorSeq(conversation) {
  const last = conversation?.last_message;
  if (last?.sender !== "visitor" || last.kind !== "text" || !Number.isInteger(last.seq)) return null;
  return last.seq;
}

/** The agent side's seen mark (0 when none). */
export function seenSeq(conversation) {
  const seen = conversation?.marks?.agent?.seen;
  return Number.isInteger(seen) ? seen : 0;
}

/**
 * The seq that should alert, else null: a visitor text above `known` (the highest one
 * this page already took into account), not seen yet, in a conversation `inView` (Mine
 * or Waiting).
 */
export function alertingSeq(conversation, { known = 0, inView }) {
  const seq = visitorSeq(conversation);
  if (seq === null || seq <= known || seq <= seenSeq(conversation)) return null;
  return inView(conversation) ? seq : null;
}

/** The seq of the newest note that mentions `agentId` in `conversation`, else null. */
export function mentionSeq(conversation, agentId) {
  if (agentId == null) return null;
  const seq = conversation?.mentions?.[String(agentId)];
  return Number.isInteger(seq) ? seq : null;
}

/** The seq of a mention that should alert, else null: newer than `known`, not seen yet. */
export function mentioningSeq(conversation, { known = 0, agentId }) {
  const seq = mentionSeq(conversation, agentId);
  if (seq === null || seq <= known || seq <= seenSeq(conversation)) return null;
  return seq;
}

/** Whether an alert for `seq` should stop: seen, or no longer in Mine or Waiting. */
export function alertIsOver(conversation, seq, { inView }) {
  return !conversation || seenSeq(conversation) >= seq || !inView(conversation);
}

/** The delay before the next ring after `rings` rang, else null: the alert is done. */
export function nextRingDelay(rings, { intervalMs = REPEAT_MS, repeats = REPEATS } = {}) {
  return rings < 1 + repeats ? intervalMs : null;
}

/** How a ring reaches the agent under `settings`: {sound, desktop}. Quiet mode: neither. */
export function ringWays(settings = DEFAULT_SETTINGS) {
  if (settings.quiet) return { sound: false, desktop: false };
  return { sound: settings.sound !== false, desktop: settings.desktop !== false };
}

/** Settings as the server sent them, each missing or odd one at its default. */
export function readSettings(raw) {
  const settings = { ...DEFAULT_SETTINGS };
  for (const name of Object.keys(DEFAULT_SETTINGS)) {
    if (typeof raw?.[name] === "boolean") settings[name] = raw[name];
  }
  return settings;
}

/** The running alerts of one dashboard and their timers. */
export class Alerts {
  #inView;
  #ring;
  #intervalMs;
  #repeats;
  #setTimeout;
  #clearTimeout;
  #onchange;
  #agentId;
  #known = new Map(); // String(id) → the highest visitor seq taken into account
  #knownMentions = new Map(); // String(id) → the highest mention of this agent taken into account
  #running = new Map(); // String(id) → {seq, rings, conversation, timer, mention}
  #primed = false; // the first snapshot is what the agent finds, not news

  /**
   * `inView(conversation)`: whether it is in Mine or Waiting; `ring(conversation, rings)`:
   * get the agent's attention (rings: 1 the first time); `onchange(ids)`: the ringing set
   * changed; `agentId`: whose mentions alert. Timers are injectable for tests.
   */
  constructor({
    inView,
    agentId = null,
    ring,
    intervalMs = REPEAT_MS,
    repeats = REPEATS,
    setTimeout = (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout = (id) => globalThis.clearTimeout(id),
    onchange = () => {},
  }) {
    this.#inView = inView;
    this.#agentId = agentId;
    this.#ring = ring;
    this.#intervalMs = Number.isFinite(intervalMs) && intervalMs > 0 ? intervalMs : REPEAT_MS;
    this.#repeats = repeats;
    this.#setTimeout = setTimeout;
    this.#clearTimeout = clearTimeout;
    this.#onchange = onchange;
  }

  /** The ids of the conversations whose alert is still running, in order of start. */
  get ringing() {
    return [...this.#running.keys()];
  }

  /** A whole snapshot: the first only primes; later ones alert like upserts, and end the
   * alerts of conversations no longer listed. */
  snapshot(conversations = []) {
    const listed = new Set(conversations.map((conversation) => String(conversation?.id)));
    if (!this.#primed) {
      this.#primed = true;
      for (const conversation of conversations) this.#remember(conversation);
      return;
    }
    for (const id of this.#running.keys()) if (!listed.has(id)) this.#stop(id);
    for (const conversation of conversations) this.update(conversation);
  }

  /** The newest copy of one conversation: start, restart, carry on, or stop its alert. */
  update(conversation) {
    if (conversation?.id == null) return;
    const id = String(conversation.id);
    if (!this.#primed) {
      this.#remember(conversation);
      return;
    }
    const seq = alertingSeq(conversation, { known: this.#known.get(id) ?? 0, inView: this.#inView });
    const mention = mentioningSeq(conversation, { known: this.#knownMentions.get(id) ?? 0, agentId: this.#agentId });
    this.#remember(conversation);
    const running = this.#running.get(id);
    if (seq !== null) {
      this.#start(id, seq, conversation, false);
    } else if (mention !== null) {
      this.#start(id, mention, conversation, true);
    } else if (running) {
      running.conversation = conversation;
      const over = running.mention
        ? seenSeq(conversation) >= running.seq
        : alertIsOver(conversation, running.seq, { inView: this.#inView });
      if (over) this.#stop(id);
    }
  }

  /** The agent has the conversation in front of them: a mention there has been read. */
  opened(id) {
    const running = this.#running.get(String(id));
    if (running?.mention) this.#stop(String(id));
  }

  /** Stop every alert (the agent's session ended). */
  close() {
    for (const id of [...this.#running.keys()]) this.#stop(id);
    this.#primed = false;
  }

  #remember(conversation) {
    const seq = visitorSeq(conversation);
    const id = String(conversation?.id);
    if (seq !== null && seq > (this.#known.get(id) ?? 0)) this.#known.set(id, seq);
    const mention = mentionSeq(conversation, this.#agentId);
    if (mention !== null && mention > (this.#knownMentions.get(id) ?? 0)) this.#knownMentions.set(id, mention);
  }

  #start(id, seq, conversation, mention) {
    const running = this.#running.get(id);
    if (running) this.#clearTimeout(running.timer);
    const started = !running;
    this.#running.set(id, { seq, rings: 0, conversation, timer: null, mention });
    this.#ringNow(id);
    if (started) this.#onchange(this.ringing);
  }

  #ringNow(id) {
    const running = this.#running.get(id);
    if (!running) return;
    running.rings += 1;
    const delay = nextRingDelay(running.rings, { intervalMs: this.#intervalMs, repeats: this.#repeats });
    running.timer = delay === null ? null : this.#setTimeout(() => this.#ringNow(id), delay);
    try {
      this.#ring(running.conversation, running.rings, { mention: running.mention });
    } finally {
      if (delay === null) this.#stop(id); // rang its last time
    }
  }

  #stop(id) {
    const running = this.#running.get(id);
    if (!running) return;
    this.#clearTimeout(running.timer);
    this.#running.delete(id);
    this.#onchange(this.ringing);
  }
}
