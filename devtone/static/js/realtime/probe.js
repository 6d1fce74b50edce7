/**
 * Probe: the background retry of the top tier while a lower tier delivers (DESIGN.md §2,
 * step 4). The TierNegotiator owns one and decides when to climb; the probe does the climbing.
 *
 * - Scheduling: it counts its own retries (reset only when the top tier says hello), logs
 *   each like any retry (`Retrying connection in 2000ms (attempt 2)`), waits its backoff
 *   delay, then tells the negotiator the next try is due (`onDue`).
 * - A try: the top tier's transport, started from the cursor. Its wait for hello is bounded
 *   when the tier asks for it (SSE), and what it sends before hello waits in a backlog: a try
 *   delivers nothing until it proves itself. On hello the negotiator takes the transport and
 *   the backlog (`release()`) and promotes them.
 * - Failure: a try that fails is stopped and the negotiator told (`onFailed`), which logs
 *   why (its words depend on what delivers meanwhile) and schedules the next try.
 *
 * It has no timer of its own: it schedules through the negotiator's Timers, so a state
 * transition, which clears every timer and stops the probe, ends it too.
 */
import { because, CODES } from "./reasons.js";

export class Probe {
  #timers;
  #retries; // background retries of the top tier since it last said hello
  #onDue;
  #onFailed;

  #transport = null; // the try in flight
  #backlog = []; // what the try sent before its hello (opaque to the probe), delivered only after it
  #timer = null; // the wait before the next try, or the try's hello timeout

  /**
   * timers: the negotiator's Timers; retries: a Retries of its own; onDue(): the wait is over
   * (the negotiator answers with start()); onFailed(why): a try failed and was stopped
   * (the negotiator answers with schedule()).
   */
  constructor({ timers, retries, onDue, onFailed }) {
    this.#timers = timers;
    this.#retries = retries;
    this.#onDue = onDue;
    this.#onFailed = onFailed;
  }

  /** Whether a try is in flight. */
  get running() {
    return this.#transport !== null;
  }

  /** Whether `transport` is the try in flight (the negotiator routes its callbacks here). */
  carries(transport) {
    return transport === this.#transport;
  }

  /** The top tier proved itself: the next climb starts again from the first delay. */
  reset() {
    this.#retries.reset();
  }

  /**
   * Count a retry and wait its backoff delay (at least `atLeastMs`) before the next try.
   * `announce(ms)` runs in between: there the negotiator announces when the try comes, and
   * since a state transition clears every timer and stops the probe, the wait is armed only
   * after it.
   */
  schedule(announce, atLeastMs = 0) {
    this.#timers.cancel(this.#timer);
    const ms = this.#retries.next(atLeastMs); // logs `Retrying connection in …`
    announce(ms);
    this.#timer = this.#timers.schedule(() => this.#onDue(), ms);
  }

  /** Start a try: `transport` of the TIERS `entry`, from `cursor`. */
  start(entry, transport, { cursor, helloTimeoutMs }) {
    this.#timers.cancel(this.#timer);
    this.#timer = null;
    this.#transport = transport;
    this.#backlog = [];
    if (entry.helloTimeout) {
      const timedOut = because(CODES.timeout, `${entry.label} timeout`);
      this.#timer = this.#timers.schedule(() => this.fail(timedOut), helloTimeoutMs);
    }
    try {
      transport.start(cursor);
    } catch (error) {
      this.fail(because(CODES.failed, `${entry.label} failed: ${error?.message ?? error}`));
    }
  }

  /** An entry or event from the try, kept as it is until its hello. */
  hold(item) {
    this.#backlog.push(item);
  }

  /** The try failed (no hello in time, start threw, its transport closed): stop and hand
   * back `why` ({code, reason} of reasons.js). */
  fail(why) {
    this.stop();
    this.#onFailed(why);
  }

  /** Hand over the try that said hello: {transport, backlog}; the probe is idle again. */
  release() {
    const transport = this.#transport;
    const backlog = this.#backlog;
    this.#transport = null;
    this.#backlog = [];
    this.#timers.cancel(this.#timer);
    this.#timer = null;
    return { transport, backlog };
  }

  /** Stop the try in flight and the wait for the next one; the attempt count stays. */
  stop() {
    const { transport } = this.release();
    transport?.stop();
  }
}
