// Runs the widget loader (devtone/static/js/widget/loader.js, what /widget.js is built from)
// against a minimal fake window and DOM: just what the loader touches, so tests can see
// the launcher, the badge, the panel and the iframe, and play the iframe's side of
// postMessage. The loader takes `window` and `document` as arguments, so each test gets
// a page of its own.
import { startLoader } from "../../devtone/static/js/widget/loader.js";
import * as panelModule from "../../devtone/static/js/widget/panel.js";

export class FakeEventTarget {
  listeners = new Map();
  addEventListener(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push(fn);
  }
  removeEventListener(type, fn) {
    const list = this.listeners.get(type) ?? [];
    const index = list.indexOf(fn);
    if (index >= 0) list.splice(index, 1);
  }
  dispatchEvent(event) {
    for (const fn of [...(this.listeners.get(event.type) ?? [])]) fn(event);
    return true;
  }
  count(type) {
    return (this.listeners.get(type) ?? []).length;
  }
}

export class FakeElement extends FakeEventTarget {
  children = [];
  attributes = {};
  textContent = "";
  innerHTML = "";
  hidden = false;
  shadowRoot = null;
  focused = 0;
  constructor(tagName) {
    super();
    this.tagName = tagName.toUpperCase();
    const properties = {};
    this.style = {
      properties,
      setProperty: (name, value, priority = "") => {
        properties[name] = priority ? `${value} !${priority}` : value;
      },
    };
  }
  get dataset() {
    const data = {};
    for (const [name, value] of Object.entries(this.attributes)) {
      if (name.startsWith("data-")) data[name.slice(5).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = value;
    }
    return data;
  }
  setAttribute(name, value) {
    this.attributes[name] = String(value);
  }
  getAttribute(name) {
    return name in this.attributes ? this.attributes[name] : null;
  }
  appendChild(child) {
    this.children.push(child);
    child.parentNode = this;
    return child;
  }
  insertBefore(child, reference) {
    const index = this.children.indexOf(reference);
    this.children.splice(index < 0 ? this.children.length : index, 0, child);
    child.parentNode = this;
    return child;
  }
  attachShadow({ mode }) {
    this.shadowRoot = new FakeElement("#shadow-root");
    this.shadowRoot.mode = mode;
    return this.shadowRoot;
  }
  focus() {
    this.focused += 1;
  }
  click() {
    this.dispatchEvent({ type: "click" });
  }
  /** Depth-first search by id (inside shadow roots too). */
  find(id) {
    for (const child of [...this.children, ...(this.shadowRoot ? [this.shadowRoot] : [])]) {
      if (child.attributes?.id === id) return child;
      const found = child.find?.(id);
      if (found) return found;
    }
    return null;
  }
  get src() {
    return this.attributes.src ?? "";
  }
}

/** The iframe's window: records what the loader posts to it. */
export class FakeFrameWindow {
  posted = [];
  postMessage(data, targetOrigin) {
    this.posted.push({ data: structuredClone(data), targetOrigin });
  }
}

/** A promise-like that settles at once, so the harness stays synchronous. */
function settled(value, failed = false) {
  const next = (result) => (typeof result?.then === "function" ? result : settled(result));
  return {
    then(onValue, onError) {
      try {
        if (failed) return onError ? next(onError(value)) : settled(value, true);
        return next(onValue ? onValue(value) : value);
      } catch (error) {
        return settled(error, true);
      }
    },
  };
}

/** The launcher's words as devtone sends them to an English visitor. */
export const WORDS = Object.freeze({
  title: "Chat with us",
  close: "Close chat",
  unread_one: "{count} unread",
  unread_other: "{count} unread",
});

/**
 * devtone's answer to GET /embed/allowed: `allowed` true or false, or "unreachable"; and
 * whether it is within office hours (`inHours`).
 * The requests the loader made are kept in `harness.fetched`.
 */
function fakeFetch(allowed, fetched, inHours = true) {
  return (url, init) => {
    fetched.push({ url, init });
    if (allowed === "unreachable") return settled(new TypeError("Failed to fetch"), true);
    const answer = { allowed, words: allowed === true ? WORDS : {}, in_hours: inHours };
    return settled({ ok: true, json: () => settled(answer) });
  };
}

/** A localStorage for the host page of a widget test (`items` to look inside). */
export function fakeStorage() {
  const items = new Map();
  return {
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
    removeItem: (key) => items.delete(key),
    items,
  };
}

/**
 * Load the loader. `attributes` are its <script>'s; `before(window)` runs first (a stub
 * queue, devtoneSettings); `readyState` "complete" mounts after a tick, else on `load`;
 * `storage` is the host page's localStorage (pass one to share it between two pages);
 * `inHours`: whether devtone says it is within office hours.
 */
export function loadWidget({
  attributes = { src: "http://127.0.0.1:5000/widget.js" },
  hostOrigin = "http://localhost:8765",
  before = () => {},
  readyState = "loading",
  currentScript = true,
  allowed = true,
  inHours = true,
  storage = fakeStorage(),
} = {}) {
  const script = new FakeElement("script");
  for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value);
  const body = new FakeElement("body");
  const frames = [];
  const timers = [];
  const document = new FakeEventTarget();
  Object.assign(document, {
    readyState,
    body,
    baseURI: `${hostOrigin}/page.html`,
    currentScript: currentScript ? script : null,
    getElementsByTagName: (tag) => (tag === "script" ? [new FakeElement("script"), script] : []),
    createElementNS: (namespace, tag) => Object.assign(new FakeElement(tag), { namespace }),
    createElement(tag) {
      const element = new FakeElement(tag);
      if (tag === "iframe") {
        element.contentWindow = new FakeFrameWindow();
        frames.push(element);
      }
      return element;
    },
  });
  const window = new FakeEventTarget();
  window.location = { origin: hostOrigin, href: `${hostOrigin}/page.html` };
  const fetched = [];
  const warnings = [];
  window.fetch = fakeFetch(allowed, fetched, inHours);
  window.console = { warn: (message) => warnings.push(message) };
  window.URL = URL;
  window.CustomEvent = class CustomEvent {
    constructor(type, init = {}) {
      this.type = type;
      this.detail = init.detail;
    }
  };
  window.setTimeout = (fn) => timers.push(fn);
  window.localStorage = storage;
  before(window);
  const panelsLoaded = [];
  const loadPanel = (origin) => {
    panelsLoaded.push(origin);
    return settled(panelModule);
  };
  startLoader(window, document, loadPanel);

