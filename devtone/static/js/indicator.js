/**
 * ConnectionIndicator: shows the negotiator's state on one element. Knows no transport and
 * never touches the network; it only renders what a `statechange` detail says.
 */

/** Labels of the customer chat (DESIGN.md §2); the dashboard passes its own. */
export const CHAT_LABELS = Object.freeze({
  connecting: "Connecting…",
  live: "🟢 Live",
  polling: "🟡 Polling",
  offline: "🔴 Offline",
});

/** Labels of the agents' dashboard (DESIGN.md §2); the tier is in the tooltip. */
export const DASHBOARD_LABELS = Object.freeze({
  connecting: "Connecting…",
  live: "🟢 Real-time",
  polling: "🟡 Polling Mode",
  offline: "🔴 Disconnected",
});

const TIER_NAMES = Object.freeze({
  sse: "Server-Sent Events",
  longpoll: "long-poll",
  poll: "poll",
  none: "no connection",
});

/** Local wall-clock time of an epoch-ms instant, e.g. "20:01:05". */
function defaultFormatTime(epochMs) {
  return new Date(epochMs).toLocaleTimeString([], {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

/**
 * Tooltip text naming the tier and the next retry time: of the connection while offline,
 * of the live connection while polling (e.g. "Polling (long-poll); retrying live
 * connection at 20:01:05").
 */
export function describe({ state, tier, nextRetryAt }, formatTime = defaultFormatTime) {
  const via = TIER_NAMES[tier] ?? tier ?? "no connection";
  const at = Number.isFinite(nextRetryAt) ? formatTime(nextRetryAt) : null;
  switch (state) {
    case "live":
      return `Connected (${via})`;
    case "polling":
      return at ? `Polling (${via}); retrying live connection at ${at}` : `Polling (${via})`;
    case "offline":
      return at ? `Disconnected; next retry at ${at}` : "Disconnected";
    default:
      return tier && tier !== "none" ? `Connecting (${via})…` : "Connecting…";
  }
}

/** Renders data-state, data-tier, the label and a tooltip on one element. */
export class ConnectionIndicator {
  #element;
  #labels;
  #formatTime;

  /** `labels` maps state → text; `formatTime(epochMs)` is injectable for tests. */
  constructor(element, { labels = CHAT_LABELS, formatTime = defaultFormatTime } = {}) {
    this.#element = element;
    this.#labels = { ...CHAT_LABELS, ...labels };
    this.#formatTime = formatTime;
  }

  /** Show one state; takes a `statechange` detail as it is. */
  render({ state = "connecting", tier = "none", nextRetryAt = null } = {}) {
    const element = this.#element;
    element.dataset.state = state;
    element.dataset.tier = tier;
    element.textContent = this.#labels[state] ?? state;
    element.title = describe({ state, tier, nextRetryAt }, this.#formatTime);
  }
}
