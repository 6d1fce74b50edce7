/**
 * Watchdog: a live stream that goes silent is a dead stream (DESIGN.md §2, step 2). The server
 * sends a named `ping` every heartbeat, which JavaScript sees (a `:` comment it would not), so
 * `watchdog_heartbeats` heartbeats (2.5) without any event mean the connection died without
 * the browser noticing: a proxy that holds the socket open, a laptop that slept.
 *
 * The negotiator feeds it every event of the delivering transport and arms it while live; it
 * schedules through the negotiator's Timers, so a state transition disarms it too.
 */
export class Watchdog {
  #timers;
  #now;
  #timings;
  #timer = null;
  #lastEventAt = 0;

  /** timings(): the current timings (the server's answer to negotiate replaces them). */
  constructor({ timers, now, timings }) {
    this.#timers = timers;
    this.#now = now;
    this.#timings = timings;
  }

  /** How long a live stream may stay silent, in ms. */
  get ms() {
    const timings = this.#timings();
    return timings.heartbeat_ms * timings.watchdog_heartbeats;
  }

  /**
   * Whether the last event is older than that. Timers are throttled in background tabs and
   * stop during sleep, so the countdown may not have fired although the stream is long dead.
   */
  get overdue() {
    return this.#now() - this.#lastEventAt > this.ms;
  }

  /** An event arrived. */
  feed() {
    this.#lastEventAt = this.#now();
  }

  /** Restart the countdown: `onSilent(ms)` runs unless it is restarted within `ms`. */
  arm(onSilent) {
    this.#timers.cancel(this.#timer);
    this.#timer = this.#timers.schedule(() => onSilent(this.ms), this.ms);
  }
}
