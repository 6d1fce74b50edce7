import assert from "node:assert/strict";
import { test } from "node:test";

import { fakeStorage, loadWidget } from "./widget-harness.mjs";

const DEVTONE = "http://127.0.0.1:5000";
const HOST = "http://localhost:8765";

const FOLLOWING = `devtone.conversation:${DEVTONE}`;

/** Mount the widget of a visitor with a conversation going (so the chat is framed at
 *  once, the panel closed) and let the iframe say `ready`. */
function readyWidget(options = {}) {
  const storage = options.storage ?? fakeStorage();
  storage.setItem(FOLLOWING, "open");
  const widget = loadWidget({ ...options, storage });
  widget.load();
  widget.fromFrame({ devtone: 1, type: "ready" });
  return widget;
}

test("nothing is added before the page has loaded; one element after", () => {
  const widget = loadWidget();
  assert.equal(widget.body.children.length, 0);
  assert.equal(typeof widget.window.devtone.open, "function");
  widget.load();
  assert.equal(widget.body.children.length, 1);
  assert.equal(widget.host.tagName, "DEVTONE-WIDGET");
  assert.equal(widget.host.style.properties.all, "initial !important");
  assert.equal(widget.shadow.mode, "open");
  assert.equal(widget.shadow.children[0].tagName, "STYLE"); // styles live in the shadow root
});

test("an already complete page is mounted after a tick, not synchronously", () => {
  const widget = loadWidget({ readyState: "complete" });
  assert.equal(widget.body.children.length, 0);
  widget.tick();
  assert.equal(widget.body.children.length, 1);
});

test("defaults: title, colour, right; the iframe frames /embed with the host origin", () => {
  const widget = loadWidget();
  widget.load();
  const launcher = widget.byId("launcher");
  assert.equal(launcher.getAttribute("aria-label"), "Chat with us");
  assert.equal(launcher.getAttribute("aria-expanded"), "false");
  assert.equal(widget.byId("badge").hidden, true);
  launcher.click();
  assert.equal(widget.byId("panel").getAttribute("data-state"), "open");
  assert.equal(widget.iframe.getAttribute("title"), "Chat with us");
  assert.equal(widget.iframe.src, `${DEVTONE}/embed?origin=${encodeURIComponent(HOST)}&title=Chat%20with%20us&color=%232563eb`);
  const root = widget.shadow.children[1];
  assert.equal(root.getAttribute("data-position"), "right");
  assert.equal(root.style.properties["--devtone-color"], "#2563eb");
});

test("data-* options are read from the script tag", () => {
  const widget = loadWidget({
    attributes: {
      src: "https://support.example.com/widget.js?v=2",
      "data-title": "Talk to us",
      "data-color": "#0b5fff",
      "data-position": "left",
    },
  });
  widget.load();
  widget.window.devtone.open();
  assert.equal(widget.byId("launcher").getAttribute("aria-label"), "Talk to us");
  assert.equal(widget.byId("panel").getAttribute("aria-label"), "Talk to us");
  assert.equal(widget.iframe.getAttribute("title"), "Talk to us");
  assert.ok(widget.iframe.src.startsWith("https://support.example.com/embed?origin="));
  const root = widget.shadow.children[1];
  assert.equal(root.getAttribute("data-position"), "left");
  assert.equal(root.style.properties["--devtone-color"], "#0b5fff");
});

test("locale and greeting: devtone is asked in that language, and the frame gets them with the brand", () => {
  const widget = loadWidget({
    attributes: {
      src: `${DEVTONE}/widget.js`,
      "data-locale": "pt-BR",
      "data-greeting": "Olá! Como podemos ajudar?",
      "data-color": "#0a7d32",
    },
  });
  widget.load();
  widget.window.devtone.open();
  assert.equal(widget.fetched[0].url, `${DEVTONE}/embed/allowed?locale=pt-BR`);
  const query = new URL(widget.iframe.src).searchParams;
  assert.equal(query.get("locale"), "pt-BR");
  assert.equal(query.get("greeting"), "Olá! Como podemos ajudar?");
  assert.equal(query.get("color"), "#0a7d32");
  assert.equal(query.get("title"), "Chat with us"); // devtone's words: the site set none
  assert.equal(widget.byId("close").getAttribute("aria-label"), "Close chat");
});

