/**
 * Notifier: gets the agent's attention when the dashboard is not being looked at — a short
 * beep, and a count in the tab's title and on its favicon. Knows no network and no
 * conversation: the page (its alerts, alerts.js) tells it when to beep and what to count.
 *
 * The beep is a WebAudio oscillator, so there is no sound file to serve. Browsers refuse
 * audio until the page has had a user gesture, and some have no WebAudio at all: a beep
 * that cannot play is silently skipped, never an error.
 */

import { playTone } from "./tone.js";

/** The dashboard's title without a badge. */
export const DASHBOARD_TITLE = "devtone dashboard";

/** "(3) devtone dashboard", or the bare title when there is nothing to count. */
export function titleWithBadge(count, title = DASHBOARD_TITLE) {
  return Number.isInteger(count) && count > 0 ? `(${count}) ${title}` : title;
}

/** The tab's badges (title and favicon) and the alert's beep. */
export class Notifier {
  #document;
  #AudioContext;
  #title;
  #favicon;
  #audio = null; // one AudioContext, made at the first beep

  /** `document`, `AudioContext` and `favicon` (a FaviconBadge) are injectable for tests. */
  constructor({
    document = globalThis.document,
    AudioContext = globalThis.AudioContext ?? globalThis.webkitAudioContext,
    title = document?.title || DASHBOARD_TITLE, // the page's own, in its language
    favicon = null,
  } = {}) {
    this.#document = document;
    this.#AudioContext = AudioContext;
    this.#title = title;
    this.#favicon = favicon;
  }

  /** Show `count` in the tab title and on the favicon (nothing when 0). */
  badge(count) {
    const text = titleWithBadge(count, this.#title);
    if (this.#document.title !== text) this.#document.title = text;
    this.#favicon?.show(count);
  }

  /** A short beep; does nothing where audio is unavailable or not yet allowed. */
  beep() {
    try {
      playTone(this.#resumed());
    } catch {
      // No WebAudio, or the browser said no: the title badge still tells.
    }
  }

  /**
   * Get the audio ready at the agent's first click or key on `target`: a context made
   * before any gesture on the page starts suspended, and a beep from a tab in the
   * background could never resume it.
   */
  unlockOnGesture(target) {
    const gestures = ["pointerdown", "keydown"];
    const unlock = () => {
      for (const type of gestures) target.removeEventListener(type, unlock, true);
      try {
        this.#resumed();
      } catch {
        // No WebAudio: nothing to get ready.
      }
    };
    for (const type of gestures) target.addEventListener(type, unlock, true);
  }

  /** The one AudioContext, made at first use, asked to resume (which may be refused). */
  #resumed() {
    this.#audio ??= new this.#AudioContext();
    this.#audio.resume?.()?.catch?.(() => {});
    return this.#audio;
  }
}
