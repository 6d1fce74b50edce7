// routeTransport on its own: a transport's callbacks reach the delivering tier's handlers, the
// probe's, or nothing (replaced, stopped, closed). The negotiator tests cover it in place.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ROUTED_CALLBACKS, routeTransport } from "../../devtone/static/js/realtime/transport-routing.js";

/** Roles as the negotiator has them: who delivers, who the probe tries, whether it closed. */
function setup() {
  const calls = [];
  const who = { main: null, probe: null, closed: false };
  const roles = {
    isClosed: () => who.closed,
    isMain: (transport) => transport === who.main,
    isProbe: (transport) => transport === who.probe,
  };
  const handlers = (role) =>
    Object.fromEntries(ROUTED_CALLBACKS.map((name) => [name, (...args) => calls.push([role, name, ...args])]));
  return { calls, who, roles, main: handlers("main"), probe: handlers("probe") };
}

test("the delivering transport's callbacks reach the main handlers, with their arguments", () => {
  const { calls, who, roles, main, probe } = setup();
  const transport = routeTransport({}, roles, main, probe);
  who.main = transport;
  transport.onhello({ tier: "sse" });
  transport.onevent("message", { seq: 1 });
  transport.onclosed("closed");
  assert.deepEqual(calls, [
    ["main", "onhello", { tier: "sse" }],
    ["main", "onevent", "message", { seq: 1 }],
    ["main", "onclosed", "closed"],
  ]);
});

test("the probe's hello goes to the probe's handler, not to the delivering tier's", () => {
  const { calls, who, roles, main, probe } = setup();
  who.main = routeTransport({}, roles, main, probe);
  const tryTop = routeTransport({}, roles, main, probe);
  who.probe = tryTop;
  tryTop.onhello({ v: 1 });
  tryTop.onevent("message", { seq: 4 });
  assert.deepEqual(calls, [
    ["probe", "onhello", { v: 1 }],
    ["probe", "onevent", "message", { seq: 4 }],
  ]);
});

test("a replaced transport's late callbacks are ignored", () => {
  const { calls, who, roles, main, probe } = setup();
  const old = routeTransport({}, roles, main, probe);
  who.main = old;
  who.main = routeTransport({}, roles, main, probe); // replaced: `old` was stopped
  for (const name of ROUTED_CALLBACKS) old[name]("late");
  assert.deepEqual(calls, []);
});

test("the role is asked when a callback fires: a promoted try reaches the main handlers", () => {
  const { calls, who, roles, main, probe } = setup();
  const tryTop = routeTransport({}, roles, main, probe);
  who.probe = tryTop;
  tryTop.onevent("message", { seq: 1 });
  who.probe = null; // promoted
  who.main = tryTop;
  tryTop.onevent("message", { seq: 2 });
  assert.deepEqual(calls, [
    ["probe", "onevent", "message", { seq: 1 }],
    ["main", "onevent", "message", { seq: 2 }],
  ]);
});

test("nothing is routed once closed, and a role without a handler ignores the callback", () => {
  const { calls, who, roles, main } = setup();
  const tryTop = routeTransport({}, roles, main, { onhello: (data) => calls.push(["probe", "onhello", data]) });
  who.probe = tryTop;
  tryTop.onping({}); // the probe has no onping: ignored, not handed to main
  tryTop.onerror("reconnecting");
  assert.deepEqual(calls, []);
  who.main = tryTop;
  who.closed = true;
  tryTop.onhello({});
  assert.deepEqual(calls, []);
});

test("a handler for a callback that is not routed is refused", () => {
  const { roles, main } = setup();
  assert.throws(() => routeTransport({}, roles, { ...main, onentry: () => {} }), TypeError);
  assert.throws(() => routeTransport({}, roles, main, { onhelo: () => {} }), /onhelo/);
});
