/**
 * DashboardAlerts: every visitor message in a conversation the agent sees in "Mine" or
 * "Waiting", and every note that mentions them (@name, in any conversation), gets their attention — a sound, a desktop notification that opens the
 * conversation, and the count in the tab's title and on its favicon — and rings again
 * until someone has seen it (alerts.js has the rules and the schedule).
 *
 * One tab alerts, not all: every tab runs the same schedule from the dashboard feed's
 * relayed events, but only the tab that leads the feed (shared-feed.js: the Web Lock
 * holder) plays the sound and shows the notification; when it closes, the next leader
 * goes on. The badges are each tab's own. The agent's settings (alert-settings.js) decide
 * which alerts, and quiet mode silences the sound and the notification.
 *
 * The dashboard's wiring for alerts; `dashboard.js` hands it conversations and counts.
 */
import { AlertSettings } from "./alert-settings.js";
import { Alerts, REPEAT_MS, ringWays } from "./alerts.js";
import { DesktopNotifications } from "./desktop-notifications.js";
import { FaviconBadge } from "./favicon.js";
import { Notifier } from "./notifier.js";

export class DashboardAlerts {
  #root;
  #leading;
  #watching;
  #notifier;
  #desktop;
  #settings;
  #alerts;
  #count = 0;

  /**
   * `root`: the dashboard element (its `data-alerts` and `data-alert-repeat-ms`; gets
   * `data-alerting`, the ids whose alert runs); `inView(conversation)`: in Mine or
   * Waiting; `leading()`: whether this tab alerts; `watching(id)`: the agent has that
   * conversation in front of them here; `open(id)`: open it (a notification's click);
   * `save(changes)`: store settings.
   */
  constructor({ root, document, inView, leading, watching, open, save, agentId = null }) {
    this.#root = root;
    this.#leading = leading;
    this.#watching = watching;
    this.#notifier = new Notifier({ document, favicon: new FaviconBadge({ document }) });
    this.#desktop = new DesktopNotifications({ onopen: open });
    this.#settings = new AlertSettings({
      root: document.getElementById("alert-settings"),
      settings: parsed(root.dataset.alerts),
      desktop: this.#desktop,
      save,
    });
    this.#settings.onchange = () => this.badge(this.#count);
    const repeatMs = Number(root.dataset.alertRepeatMs);
    this.#alerts = new Alerts({
      inView,
      agentId,
      intervalMs: Number.isFinite(repeatMs) && repeatMs > 0 ? repeatMs : REPEAT_MS,
      ring: (conversation, rings, why) => this.#ring(conversation, why),
      onchange: (ids) => {
        this.#root.dataset.alerting = ids.join(" ");
      },
    });
  }

  /** Show the settings; get the sound ready at the agent's first gesture. */
  start() {
    this.#root.dataset.alerting = "";
    this.#notifier.unlockOnGesture(this.#root.ownerDocument);
    this.#settings.start();
  }

  /** A snapshot's conversations (the first one is what the agent finds: no alert). */
  snapshot(conversations) {
    this.#alerts.snapshot(conversations);
  }

  /** The newest copy of a conversation. */
  update(conversation) {
    this.#alerts.update(conversation);
  }

  /** The agent opened a conversation: a mention of them there is read. */
  opened(id) {
    this.#alerts.opened(id);
  }

  /** The count for the title and the favicon (none when the agent turned badges off). */
  badge(count) {
    this.#count = count;
    this.#notifier.badge(this.#settings.settings.badge ? count : 0);
  }

  /** The session ended: no more alerts. */
  close() {
    this.#alerts.close();
    this.#settings.close();
  }

  #ring(conversation, { mention = false } = {}) {
    // The other tabs keep the same schedule silently; the one in front of the
    // conversation marks it seen, which ends the alert (a mention: being in front of it).
    if (this.#watching(conversation.id)) {
      this.#alerts.opened(conversation.id);
      return;
    }
    if (!this.#leading()) return;
    const ways = ringWays(this.#settings.settings);
    if (ways.sound) this.#notifier.beep();
    if (ways.desktop) this.#desktop.show(conversation, { mention });
  }
}

function parsed(json) {
  try {
    return JSON.parse(json || "{}");
  } catch {
    return {}; // every alert on, as for an agent who never chose
  }
}
