/**
 * The widget loader's state and its API, `window.devtone` (docs/widget.md). `window`,
 * `document` and `loadPanel` are injected, so the node tests drive it with fakes;
 * js/widget.js, the entry `make assets` builds into /widget.js, passes the browser's and
 * an import() of the built panel.js.
 *
 * After the page has loaded, and once devtone says this site may show it (else one
 * console message names DEVTONE_EMBED_ORIGINS and nothing shows), it adds the launcher:
 * nothing more. The chat (panel.js: the panel, the iframe of <devtone origin>/embed and
 * the postMessage bridge to it) is loaded only when the visitor opens the launcher (or
 * the host calls open()), or at once when the visitor has a conversation going (the frame
 * says so: host-store.js). Calls made before the chat listens are queued.
 *
 * Written for the browsers that have shadow DOM and import(): no `?.` or `??` here.
 */
import { whenAllowed } from "./allowed.js";
import { hostStore } from "./host-store.js";
import { buildLauncher, renderLauncher } from "./launcher.js";
import { devtoneOrigin, findScript, readOptions } from "./options.js";

const PROTOCOL = 1;
const EVENTS = ["ready", "message", "unread"];

/** Install the loader on `window` (once: a second copy leaves the first in charge).
 *  `loadPanel(origin)` resolves to the panel.js module. */
