/**
 * ConnectionIndicator: shows the negotiator's state on one element. Knows no transport and
 * never touches the network; it only renders what a `statechange` detail says.
 *
 * The colour (green, yellow, red: DESIGN.md §2) is a dot the stylesheet draws from
 * `data-state`, not an emoji, so it shows whatever fonts the device has. The label stays
 * short; the accessible name and the tooltip say what the state means for the person
 * reading (the tooltip's second line names the tier and the next retry).
 */

import { _, language } from "./texts.js";

/** Labels of the customer chat (DESIGN.md §2); the dashboard passes its own. */
export const CHAT_LABELS = Object.freeze({
  connecting: _("Connecting…"),
  live: _("Live"),
  polling: _("Polling"),
  offline: _("Offline"),
});

/** Labels of the agents' dashboard (DESIGN.md §2); the tier is in the tooltip. */
export const DASHBOARD_LABELS = Object.freeze({
  connecting: _("Connecting…"),
  live: _("Real-time"),
  polling: _("Polling Mode"),
  offline: _("Disconnected"),
});

/** What each state means for the visitor. */
export const CHAT_MEANINGS = Object.freeze({
  connecting: _("Connecting — messages will be sent once connected"),
  live: _("Messages arrive instantly"),
  polling: _("Messages may take a few seconds"),
  offline: _("Offline — we'll send when you're back"),
});

/** What each state means for the agent: the list, the transcript and the replies. */
export const DASHBOARD_MEANINGS = Object.freeze({
  connecting: _("Connecting — updates start once connected"),
  live: _("Conversations and messages update instantly"),
  polling: _("Updates may take a few seconds"),
  offline: _("Disconnected — replies are sent when the connection is back"),
});

const TIER_NAMES = Object.freeze({
  sse: "Server-Sent Events",
  longpoll: "long-poll",
  poll: "poll",
  none: _("no connection"),
});

/** Local wall-clock time of an epoch-ms instant, e.g. "20:01:05". */
function defaultFormatTime(epochMs) {
  return new Date(epochMs).toLocaleTimeString(language(), {
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
      return _("Connected ({tier})", { tier: via });
    case "polling":
      return at
        ? _("Polling ({tier}); retrying live connection at {time}", { tier: via, time: at })
        : _("Polling ({tier})", { tier: via });
    case "offline":
      return at ? _("Disconnected; next retry at {time}", { time: at }) : _("Disconnected");
    default:
      return tier && tier !== "none" ? _("Connecting ({tier})…", { tier: via }) : _("Connecting…");
  }
}

/** The accessible name: the label and what it means, the label once ("Live: Messages
 *  arrive instantly", but "Offline — we'll send when you're back"). */
export function accessibleName(label, meaning) {
  if (!meaning) return label;
  const bare = label.replace(/…$/, "").toLocaleLowerCase();
  return meaning.toLocaleLowerCase().startsWith(bare) ? meaning : `${label}: ${meaning}`;
}

/** Renders data-state, data-tier, the label, an accessible name and a tooltip on one element. */
export class ConnectionIndicator {
  #element;
  #labels;
  #meanings;
  #formatTime;

  /** `labels` and `meanings` map state → text; `formatTime(epochMs)` is injectable for tests. */
  constructor(element, { labels = CHAT_LABELS, meanings = CHAT_MEANINGS, formatTime = defaultFormatTime } = {}) {
    this.#element = element;
    this.#labels = { ...CHAT_LABELS, ...labels };
    this.#meanings = { ...CHAT_MEANINGS, ...meanings };
    this.#formatTime = formatTime;
  }

  /** Show one state; takes a `statechange` detail as it is. */
  render({ state = "connecting", tier = "none", nextRetryAt = null } = {}) {
    const element = this.#element;
    const label = this.#labels[state] ?? state;
    const meaning = this.#meanings[state];
    element.dataset.state = state;
    element.dataset.tier = tier;
    element.textContent = label;
    const detail = describe({ state, tier, nextRetryAt }, this.#formatTime);
    element.title = meaning ? `${meaning}\n${detail}` : detail;
    element.setAttribute("aria-label", accessibleName(label, meaning));
  }
}
