/**
 * Transport routing: where a transport's callbacks (transports.js) go. The negotiator makes
 * each transport for one of two roles — the delivering tier, or the probe's try of the top
 * tier — and a transport may change role (a try that says hello is promoted) or lose it
 * (replaced, stopped, or the negotiator closed). A stopped transport may still call back
 * (a request answering late, an event already queued), and that must not move the state
 * machine: so every callback asks, when it fires, who the transport is *now*, and goes to
 * the delivering tier's handlers, to the probe's, or nowhere — late callbacks of replaced
 * transports are ignored.
 *
 * A pure function: no state and no timers of its own.
 */

/** The callbacks that are routed (`onentry` is not: the negotiator makes it an `onevent`). */
export const ROUTED_CALLBACKS = Object.freeze([
  "onhello",
  "onevent",
  "onping",
  "onerror",
  "onclosed",
  "onlimited",
  "ondenied",
]);

/**
 * Set `transport`'s routed callbacks. `isClosed()`, `isMain(transport)` and
 * `isProbe(transport)` are asked on every call; `main` and `probe` map callback names to
 * handlers, and a callback a role has no handler for is ignored in that role.
 */
export function routeTransport(transport, { isClosed, isMain, isProbe }, main, probe = {}) {
  for (const name of [...Object.keys(main), ...Object.keys(probe)]) {
    if (!ROUTED_CALLBACKS.includes(name)) throw new TypeError(`not a routed callback: ${name}`);
  }
  for (const name of ROUTED_CALLBACKS) {
    transport[name] = (...args) => {
      if (isClosed()) return;
      if (isMain(transport)) main[name]?.(...args);
      else if (isProbe(transport)) probe[name]?.(...args);
    };
  }
  return transport;
}