test("a malformed locale is dropped, not sent", () => {
  const widget = loadWidget({ attributes: { src: `${DEVTONE}/widget.js`, "data-locale": "pt-BR\"><x" } });
  widget.load();
  assert.equal(widget.fetched[0].url, `${DEVTONE}/embed/allowed?locale=`);
});

test("window.devtoneSettings is used, data-* wins over it, bad values fall back", () => {
  const widget = loadWidget({
    attributes: { src: `${DEVTONE}/widget.js`, "data-title": "From the tag" },
    before: (window) => {
      window.devtoneSettings = { title: "From settings", color: "red;}body{display:none", position: "middle" };
    },
  });
  widget.load();
  assert.equal(widget.byId("launcher").getAttribute("aria-label"), "From the tag");
  const root = widget.shadow.children[1];
  assert.equal(root.style.properties["--devtone-color"], "#2563eb");
  assert.equal(root.getAttribute("data-position"), "right");

  const other = loadWidget({
    before: (window) => {
      window.devtoneSettings = { title: "From settings", color: "rebeccapurple", position: "LEFT" };
    },
  });
  other.load();
  assert.equal(other.byId("launcher").getAttribute("aria-label"), "From settings");
  assert.equal(other.shadow.children[1].style.properties["--devtone-color"], "rebeccapurple");
  assert.equal(other.shadow.children[1].getAttribute("data-position"), "left");
});

test("without currentScript the last script ending in /widget.js is used", () => {
  const widget = loadWidget({ currentScript: false, attributes: { src: "https://chat.example.org/widget.js" } });
  widget.load();
  widget.window.devtone.open();
  assert.ok(widget.iframe.src.startsWith("https://chat.example.org/embed?"));
});

test("the queue stub is replayed in order, then becomes the API (push keeps working)", () => {
  const widget = loadWidget({
    before: (window) => {
      window.devtone = [["identify", { name: "Ada", email: "ada@example.com" }], ["open"], ["nonsense"]];
    },
  });
  assert.equal(Array.isArray(widget.window.devtone), false);
  assert.equal(widget.window.devtone.isOpen, true);
  widget.load(); // opened before the mount: the chat is framed at once
  assert.deepEqual(widget.posted, []); // nothing reaches the iframe before it is ready
  widget.fromFrame({ devtone: 1, type: "ready" });
  assert.deepEqual(widget.posted, [
    { devtone: 1, type: "restore", visitor: null }, // first: the page waits for it
    { devtone: 1, type: "open" },
    { devtone: 1, type: "identify", name: "Ada", email: "ada@example.com" },
  ]);
  assert.ok(widget.targetOrigins.every((origin) => origin === DEVTONE)); // never "*"
  assert.equal(widget.byId("panel").getAttribute("data-state"), "open");

  widget.window.devtone.push(["close"]);
  assert.equal(widget.window.devtone.isOpen, false);
  assert.deepEqual(widget.posted.at(-1), { devtone: 1, type: "close" });
});

test("ready: on('ready') handlers and a devtone:ready event on document, once", () => {
  const widget = loadWidget({ storage: following() });
  const calls = [];
  widget.window.devtone.on("ready", () => calls.push("handler"));
  widget.document.addEventListener("devtone:ready", (event) => calls.push(event.type));
  widget.load();
  widget.fromFrame({ devtone: 1, type: "ready" });
  widget.fromFrame({ devtone: 1, type: "ready" }); // the frame reloaded: state resent, no event
  assert.deepEqual(calls, ["handler", "devtone:ready"]);
  assert.deepEqual(widget.posted, [
    { devtone: 1, type: "restore", visitor: null },
    { devtone: 1, type: "close" },
    { devtone: 1, type: "restore", visitor: null },
    { devtone: 1, type: "close" },
  ]);
  widget.window.devtone.on("ready", () => calls.push("late"));
  widget.tick();
  assert.deepEqual(calls.at(-1), "late"); // a handler added after ready still hears it
});

