/**
 * Notifier: gets the agent's attention when the dashboard is not being looked at — a short
 * beep for a new conversation and a count in the tab's title. Knows no network and no
 * conversation: the page tells it when to beep and what to count.
 *
 * The beep is a WebAudio oscillator, so there is no sound file to serve. Browsers refuse
 * audio until the page has had a user gesture, and some have no WebAudio at all: a beep
 * that cannot play is silently skipped, never an error.
 */

/** The dashboard's title without a badge. */
export const DASHBOARD_TITLE = "devtone dashboard";

/** "(3) devtone dashboard", or the bare title when there is nothing to count. */
export function titleWithBadge(count, title = DASHBOARD_TITLE) {
  return Number.isInteger(count) && count > 0 ? `(${count}) ${title}` : title;
}

/** The tab title badge and the new-conversation beep. */
export class Notifier {
  #document;
  #AudioContext;
  #title;
  #audio = null; // one AudioContext, made at the first beep

  /** `document` and `AudioContext` are injectable for tests. */
  constructor({
    document = globalThis.document,
    AudioContext = globalThis.AudioContext ?? globalThis.webkitAudioContext,
    title = DASHBOARD_TITLE,
  } = {}) {
    this.#document = document;
    this.#AudioContext = AudioContext;
    this.#title = title;
  }

  /** Show `count` in the tab title (nothing when 0). */
  badge(count) {
    const text = titleWithBadge(count, this.#title);
    if (this.#document.title !== text) this.#document.title = text;
  }

  /** A short beep; does nothing where audio is unavailable or not yet allowed. */
  beep() {
    try {
      this.#audio ??= new this.#AudioContext();
      const audio = this.#audio;
      // A context made before any click starts suspended; resuming may be refused.
      audio.resume?.()?.catch?.(() => {});
      const start = audio.currentTime;
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.2, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.25);
      oscillator.connect(gain);
      gain.connect(audio.destination);
      oscillator.start(start);
      oscillator.stop(start + 0.3);
    } catch {
      // No WebAudio, or the browser said no: the title badge still tells.
    }
  }
}