export function startLoader(window, document, loadPanel) {
  const existing = window.devtone;
  if (existing && !Array.isArray(existing) && typeof existing.open === "function") return;

  const script = findScript(document);
  const origin = script ? devtoneOrigin(script, window, document) : "";
  const options = readOptions(script, window.devtoneSettings);
  const store = hostStore(window, origin);
  const handlers = { ready: [], message: [], unread: [] };
  const state = { open: false, ready: false, unread: 0 };
  const outbox = []; // identify and the like, waiting for the chat's `ready`
  let resetPending = false; // reset() before the chat listened (kept in storage too)
  let view = null; // the launcher, once mounted
  let panel = null; // the chat's panel, once panel.js is loaded
  let loading = false;

  const later = (fn) => window.setTimeout(fn, 0);

  function emit(event, value) {
    for (const handler of handlers[event].slice()) {
      try {
        handler(value);
      } catch (error) {
        // A host page's handler must not break the widget; report it asynchronously.
        later(() => {
          throw error;
        });
      }
    }
  }

  function post(type, fields) {
    const message = Object.assign({}, fields, { devtone: PROTOCOL, type });
    if (state.ready) panel.send(message);
    else if (type !== "open" && type !== "close") outbox.push(message); // the state is sent on ready
  }

  function show() {
    if (view) renderLauncher(view, state, options);
    if (panel) panel.render();
  }

  /** Load the chat, once: on the first open, or at mount for a conversation going. */
  function wantChat() {
    if (!view || loading) return;
    loading = true;
    loadPanel(origin).then(
      (module) => {
        panel = module.attachPanel(widget);
        show();
        if (state.open) panel.focus();
      },
      () => {
        loading = false; // the next open tries again
      },
    );
  }

  function setUnread(count) {
    count = typeof count === "number" && count >= 0 && isFinite(count) ? Math.floor(count) : 0;
    if (count === state.unread) return;
    state.unread = count;
    show();
    emit("unread", count);
  }

  function setOpen(open, restoreFocus) {
    open = Boolean(open);
    if (open === state.open) return;
    state.open = open;
    show();
    post(open ? "open" : "close");
    if (open && panel) panel.focus();
    else if (open) wantChat(); // which focuses the panel once it is there
    else if (restoreFocus && view) view.launcher.focus();
  }

  /** The chat's page listens: hand it the visitor, the panel's state and the queued calls. */
  function ready() {
    const first = !state.ready;
    state.ready = true;
    post("restore", { visitor: store.load() }); // first: the page waits for it
    post(state.open ? "open" : "close");
    // reset() before the chat listened: on this page, or on one the chat never loaded on.
    const reset = store.takeReset() || resetPending;
    resetPending = false;
    if (reset) post("reset");
    for (const queued of outbox.splice(0)) post(queued.type, queued);
    if (!first) return;
    emit("ready");
    try {
      document.dispatchEvent(new window.CustomEvent("devtone:ready"));
    } catch {
      // Very old browsers: the on("ready") callback still runs.
    }
  }

  /** What panel.js is given (see there). */
  const widget = { window, document, origin, options, store, state, ready, setOpen, setUnread, emit };

  // ── the launcher ─────────────────────────────────────────────────────────────────────

  let mounting = false;

  function mount() {
    if (view || mounting || !origin || !document.body) return;
    mounting = true;
    whenAllowed(window, origin, options.locale, build);
  }

  function build(words, inHours) {
    // Out of office hours a site may keep the launcher away, unless the visitor has a
    // conversation going (its replies must still reach them). Read once per page view.
    if (options.hideOutOfHours && inHours === false && !store.following()) {
      mounting = false;
      const console = window.console;
      if (console && console.info) console.info("devtone: out of office hours, the launcher stays hidden (hideOutOfHours).");
      return;
    }
    options.words = words;
    options.title = options.title || words.title || "Chat";
    view = widget.view = buildLauncher(window, document, options);
    view.launcher.addEventListener("click", () => setOpen(!state.open, true));
    view.shadow.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && state.open) {
        event.stopPropagation();
        setOpen(false, true);
      }
    });
    // Opened through the API before the mount, or a conversation to follow: the badge
    // and the beep of its agent messages need the chat loaded.
    if (state.open || store.following()) wantChat();
    show();
    document.body.appendChild(view.host);
  }

  // ── the API: window.devtone ──────────────────────────────────────────────────────────

  const api = {
    open: () => setOpen(true, false),
    close: () => setOpen(false, false),
    toggle: () => setOpen(!state.open, false),
    identify(visitor) {
      visitor = visitor && typeof visitor === "object" ? visitor : {};
      const fields = {
        name: typeof visitor.name === "string" ? visitor.name : "",
        email: typeof visitor.email === "string" ? visitor.email : "",
      };
      // A signed identity (docs/identity.md): the site's server computed `hash` from `id`.
      if (typeof visitor.id === "string" && typeof visitor.hash === "string") {
        fields.id = visitor.id;
        fields.hash = visitor.hash;
      }
      post("identify", fields);
    },
    reset() {
      store.forget(); // at once: even if the chat never answers again
      if (state.ready) return post("reset");
      // Whatever was queued was the visitor being forgotten; the chat hears of it on its
      // next `ready`, even on another page.
      outbox.length = 0;
      resetPending = true;
      store.resetLater();
    },
    /** on("ready" | "message" | "unread", fn) → a function that removes the handler. */
    on(event, fn) {
      if (EVENTS.indexOf(event) < 0 || typeof fn !== "function") return () => {};
      const list = handlers[event];
      list.push(fn);
      if (event === "ready" && state.ready) later(() => list.indexOf(fn) >= 0 && fn());
      return () => {
        const index = list.indexOf(fn);
        if (index >= 0) list.splice(index, 1);
      };
    },
    /** The queue stub's shape: push(["identify", {...}]) still works after the load. */
    push(call) {
      if (!call || typeof call.length !== "number") return;
      const name = call[0];
      if (name !== "push" && typeof api[name] === "function") api[name].apply(api, Array.prototype.slice.call(call, 1));
    },
    get isOpen() {
      return state.open;
    },
    get unread() {
      return state.unread;
    },
  };

  // Calls made before the loader ran (window.devtone = [...]), in order.
  if (Array.isArray(existing)) {
    for (const call of existing) {
      try {
        api.push(call);
      } catch {
        // One bad call must not stop the rest.
      }
    }
  }
  window.devtone = api;

  // Never block the page: mount after it has loaded.
  if (document.readyState === "complete") later(mount);
  else window.addEventListener("load", mount);
}