test("open, close, toggle: panel state, aria-expanded, posts to the frame", () => {
  const widget = readyWidget();
  const { devtone } = widget.window;
  devtone.open();
  assert.equal(widget.byId("panel").getAttribute("data-state"), "open");
  assert.equal(widget.byId("launcher").getAttribute("aria-expanded"), "true");
  assert.ok(widget.iframe.focused > 0);
  devtone.toggle();
  assert.equal(widget.byId("panel").getAttribute("data-state"), "closed");
  assert.equal(widget.host.children.length, 0); // the panel is hidden, never removed
  assert.equal(widget.byId("frame"), widget.iframe);
  assert.deepEqual(
    widget.posted.map((message) => message.type),
    ["restore", "close", "open", "close"],
  );
});

test("the launcher toggles; Esc and the close button close and focus the launcher", () => {
  const widget = readyWidget();
  const launcher = widget.byId("launcher");
  launcher.click();
  assert.equal(widget.window.devtone.isOpen, true);
  widget.shadow.dispatchEvent({ type: "keydown", key: "Escape", stopPropagation() {} });
  assert.equal(widget.window.devtone.isOpen, false);
  assert.equal(launcher.focused, 1);
  launcher.click();
  widget.byId("close").click();
  assert.equal(widget.window.devtone.isOpen, false);
  assert.equal(launcher.focused, 2);
  launcher.click();
  widget.fromFrame({ devtone: 1, type: "close" }); // Esc inside the frame
  assert.equal(widget.window.devtone.isOpen, false);
  assert.equal(launcher.focused, 3);
});

test("unread: the badge and on('unread') follow the frame's count", () => {
  const widget = readyWidget();
  const counts = [];
  widget.window.devtone.on("unread", (count) => counts.push(count));
  widget.fromFrame({ devtone: 1, type: "unread", count: 2 });
  const badge = widget.byId("badge");
  assert.equal(badge.hidden, false);
  assert.equal(badge.textContent, "2");
  assert.equal(widget.byId("launcher").getAttribute("aria-label"), "Chat with us (2 unread)");
  assert.equal(widget.window.devtone.unread, 2);
  widget.fromFrame({ devtone: 1, type: "unread", count: 2 }); // no change, no event
  widget.fromFrame({ devtone: 1, type: "unread", count: 0 });
  assert.equal(badge.hidden, true);
  assert.deepEqual(counts, [2, 0]);
});

test("message: on('message') gets the agent message; a throwing handler breaks nothing", () => {
  const widget = readyWidget();
  const seen = [];
  widget.window.devtone.on("message", () => {
    throw new Error("host page bug");
  });
  const off = widget.window.devtone.on("message", (message) => seen.push(message.body));
  widget.fromFrame({ devtone: 1, type: "message", message: { sender: "agent", kind: "text", body: "Hi" } });
  off();
  widget.fromFrame({ devtone: 1, type: "message", message: { sender: "agent", kind: "text", body: "again" } });
  assert.deepEqual(seen, ["Hi"]);
});

test("a foreign origin, a foreign source or a malformed message is ignored", () => {
  const widget = loadWidget({ storage: following() });
  const calls = [];
  widget.window.devtone.on("ready", () => calls.push("ready"));
  widget.window.devtone.on("unread", (count) => calls.push(count));
  widget.load();
  widget.fromFrame({ devtone: 1, type: "ready" }, { origin: "https://evil.example" });
  widget.fromFrame({ devtone: 1, type: "ready" }, { source: {} });
  widget.fromFrame({ type: "ready" });
  widget.fromFrame("ready");
  assert.deepEqual(calls, []);
  assert.deepEqual(widget.posted, []);
  widget.fromFrame({ devtone: 1, type: "ready" });
  widget.fromFrame({ devtone: 1, type: "unread", count: 5 }, { origin: HOST });
  widget.fromFrame({ devtone: 1, type: "close" }, { origin: "https://evil.example" });
  widget.fromFrame({ devtone: 1, type: "conversation", open: false }, { source: {} });
  assert.deepEqual(calls, ["ready"]);
  assert.equal(widget.storage.getItem(FOLLOWING), "open");
  assert.equal(widget.byId("badge").hidden, true);
});

