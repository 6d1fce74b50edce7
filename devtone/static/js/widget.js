/*!
 * devtone widget loader (/widget.js). A classic script for other sites' pages:
 *
 *   <script src="https://support.example.com/widget.js" data-title="Talk to us" async></script>
 *
 * No dependencies, no build, one global: `window.devtone` (see docs/widget.md). After the
 * page has loaded, and once devtone says this site may show it (else one console message
 * names DEVTONE_EMBED_ORIGINS and nothing shows), it adds one element, <devtone-widget>,
 * whose (open) shadow root holds the
 * launcher, its unread badge and the panel with an iframe of <devtone origin>/embed. Styles
 * live inside the shadow root and the host element is `all: initial`, so no CSS crosses
 * either way. The iframe is talked to through postMessage only, origin-checked both ways.
 */
(function (window, document) {
  "use strict";

  var existing = window.devtone;
  // Loaded twice (two snippets): the first copy stays in charge.
  if (existing && !Array.isArray(existing) && typeof existing.open === "function") return;

  var PROTOCOL = 1;
  var DEFAULTS = { title: "Chat with us", color: "#2563eb", position: "right" };
  var EVENTS = { ready: true, message: true, unread: true };
  var COLOR = /^(#[0-9a-f]{3,8}|[a-z]{3,20}|(rgb|hsl)a?\([0-9.,%\s/]+\))$/i;

  // ── options ──────────────────────────────────────────────────────────────────────────

  /** This script's element: currentScript, else the last script whose src ends in /widget.js. */
  function findScript() {
    if (document.currentScript) return document.currentScript;
    var scripts = document.getElementsByTagName("script");
    for (var i = scripts.length - 1; i >= 0; i--) {
      var src = (scripts[i].getAttribute("src") || "").split(/[?#]/)[0];
      if (/(^|\/)widget\.js$/.test(src)) return scripts[i];
    }
    return null;
  }

  function pick(value) {
    return typeof value === "string" && value.trim() ? value.trim() : "";
  }

  /** data-* attributes win over window.devtoneSettings; anything invalid falls back. */
  function readOptions(script, settings) {
    var data = (script && script.dataset) || {};
    settings = settings && typeof settings === "object" ? settings : {};
    var title = pick(data.title) || pick(settings.title) || DEFAULTS.title;
    var color = pick(data.color) || pick(settings.color);
    var position = (pick(data.position) || pick(settings.position)).toLowerCase();
    return {
      title: title.slice(0, 80),
      color: COLOR.test(color) ? color : DEFAULTS.color,
      position: position === "left" ? "left" : "right",
    };
  }

  function devtoneOrigin(script) {
    try {
      return new URL(script.getAttribute("src") || script.src, document.baseURI || window.location.href).origin;
    } catch (error) {
      return "";
    }
  }

  // ── state ────────────────────────────────────────────────────────────────────────────

  var script = findScript();
  var origin = script ? devtoneOrigin(script) : "";
  var options = readOptions(script, window.devtoneSettings);
  var handlers = { ready: [], message: [], unread: [] };
  var state = { open: false, ready: false, unread: 0 };
  var outbox = []; // identify/reset waiting for the iframe's `ready`
  var view = null; // the DOM, once mounted
  var audio = null;

  function emit(event, value) {
    var list = handlers[event].slice();
    for (var i = 0; i < list.length; i++) {
      try {
        list[i](value);
      } catch (error) {
        // A host page's handler must not break the widget; report it asynchronously.
        setTimeout(function () {
          throw error;
        }, 0);
      }
    }
  }

  // ── the visitor's conversation, kept on the host page's side ───────────────────────
  // Browsers deny a third-party frame its storage, so the iframe's own localStorage does
  // not survive a reload when the site and devtone are on different sites. The host page
  // keeps the record (conversation id, visitor token, name) in its own localStorage, as
  // Chatwoot and Intercom do, and hands it back to the iframe on `ready`.

  var VISITOR_KEY = "devtone.visitor:" + origin;
  var TOKEN = /^[A-Za-z0-9_-]{43}$/;

  function text(value, max) {
    return typeof value === "string" ? value.trim().slice(0, max) : "";
  }

  function hasConversation(record) {
    return Boolean(record) && typeof record.conversationId === "number" && typeof record.token === "string" && TOKEN.test(record.token);
  }

  /** The frame's visitor record (see visitor-store.js), cleaned; null if it is not one. */
  function validVisitor(visitor) {
    if (!visitor || typeof visitor !== "object") return null;
    var record = {};
    if (text(visitor.name, 80)) record.name = text(visitor.name, 80);
    if (text(visitor.email, 254)) record.email = text(visitor.email, 254);
    if (hasConversation(visitor)) {
      record.conversationId = visitor.conversationId;
      record.token = visitor.token;
      if (text(visitor.startedAt, 40)) record.startedAt = text(visitor.startedAt, 40);
    }
    var earlier = [];
    var list = Object.prototype.toString.call(visitor.earlier) === "[object Array]" ? visitor.earlier : [];
    for (var i = 0; i < list.length && earlier.length < 10; i++) {
      if (hasConversation(list[i])) {
        earlier.push({ conversationId: list[i].conversationId, token: list[i].token, startedAt: text(list[i].startedAt, 40) });
      }
    }
    if (earlier.length) record.earlier = earlier;
    return record.name || record.token || record.earlier ? record : null;
  }

  var hostStore = {
    load: function () {
      try {
        return validVisitor(JSON.parse(window.localStorage.getItem(VISITOR_KEY)));
      } catch (error) {
        return null;
      }
    },
    save: function (visitor) {
      try {
        var record = validVisitor(visitor);
        if (record) window.localStorage.setItem(VISITOR_KEY, JSON.stringify(record));
        else window.localStorage.removeItem(VISITOR_KEY);
      } catch (error) {
        // No storage on the host page either: the chat works, a reload starts afresh.
      }
    },
  };

  function post(type, fields) {
    var message = { devtone: PROTOCOL, type: type };
    for (var key in fields || {}) {
      if (Object.prototype.hasOwnProperty.call(fields, key) && key !== "devtone" && key !== "type") {
        message[key] = fields[key];
      }
    }
    if (!state.ready || !view) {
      if (type !== "open" && type !== "close") outbox.push(message); // the state is sent on ready
      return;
    }
    try {
      view.iframe.contentWindow.postMessage(message, origin);
    } catch (error) {
      // The frame went away or was refused; nothing to do.
    }
  }

  function beep() {
    try {
      var AudioContext = window.AudioContext || window.webkitAudioContext;
      audio = audio || new AudioContext();
      if (audio.resume) {
        var resumed = audio.resume();
        if (resumed && resumed.catch) resumed.catch(function () {});
      }
      var start = audio.currentTime;
      var oscillator = audio.createOscillator();
      var gain = audio.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.2, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.25);
      oscillator.connect(gain);
      gain.connect(audio.destination);
      oscillator.start(start);
      oscillator.stop(start + 0.3);
    } catch (error) {
      // No WebAudio, or no user gesture yet: the badge still tells.
    }
  }

  function setUnread(count) {
    count = typeof count === "number" && count >= 0 && isFinite(count) ? Math.floor(count) : 0;
    if (count === state.unread) return;
    state.unread = count;
    render();
    emit("unread", count);
  }

  function setOpen(open, restoreFocus) {
    open = Boolean(open);
    if (open === state.open) return;
    state.open = open;
    render();
    post(open ? "open" : "close");
    if (!view) return;
    if (open) {
      focusPanel();
    } else if (restoreFocus) {
      view.launcher.focus();
    }
  }

  /** Focus into the chat once its page listens (it forwards Esc from there); until then
   *  the close button, whose Esc this loader hears: a frame still loading heard nothing. */
  function focusPanel() {
    try {
      (state.ready ? view.iframe : view.close).focus();
    } catch (error) {
      // Focus is a courtesy.
    }
  }

  // ── messages from the iframe ─────────────────────────────────────────────────────────

  function receive(event) {
    if (!view || event.origin !== origin || event.source !== view.iframe.contentWindow) return;
    var data = event.data;
    if (!data || typeof data !== "object" || data.devtone !== PROTOCOL || typeof data.type !== "string") return;
    if (data.type === "ready") {
      var first = !state.ready;
      state.ready = true;
      post("restore", { visitor: hostStore.load() }); // first: the page waits for it
      post(state.open ? "open" : "close");
      // Opened while the frame loaded: the focus waited on the close button; move it in.
      if (first && state.open && view.shadow.activeElement === view.close) focusPanel();
      var queued = outbox.splice(0, outbox.length);
      for (var i = 0; i < queued.length; i++) post(queued[i].type, queued[i]);
      if (first) {
        emit("ready");
        try {
          document.dispatchEvent(new CustomEvent("devtone:ready"));
        } catch (error) {
          // Very old browsers: the on("ready") callback still runs.
        }
      }
    } else if (data.type === "store") {
      hostStore.save(data.visitor);
    } else if (data.type === "unread") {
      setUnread(data.count);
    } else if (data.type === "message") {
      if (!state.open) beep();
      emit("message", data.message);
    } else if (data.type === "close") {
      setOpen(false, true);
    }
  }

  // ── the DOM ──────────────────────────────────────────────────────────────────────────

  var STYLE = [
    ":host{all:initial !important;}",
    ".root{--devtone-color:#2563eb;position:fixed;z-index:2147483000;bottom:20px;right:20px;",
    "font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1b2230;}",
    ".root[data-position=left]{right:auto;left:20px;}",
    "*,*::before,*::after{box-sizing:border-box;}",
    ".launcher{all:unset;box-sizing:border-box;position:relative;display:flex;align-items:center;",
    "justify-content:center;width:56px;height:56px;border-radius:50%;cursor:pointer;",
    "background:var(--devtone-color);color:#fff;box-shadow:0 4px 14px rgb(0 0 0/25%);",
    "transition:transform .15s ease;}",
    ".launcher:hover{transform:scale(1.06);}",
    ".launcher:focus-visible,.close:focus-visible{outline:3px solid #111;outline-offset:3px;}",
    ".launcher svg{width:28px;height:28px;fill:currentColor;}",
    ".badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;",
    "border-radius:11px;background:#d92d20;color:#fff;font:700 12px/22px system-ui,sans-serif;",
    "text-align:center;box-shadow:0 0 0 2px #fff;}",
    ".badge[hidden]{display:none;}",
    ".panel{position:fixed;bottom:88px;right:20px;display:flex;flex-direction:column;",
    "width:380px;height:min(600px,calc(100vh - 108px));max-width:calc(100vw - 40px);",
    "border-radius:14px;overflow:hidden;background:#fff;box-shadow:0 10px 40px rgb(0 0 0/25%);",
    "transition:opacity .18s ease,transform .18s ease,visibility 0s;}",
    ".root[data-position=left] .panel{right:auto;left:20px;}",
    ".panel[data-state=closed]{visibility:hidden;opacity:0;transform:translateY(12px);pointer-events:none;",
    "transition:opacity .18s ease,transform .18s ease,visibility 0s .18s;}",
    ".bar{display:flex;align-items:center;gap:8px;padding:10px 12px 10px 16px;",
    "background:var(--devtone-color);color:#fff;}",
    ".title{flex:1;margin:0;font-weight:600;font-size:15px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;}",
    ".close{all:unset;box-sizing:border-box;width:32px;height:32px;border-radius:50%;cursor:pointer;",
    "text-align:center;font:400 24px/32px system-ui,sans-serif;color:#fff;}",
    ".close:hover{background:rgb(255 255 255/18%);}",
    ".frame{flex:1;width:100%;min-height:0;border:0;display:block;background:#fff;}",
    "@media (max-width:480px){.panel,.root[data-position=left] .panel{top:0;right:0;bottom:0;left:0;",
    "width:100vw;height:100vh;height:100dvh;max-width:none;border-radius:0;}",
    ".root[data-open=true] .launcher{display:none;}}",
    "@media (prefers-reduced-motion:reduce){.launcher,.panel,.panel[data-state=closed]{transition:none;}",
    ".launcher:hover{transform:none;}.panel[data-state=closed]{transform:none;}}",
  ].join("");

  var SVG = "http://www.w3.org/2000/svg";
  var ICON_PATH = "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z";

  /** The launcher's speech-bubble icon, built without innerHTML (Trusted Types pages). */
  function icon() {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(SVG, "path");
    path.setAttribute("d", ICON_PATH);
    svg.appendChild(path);
    return svg;
  }

  /**
   * Styles inside the shadow root: a constructed stylesheet where supported (a host page's
   * CSP `style-src` without 'unsafe-inline' does not block it), else a <style> element.
   */
  function addStyles(shadow) {
    try {
      var sheet = new window.CSSStyleSheet();
      sheet.replaceSync(STYLE);
      shadow.adoptedStyleSheets = [sheet];
      return;
    } catch (error) {
      // Older browsers: fall back to a <style> element.
    }
    var style = document.createElement("style");
    style.textContent = STYLE;
    shadow.appendChild(style);
  }

  function element(tag, attributes) {
    var node = document.createElement(tag);
    for (var name in attributes) node.setAttribute(name, attributes[name]);
    return node;
  }

  /**
   * Ask devtone whether this site may frame the chat (DEVTONE_EMBED_ORIGINS), before
   * showing anything: a launcher that opens a refused frame is worse than none. The
   * browser names the asking page's origin itself (the Origin header of a CORS request),
   * so the answer cannot be talked into a yes. Without fetch (very old browsers) the
   * launcher shows, as it always did.
   */
  function whenAllowed(then) {
    if (typeof window.fetch !== "function") return then();
    var hidden = function (why) {
      if (window.console && window.console.warn) window.console.warn("devtone: the chat widget stays hidden: " + why);
    };
    window
      .fetch(origin + "/embed/allowed", { mode: "cors", credentials: "omit" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(
        function (answer) {
          if (answer && answer.allowed === true) then();
          else
            hidden(
              window.location.origin + " is not allowed to show it. Add this origin to DEVTONE_EMBED_ORIGINS" +
                " on the devtone server (" + origin + ").",
            );
        },
        function () {
          hidden(origin + " could not be reached.");
        },
      );
  }

  var mounting = false;

  function mount() {
    if (view || mounting || !origin || !document.body) return;
    mounting = true;
    whenAllowed(build);
  }

  function build() {
    var host = document.createElement("devtone-widget");
    // Through the CSSOM, not a style attribute: a strict CSP allows this.
    host.style.setProperty("all", "initial", "important");
    var shadow = host.attachShadow({ mode: "open" });
    addStyles(shadow);

    var root = element("div", { class: "root", "data-position": options.position });
    root.style.setProperty("--devtone-color", options.color);

    var panel = element("div", {
      id: "panel",
      class: "panel",
      role: "dialog",
      "aria-label": options.title,
      "data-state": "closed",
    });
    var bar = element("div", { class: "bar" });
    var title = element("p", { class: "title" });
    title.textContent = options.title;
    var close = element("button", { type: "button", id: "close", class: "close", "aria-label": "Close chat" });
    close.textContent = "\u00d7";
    var iframe = element("iframe", {
      id: "frame",
      class: "frame",
      title: options.title,
      src: origin + "/embed?origin=" + encodeURIComponent(window.location.origin),
    });
    bar.appendChild(title);
    bar.appendChild(close);
    panel.appendChild(bar);
    panel.appendChild(iframe);

    var launcher = element("button", {
      type: "button",
      id: "launcher",
      class: "launcher",
      "aria-label": options.title,
      "aria-expanded": "false",
      "aria-controls": "panel",
    });
    launcher.appendChild(icon());
    var badge = element("span", { id: "badge", class: "badge", "aria-hidden": "true" });
    badge.hidden = true;
    launcher.appendChild(badge);

    root.appendChild(panel);
    root.appendChild(launcher);
    shadow.appendChild(root);

    launcher.addEventListener("click", function () {
      setOpen(!state.open, true);
    });
    close.addEventListener("click", function () {
      setOpen(false, true);
    });
    shadow.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && state.open) {
        event.stopPropagation();
        setOpen(false, true);
      }
    });

    view = { host: host, shadow: shadow, root: root, launcher: launcher, badge: badge, panel: panel, iframe: iframe, close: close };
    render();
    window.addEventListener("message", receive);
    document.body.appendChild(host);
  }

  function render() {
    if (!view) return;
    view.root.setAttribute("data-open", state.open ? "true" : "false");
    view.panel.setAttribute("data-state", state.open ? "open" : "closed");
    view.panel.setAttribute("aria-hidden", state.open ? "false" : "true");
    view.launcher.setAttribute("aria-expanded", state.open ? "true" : "false");
    view.badge.textContent = state.unread > 99 ? "99+" : String(state.unread);
    view.badge.hidden = state.unread === 0;
    view.launcher.setAttribute(
      "aria-label",
      state.unread ? options.title + " (" + state.unread + " unread)" : options.title,
    );
  }

  // ── the API: window.devtone ──────────────────────────────────────────────────────────

  var api = {
    open: function () {
      setOpen(true, false);
    },
    close: function () {
      setOpen(false, false);
    },
    toggle: function () {
      setOpen(!state.open, false);
    },
    identify: function (visitor) {
      visitor = visitor && typeof visitor === "object" ? visitor : {};
      post("identify", {
        name: typeof visitor.name === "string" ? visitor.name : "",
        email: typeof visitor.email === "string" ? visitor.email : "",
      });
    },
    reset: function () {
      hostStore.save(null); // at once: even if the iframe never answers again
      post("reset");
    },
    /** on("ready" | "message" | "unread", fn) → a function that removes the handler. */
    on: function (event, fn) {
      if (!EVENTS[event] || typeof fn !== "function") return function () {};
      handlers[event].push(fn);
      if (event === "ready" && state.ready) {
        setTimeout(function () {
          if (handlers.ready.indexOf(fn) >= 0) fn();
        }, 0);
      }
      return function () {
        var index = handlers[event].indexOf(fn);
        if (index >= 0) handlers[event].splice(index, 1);
      };
    },
    /** The queue stub's shape: push(["identify", {...}]) still works after the load. */
    push: function (call) {
      if (!call || typeof call.length !== "number") return;
      var name = call[0];
      if (name === "push" || typeof api[name] !== "function") return;
      api[name].apply(api, Array.prototype.slice.call(call, 1));
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
    for (var i = 0; i < existing.length; i++) {
      try {
        api.push(existing[i]);
      } catch (error) {
        // One bad call must not stop the rest.
      }
    }
  }
  window.devtone = api;

  // Never block the page: mount after it has loaded.
  if (document.readyState === "complete") setTimeout(mount, 0);
  else window.addEventListener("load", mount);
})(window, document);
