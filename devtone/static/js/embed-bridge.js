/**
 * The /embed page's side of the widget bridge: postMessage to and from the host page that
 * loaded /widget.js, and nothing else.
 *
 * The host page's origin comes from the server (`data-host-origin`, set only for an origin in
 * DEVTONE_EMBED_ORIGINS). Without it the bridge is off: it neither sends nor accepts a
 * message. With it, it accepts only messages whose `event.origin` is exactly that origin and
 * whose `event.source` is the parent window, and posts only to that origin (never "*").
 *
 * Messages are objects `{devtone: 1, type, ...}`:
 * - host → embed: `restore` {visitor} (first answer to `ready`), `open`, `close` (the panel's
 *   visibility), `identify` {name, email, id?, hash?} (id and hash: a signed identity,
 *   docs/identity.md), `reset`
 * - embed → host: `ready`, `store` {visitor} (null: forget it), `unread` {count} (the
 *   agent's messages the visitor has not seen: from the server's seen mark, so the badge
 *   is the same on every page of the host site), `message` {message}, `close` (Esc),
 *   `conversation` {open} (whether the visitor has a conversation going: the loader then
 *   frames this page at once on the host's next page, and otherwise only on a click)
 *
 * The visitor record (see visitor-store.js) is kept by the host page: browsers deny a
 * third-party frame its storage, so the frame's own would not survive a reload.
 *
 * `window` and `parent` are injected, so this module has node tests.
 */

import { isAgentText } from "./unseen.js";
import { validIdentity, validVisitor } from "./visitor-store.js";

export { isAgentText, validVisitor };

export const PROTOCOL = 1;

const text = (value, max) => (typeof value === "string" ? value.trim().slice(0, max) : "");
const INBOUND = new Set(["restore", "open", "close", "identify", "reset"]);
/** How long the page waits for the host's `restore` before starting without it. */
export const RESTORE_TIMEOUT_MS = 1500;

/** What an `identify` message says: name and e-mail (trimmed), and a signed identity's
 * id and hash as given (the hash signs the id exactly; the server checks both). */
export function identifyDetail(data) {
  const detail = { name: text(data.name, 80), email: text(data.email, 254) };
  const identity = validIdentity({ id: data.id, hash: data.hash });
  if (identity) Object.assign(detail, identity);
  return detail;
}

/** Is `data` one of ours (`{devtone: 1, type: "<string>"}`)? */
export function isBridgeMessage(data) {
  return Boolean(data) && typeof data === "object" && data.devtone === PROTOCOL && typeof data.type === "string";
}