test("a second copy of the loader leaves the first in charge", () => {
  const first = loadWidget();
  const api = first.window.devtone;
  const second = loadWidget({ before: (window) => (window.devtone = api) });
  assert.equal(second.window.devtone, api);
  second.load();
  assert.equal(second.body.children.length, 0);
});

test("styles go into a constructed stylesheet where the browser has one (CSP-safe)", () => {
  const widget = loadWidget({
    before: (window) => {
      window.CSSStyleSheet = class {
        replaceSync(text) {
          this.text = text;
        }
      };
    },
  });
  widget.load();
  assert.equal(widget.shadow.adoptedStyleSheets.length, 1);
  assert.match(widget.shadow.adoptedStyleSheets[0].text, /max-width:480px/);
  assert.match(widget.shadow.adoptedStyleSheets[0].text, /prefers-reduced-motion/);
  assert.equal(widget.shadow.children.some((child) => child.tagName === "STYLE"), false);
  assert.equal(widget.byId("launcher").children[0].tagName, "SVG"); // no innerHTML
});

/** The host page's storage of a visitor whose conversation is going. */
function following() {
  const storage = fakeStorage();
  storage.setItem(FOLLOWING, "open");
  return storage;
}

const VISITOR = { conversationId: 7, token: "a".repeat(43), name: "Ada" };

test("the host page keeps the visitor the frame stores and hands it back on the next ready", () => {
  const storage = following();
  const first = loadWidget({ storage });
  first.load();
  first.fromFrame({ devtone: 1, type: "ready" });
  first.fromFrame({ devtone: 1, type: "store", visitor: VISITOR });
  assert.deepEqual(JSON.parse(storage.getItem(`devtone.visitor:${DEVTONE}`)), VISITOR);

  const reloaded = loadWidget({ storage });
  reloaded.load();
  reloaded.fromFrame({ devtone: 1, type: "ready" });
  assert.deepEqual(reloaded.posted[0], { devtone: 1, type: "restore", visitor: VISITOR });
});

test("reset forgets the stored visitor at once; a malformed record is never stored", () => {
  const widget = readyWidget();
  const { storage } = widget;
  widget.fromFrame({ devtone: 1, type: "store", visitor: VISITOR });
  widget.window.devtone.reset();
  assert.equal(storage.getItem(`devtone.visitor:${DEVTONE}`), null);
  assert.deepEqual(widget.posted.at(-1), { devtone: 1, type: "reset" });
  widget.fromFrame({ devtone: 1, type: "store", visitor: { conversationId: 1, token: "<script>" } });
  assert.equal(storage.getItem(`devtone.visitor:${DEVTONE}`), null);
});

test("a store message from another origin is ignored", () => {
  const widget = readyWidget();
  const storage = widget.storage;
  storage.items.clear();
  widget.fromFrame({ devtone: 1, type: "store", visitor: VISITOR }, { origin: "https://evil.example" });
  widget.fromFrame({ devtone: 1, type: "store", visitor: VISITOR }, { source: {} }); // another frame
  assert.equal(storage.items.size, 0);
});

test("opened while the frame loads: focus waits on the close button, then moves into the chat", () => {
  const widget = loadWidget();
  widget.load();
  widget.byId("launcher").click(); // loads the chat; its page does not listen for Esc yet
  const close = widget.byId("close");
  const frame = widget.byId("frame");
  assert.equal(close.focused, 1);
  assert.equal(frame.focused, 0);
  widget.shadow.activeElement = close; // what the browser's focus now is
  widget.fromFrame({ devtone: 1, type: "ready" });
  assert.equal(frame.focused, 1);
  widget.byId("close").click();
  widget.byId("launcher").click(); // ready: straight into the chat
  assert.equal(frame.focused, 2);
  assert.equal(close.focused, 1);
});

