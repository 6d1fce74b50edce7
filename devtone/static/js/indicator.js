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

const TIER_NAMES = Object.freeze({
  sse: "Server-Sent Events",
  longpoll: "long-polling",
  poll: "polling every 30 s",
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

/** Tooltip text naming the tier and, when offline, the next retry time. */
export function describe({ state, tier, nextRetryAt }, formatTime = defaultFormatTime) {
  const via = TIER_NAMES[tier] ?? tier ?? "no connection";
  const retry = Number.isFinite(nextRetryAt) ? `; next retry at ${formatTime(nextRetryAt)}` : "";
  switch (state) {
    case "live":
      return `Connected (${via})`;
    case "polling":
      return `Connected (${via}); trying to get back to real time`;
    case "offline":
      return `Disconnected${retry}`;
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
