/**
 * The browser APIs the realtime classes use, injectable so they run in Node tests on fakes:
 * each option given wins, each missing one is the browser's own (read when first called,
 * so a page that lacks one, e.g. BroadcastChannel, still loads).
 */
export function browserApis({
  fetch = (...args) => globalThis.fetch(...args),
  EventSource = globalThis.EventSource,
  window = globalThis,
  document = globalThis.document,
  setTimeout = (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout = (id) => globalThis.clearTimeout(id),
  logger = globalThis.console,
  now = () => Date.now(),
  random = Math.random,
} = {}) {
  return { fetch, EventSource, window, document, setTimeout, clearTimeout, logger, now, random };
}