test("a site devtone does not allow shows nothing and says why once, naming the setting", () => {
  const widget = loadWidget({ allowed: false });
  widget.load();
  widget.load(); // a second load event asks nothing more
  assert.equal(widget.body.children.length, 0);
  assert.equal(widget.iframe, null); // not even a frame was made
  assert.deepEqual(widget.fetched.map((f) => f.url), [`${DEVTONE}/embed/allowed?locale=`]);
  assert.equal(widget.fetched[0].init.credentials, "omit");
  assert.equal(widget.warnings.length, 1);
  assert.match(widget.warnings[0], /DEVTONE_EMBED_ORIGINS/);
  assert.match(widget.warnings[0], new RegExp(HOST.replace(/[.:/]/g, "\\$&")));
  widget.window.devtone.open(); // the API stays callable, and harmless
  assert.equal(widget.body.children.length, 0);
});

test("devtone unreachable: nothing shows either, and the console says which server", () => {
  const widget = loadWidget({ allowed: "unreachable" });
  widget.load();
  assert.equal(widget.body.children.length, 0);
  assert.match(widget.warnings[0], /127\.0\.0\.1:5000 could not be reached/);
});

test("the host keeps who the visitor is and their earlier conversations, cleaned", () => {
  const widget = readyWidget();
  const token = "t".repeat(43);
  widget.fromFrame({
    devtone: 1,
    type: "store",
    visitor: { name: "Ada", email: "ada@example.com", earlier: [{ conversationId: 3, token, startedAt: "x" }], evil: 1 },
  });
  assert.deepEqual(JSON.parse(widget.storage.getItem(`devtone.visitor:${DEVTONE}`)), {
    name: "Ada",
    email: "ada@example.com",
    earlier: [{ conversationId: 3, token, startedAt: "x" }],
  });
});

// ── the chat is framed only when it is wanted ─────────────────────────────────────────

test("the launcher alone shows until the visitor opens it; the click frames the chat", () => {
  const widget = loadWidget();
  widget.load();
  assert.ok(widget.byId("launcher"));
  assert.equal(widget.iframe, null); // no /embed, none of its scripts
  assert.equal(widget.byId("panel"), null);
  assert.deepEqual(widget.panelsLoaded, []); // not even the panel's own module
  assert.deepEqual(widget.fetched.map((f) => f.url), [`${DEVTONE}/embed/allowed?locale=`]);
  widget.byId("launcher").click();
  assert.deepEqual(widget.panelsLoaded, [DEVTONE]);
  assert.equal(widget.byId("frame"), widget.iframe);
  assert.equal(widget.iframe.src, `${DEVTONE}/embed?origin=${encodeURIComponent(HOST)}&title=Chat%20with%20us&color=%232563eb`);
  assert.equal(widget.byId("panel").getAttribute("data-state"), "open");
  widget.byId("launcher").click();
  widget.byId("launcher").click();
  assert.equal(widget.byId("panel").children.filter((child) => child.tagName === "IFRAME").length, 1);
  assert.equal(widget.panelsLoaded.length, 1);
});

test("calls before the chat is framed wait for it: identify reaches it on the first open", () => {
  const widget = loadWidget();
  widget.load();
  widget.window.devtone.identify({ name: "Ada" });
  widget.window.devtone.open();
  widget.fromFrame({ devtone: 1, type: "ready" });
  assert.deepEqual(widget.posted, [
    { devtone: 1, type: "restore", visitor: null },
    { devtone: 1, type: "open" },
    { devtone: 1, type: "identify", name: "Ada", email: "" },
  ]);
});