  const harness = {
    window,
    document,
    storage,
    body,
    fetched,
    warnings,
    /** The origins panel.js was loaded from (once per page, when the chat is wanted). */
    panelsLoaded,
    get host() {
      return body.children.find((child) => child.tagName === "DEVTONE-WIDGET") ?? null;
    },
    get shadow() {
      return this.host?.shadowRoot ?? null;
    },
    byId: (id) => harness.host?.find(id) ?? null,
    get iframe() {
      return frames[0] ?? null;
    },
    /** Fire the page's load event (readyState "loading"). */
    load() {
      document.readyState = "complete";
      window.dispatchEvent({ type: "load" });
    },
    /** Run the timers the loader set (setTimeout 0). */
    tick() {
      for (const fn of timers.splice(0)) fn();
    },
    /** A message event as the browser would deliver it to the host window. */
    fromFrame(data, { origin = "http://127.0.0.1:5000", source = harness.iframe?.contentWindow } = {}) {
      window.dispatchEvent({ type: "message", origin, source, data });
    },
    /** What the loader posted to the iframe (data only), and the target origins used. */
    get posted() {
      return (harness.iframe?.contentWindow.posted ?? []).map((entry) => entry.data);
    },
    get targetOrigins() {
      return (harness.iframe?.contentWindow.posted ?? []).map((entry) => entry.targetOrigin);
    },
  };
  return harness;
}
