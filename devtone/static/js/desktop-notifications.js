/**
 * DesktopNotifications: the Notifications API, as the dashboard's alerts use it.
 *
 * Permission is asked only when the agent presses the settings' button (never on load:
 * browsers ignore, and some punish, a request without a gesture). A notification names
 * the visitor and shows their message; one tag per conversation, so a repeat replaces the
 * previous one instead of piling up; clicking it brings the tab forward and opens that
 * conversation.
 */
import { _ } from "./texts.js";

/** The longest message text a notification shows. */
export const BODY_MAX = 140;

/** The title of the notification of a visitor's message. */
export function notificationTitle(conversation) {
  const name = conversation?.visitor?.name || _("Visitor");
  return _("New message from {name}", { name });
}

/** The title of the notification of a note that mentions the agent. */
export function mentionTitle(conversation) {
  const name = conversation?.visitor?.name || _("Visitor");
  return _("You were mentioned in a note on {name}'s conversation", { name });
}

/** The notification's text: the message, cut at BODY_MAX characters. */
export function notificationBody(conversation) {
  const chars = Array.from(String(conversation?.last_message?.body ?? "").trim()); // whole emoji
  return chars.length > BODY_MAX ? `${chars.slice(0, BODY_MAX - 1).join("")}…` : chars.join("");
}

export class DesktopNotifications {
  #Notification;
  #focus;
  #onopen;

  /** `onopen(id)` opens a conversation; `Notification` and `focus` are injectable. */
  constructor({ Notification = globalThis.Notification, focus = () => globalThis.focus?.(), onopen = () => {} } = {}) {
    this.#Notification = typeof Notification === "function" ? Notification : null;
    this.#focus = focus;
    this.#onopen = onopen;
  }

  /** "granted", "denied", "default" (not asked yet) or "unsupported". */
  get permission() {
    return this.#Notification ? this.#Notification.permission : "unsupported";
  }

  /** Ask the browser (from a click); resolves to the permission after. */
  async ask() {
    if (!this.#Notification) return "unsupported";
    try {
      await this.#Notification.requestPermission();
    } catch {
      // An old browser's callback form, or a refusal: the permission tells.
    }
    return this.permission;
  }

  /** Show the visitor's message of `conversation` (or, `mention`, that a note mentions
   *  the agent: the note itself is not in the conversation's shape); null when not allowed. */
  show(conversation, { mention = false } = {}) {
    if (this.permission !== "granted") return null;
    try {
      const title = mention ? mentionTitle(conversation) : notificationTitle(conversation);
      const notification = new this.#Notification(title, {
        body: mention ? _("Open the conversation to read the note.") : notificationBody(conversation),
        tag: `devtone-conversation-${conversation.id}`,
        renotify: true,
      });
      notification.onclick = () => {
        this.#focus();
        this.#onopen(conversation.id);
        notification.close?.();
      };
      return notification;
    } catch {
      return null; // Android's Chromium only notifies from a service worker
    }
  }
}
