/**
 * A tier's transport, made for the negotiator: its callbacks routed (transport-routing.js)
 * by the role the transport plays when they fire — the delivering tier's feed the state
 * machine, the probe's try only proves the top tier — and its entries turned into events of
 * the feed's entry type.
 *
 * `port` is what the negotiator lends (negotiator.js builds it once): its feed, limits and
 * probe, what it is now (isClosed(), delivering(), streamUrl()), and the handlers its state
 * machine offers (hello, deliver, activity, trouble, failed, limited, denied, promote).
 */
import { because, CODES } from "./reasons.js";
import { routeTransport } from "./transport-routing.js";

/** A new transport of the TIERS `entry`, made with `options`, wired to `port`. */
export function createTransport(entry, options, port) {
  const transport = entry.create(options);
  const label = entry.label;
  const deny = (error) => port.denied(label, error);
  const roles = {
    isClosed: port.isClosed,
    isMain: (t) => t === port.delivering(),
    isProbe: (t) => port.probe.carries(t),
  };
  const main = {
    onhello: port.hello,
    onevent: port.deliver,
    onping: port.activity,
    // A transport names its code (reasons.js); one that does not has failed.
    onerror: (reason, code = CODES.failed) => port.trouble(because(code, reason)),
    onclosed: (reason, code = CODES.failed) => {
      port.failed(because(code, `${label} ${reason}`));
      const fallback = port.delivering(); // still delivering when the answer comes?
      explain(entry, port, (refusal) => refusal && fallback && port.delivering() === fallback && port.limited(refusal));
    },
    onlimited: port.limited,
    ondenied: deny,
  };
  // The probe's try ignores pings and errors (SSE reconnecting by itself; its hello timeout runs).
  const limited = (refusal) => {
    port.limits.refused(refusal); // first: the probe's next wait honours Retry-After
    port.probe.fail(because(CODES.rate_limited, `${label} refused: ${refusal.reason}`));
  };
  const probe = {
    onhello: port.promote,
    onevent: (type, data) => port.probe.hold([type, data]), // not before hello
    onclosed: (reason, code = CODES.failed) => {
      const why = because(code, `${label} ${reason}`);
      explain(entry, port, (refusal) => {
        if (!port.probe.carries(transport)) return;
        if (refusal) limited(refusal);
        else port.probe.fail(why);
      });
    },
    onlimited: limited,
    ondenied: deny,
  };
  routeTransport(transport, roles, main, probe);
  // An entry is an event of the feed's entry type; the feed drops those already delivered.
  transport.onentry = (message) => transport.onevent(port.feed.entryEvent, message);
  return transport;
}

/**
 * The delivering tier: which of the server's allowed TIERS entries (`tiers`, in its order)
 * delivers (`index`), its transport, and whether that transport said hello (`proven`).
 * `make(entry)` is how the negotiator makes a wired transport (createTransport).
 */
export class DeliveringTier {
  tiers = [];
  index = -1;
  transport = null;
  proven = false;
  #make;

  constructor(make) {
    this.#make = make;
  }

  /** The TIERS entry of the delivering (or trying) tier, if any. */
  get entry() {
    return this.tiers[this.index];
  }

  /** How log lines name it ("SSE", "long-poll"…). */
  get label() {
    return this.entry?.label ?? "no tier";
  }

  /** Make the tier at `index` deliver from `cursor`; returns what its start() threw, if anything. */
  start(index, cursor) {
    this.transport = this.#make(this.tiers[index]);
    this.index = index;
    this.proven = false;
    try {
      this.transport.start(cursor);
      return null;
    } catch (error) {
      return error ?? new Error("start failed"); // e.g. EventSource refusing the URL
    }
  }

  /** `transport` (the probe's, which said hello) delivers as the top tier from now on. */
  takeOver(transport) {
    this.stop();
    Object.assign(this, { transport, index: 0, proven: false });
  }

  /** Stop the delivering transport: no callback of it counts any more. */
  stop() {
    const transport = this.transport;
    this.transport = null;
    transport?.stop();
  }
}

/** EventSource hides why a stream ended: ask (limits.js), then `then(refusal)` unless closed. */
function explain(entry, port, then) {
  if (!entry.statusHidden) return void then(null);
  port.limits.explain(port.streamUrl()).then((refusal) => port.isClosed() || then(refusal));
}
