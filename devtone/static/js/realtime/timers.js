/**
 * Timers: the negotiator's one owner of timers, the only caller of setTimeout / clearTimeout
 * for it. Everything the negotiator waits for (negotiate and hello timeouts, the watchdog,
 * the next retry, the probe's wait and hello timeout) is scheduled here, so one `clear()` on
 * every state transition, and on close(), leaves nothing armed.
 *
 * `schedule()` returns a handle; cancelling a handle whose timer already ran or was cleared
 * does nothing, so a holder need not forget it. setTimeout / clearTimeout are injected, so
 * tests run on a virtual clock.
 */
export class Timers {
  #setTimeout;
  #clearTimeout;
  #armed = new Set(); // handles {id} of the timers that have neither run nor been cleared

  constructor({ setTimeout, clearTimeout }) {
    this.#setTimeout = setTimeout;
    this.#clearTimeout = clearTimeout;
  }

  /** Run `fn` once after `ms`; returns the handle to cancel it with. */
  schedule(fn, ms) {
    const timer = { id: null };
    timer.id = this.#setTimeout(() => {
      this.#armed.delete(timer);
      fn();
    }, ms);
    this.#armed.add(timer);
    return timer;
  }

  /** Disarm one timer; null, or a timer that already ran or was cleared, is ignored. */
  cancel(timer) {
    if (!this.#armed.delete(timer)) return;
    this.#clearTimeout(timer.id);
  }

  /** Disarm every timer. */
  clear() {
    for (const timer of this.#armed) this.#clearTimeout(timer.id);
    this.#armed.clear();
  }
}