/** postMessage to and from the host page, origin-checked both ways. */
export class EmbedBridge extends EventTarget {
  #hostOrigin;
  #window;
  #parent;
  #onMessage = (event) => this.#receive(event);
  #onKeydown = (event) => {
    if (event.key === "Escape" && !event.defaultPrevented) this.post("close");
  };
  #started = false;

  constructor({ hostOrigin = "", window = globalThis.window, parent = window?.parent } = {}) {
    super();
    this.#hostOrigin = typeof hostOrigin === "string" ? hostOrigin : "";
    this.#window = window;
    this.#parent = parent;
  }

  /** Only with a host origin, and only inside a frame (a parent that is not the window). */
  get enabled() {
    return Boolean(this.#hostOrigin && this.#window && this.#parent && this.#parent !== this.#window);
  }

  start() {
    if (!this.enabled || this.#started) return this.#started;
    this.#started = true;
    this.#window.addEventListener("message", this.#onMessage);
    // Focus inside the frame keeps key events from the host page: Esc is forwarded.
    this.#window.addEventListener("keydown", this.#onKeydown);
    return true;
  }

  stop() {
    if (!this.#started) return;
    this.#started = false;
    this.#window.removeEventListener("message", this.#onMessage);
    this.#window.removeEventListener("keydown", this.#onKeydown);
  }

  /** Send `{devtone: 1, type, ...fields}` to the host origin; false when the bridge is off. */
  post(type, fields = {}) {
    if (!this.#started) return false;
    try {
      this.#parent.postMessage({ ...fields, devtone: PROTOCOL, type }, this.#hostOrigin);
      return true;
    } catch {
      return false; // a message that cannot be cloned, or a parent that went away
    }
  }

  #receive(event) {
    if (event.origin !== this.#hostOrigin || event.source !== this.#parent) return;
    const data = event.data;
    if (!isBridgeMessage(data) || !INBOUND.has(data.type)) return;
    let detail = {};
    if (data.type === "identify") detail = identifyDetail(data);
    else if (data.type === "restore") detail = { visitor: validVisitor(data.visitor) };
    this.dispatchEvent(new CustomEvent(data.type, { detail }));
  }
}

/**
 * The visitor store of an embedded page: the frame's own storage when the browser grants
 * it, mirrored to the host page (`store`), and what the host handed back (`restore`).
 */
export function hostBackedStore(bridge, own) {
  let restored = null;
  return {
    restore(visitor) {
      restored = validVisitor(visitor);
    },
    load() {
      return own.load() ?? restored;
    },
    save(visitor) {
      restored = validVisitor(visitor);
      own.save(visitor);
      bridge.post("store", { visitor: restored });
    },
    forget() {
      restored = null;
      own.forget();
      bridge.post("store", { visitor: null });
    },
  };
}

/**
 * Tells the host whether the visitor has a conversation going (`conversation` {open}), on
 * each change: waiting or active, or closed with agent messages they have not seen (the
 * badge must show those). Between conversations, or before the page knows the status of
 * the one it opens, it says nothing: a page left at that moment must not make the next
 * one forget a conversation that is going.
 */
function conversationReporter(bridge) {
  let status = null; // the conversation's status, once known
  let unread = 0;
  let told = null; // what the host was last told
  const tell = (open) => {
    if (open === told) return;
    told = open;
    bridge.post("conversation", { open });
  };
  const judge = () => tell(status === "waiting" || status === "active" || (status === "closed" && unread > 0));
  return {
    status(next) {
      if (!next) return;
      status = next;
      judge();
    },
    unseen(count) {
      unread = count;
      if (status) judge();
    },
    /** The visitor has no conversation now (left for a new one, forgotten, gone). */
    ended() {
      status = null;
      tell(false);
    },
  };
}

/**
 * Wire the chat page to the host page. `page` offers identify({name, email, id, hash}), reset() and
 * setPanelOpen(open); the returned controller's `message(entry)` is told every new live
 * entry and `unseen(count)` each count of unseen agent messages, `store` is the page's
 * visitor store, and `ready()` says the page is set up and resolves once the host has
 * handed back the visitor (or after RESTORE_TIMEOUT_MS); `status(status)` is told the
 * conversation's status whenever the page shows it (null between conversations).
 * Returns null when the bridge is off.
 */
export function connectEmbed({
  page,
  hostOrigin,
  ownStore,
  window = globalThis.window,
  parent = window?.parent,
  setTimeout = (fn, ms) => globalThis.setTimeout(fn, ms),
}) {
  const bridge = new EmbedBridge({ hostOrigin, window, parent });
  if (!bridge.start()) return null;
  const reporter = conversationReporter(bridge);
  const backed = hostBackedStore(bridge, ownStore);
  const store = {
    ...backed,
    save(visitor) {
      backed.save(visitor);
      if (!validVisitor(visitor)?.token) reporter.ended();
    },
    forget() {
      backed.forget();
      reporter.ended();
    },
  };
  let restored;
  const restoredOnce = new Promise((resolve) => {
    restored = resolve;
  });
  bridge.addEventListener("restore", ({ detail }) => {
    store.restore(detail.visitor);
    restored();
  });
  let unread = 0; // the last count the host was told
  bridge.addEventListener("open", () => page.setPanelOpen(true));
  bridge.addEventListener("close", () => page.setPanelOpen(false));
  bridge.addEventListener("identify", ({ detail }) => page.identify(detail));
  bridge.addEventListener("reset", () => page.reset());

  return {
    bridge,
    store,
    get unread() {
      return unread;
    },
    ready() {
      bridge.post("ready");
      setTimeout(restored, RESTORE_TIMEOUT_MS); // a host that never answers must not stall us
      return restoredOnce.then(() => {
        if (!store.load()?.token) reporter.ended(); // nothing going: the host may stop framing us
      });
    },
    status: (status) => reporter.status(status),
    /** The page's count of unseen agent messages; the host hears each change. */
    unseen(count) {
      reporter.unseen(count);
      if (count === unread) return;
      unread = count;
      bridge.post("unread", { count });
    },
    /** A new live entry: the host hears of the agent's messages (and may beep). */
    message(entry) {
      if (isAgentText(entry)) bridge.post("message", { message: entry });
    },
  };
}