test("a conversation going frames the chat at once on the next page, until the frame says it ended", () => {
  const storage = fakeStorage();
  const first = loadWidget({ storage });
  first.load();
  first.byId("launcher").click();
  first.fromFrame({ devtone: 1, type: "ready" });
  first.fromFrame({ devtone: 1, type: "conversation", open: true }); // the first message went
  assert.equal(storage.getItem(FOLLOWING), "open");

  const next = loadWidget({ storage }); // another page of the site
  next.load();
  assert.ok(next.iframe); // framed without a click: its agent messages raise the badge
  assert.equal(next.byId("panel").getAttribute("data-state"), "closed");
  next.fromFrame({ devtone: 1, type: "ready" });
  next.fromFrame({ devtone: 1, type: "conversation", open: false }); // closed by the agent
  assert.equal(storage.getItem(FOLLOWING), "closed");

  const after = loadWidget({ storage });
  after.load();
  assert.equal(after.iframe, null);
});

test("a visitor record from an older loader, with a conversation, frames the chat at once", () => {
  const storage = fakeStorage();
  storage.setItem(`devtone.visitor:${DEVTONE}`, JSON.stringify(VISITOR)); // and no word on it yet
  const widget = loadWidget({ storage });
  widget.load();
  assert.ok(widget.iframe);
  const named = fakeStorage();
  named.setItem(`devtone.visitor:${DEVTONE}`, JSON.stringify({ name: "Ada" })); // no conversation
  const other = loadWidget({ storage: named });
  other.load();
  assert.equal(other.iframe, null);
});

test("reset before the chat is framed forgets at once and reaches the chat on its next ready, once", () => {
  const storage = following();
  storage.setItem(`devtone.visitor:${DEVTONE}`, JSON.stringify(VISITOR));
  const signingOut = loadWidget({ storage, readyState: "complete" });
  signingOut.window.devtone.identify({ name: "Ada" }); // forgotten by the reset that follows
  signingOut.window.devtone.reset(); // the host's sign-out page, before anything mounted
  assert.equal(storage.getItem(`devtone.visitor:${DEVTONE}`), null);
  assert.equal(storage.getItem(FOLLOWING), "closed");
  signingOut.tick();
  assert.equal(signingOut.iframe, null); // nothing to follow now: not framed

  const next = loadWidget({ storage }); // the frame's own storage may still hold the visitor
  next.load();
  next.byId("launcher").click();
  next.fromFrame({ devtone: 1, type: "ready" });
  assert.deepEqual(next.posted, [
    { devtone: 1, type: "restore", visitor: null },
    { devtone: 1, type: "open" },
    { devtone: 1, type: "reset" },
  ]);
  const later = loadWidget({ storage });
  later.load();
  later.byId("launcher").click();
  later.fromFrame({ devtone: 1, type: "ready" });
  assert.equal(later.posted.some((message) => message.type === "reset"), false);
});

const SRC = { src: `${DEVTONE}/widget.js` };

test("with hideOutOfHours no launcher shows out of office hours, and the console says why", () => {
  const said = [];
  const before = (window) => {
    window.console.info = (message) => said.push(message);
  };
  const widget = loadWidget({ attributes: { ...SRC, "data-hide-out-of-hours": "true" }, inHours: false, before });
  widget.load();
  assert.equal(widget.body.children.length, 0);
  assert.match(said[0], /out of office hours/);
});

test("hideOutOfHours in devtoneSettings works the same; in hours the launcher shows", () => {
  const before = (window) => {
    window.devtoneSettings = { hideOutOfHours: true };
  };
  const closed = loadWidget({ before, inHours: false });
  closed.load();
  assert.equal(closed.body.children.length, 0);
  const open = loadWidget({ before, inHours: true });
  open.load();
  assert.equal(open.body.children.length, 1);
});

test("without the option the launcher shows out of hours too", () => {
  const widget = loadWidget({ inHours: false });
  widget.load();
  assert.equal(widget.body.children.length, 1);
});

test("out of hours a visitor with a conversation going keeps the launcher", () => {
  const storage = fakeStorage();
  storage.setItem(FOLLOWING, "open");
  const widget = loadWidget({ attributes: { ...SRC, "data-hide-out-of-hours": "true" }, inHours: false, storage });
  widget.load();
  assert.equal(widget.body.children.length, 1);
});
