/**
 * The chat panel: the part of the widget that comes with the chat, loaded by the loader
 * (import(), an ES module of devtone's build) only when the visitor opens the launcher or
 * has a conversation going. It adds the panel (title bar, close button, the iframe of
 * <devtone origin>/embed) and talks to the iframe through postMessage only, origin-checked
 * both ways: it accepts only messages whose origin is devtone's and whose source is its
 * iframe, and posts only to devtone's origin.
 *
 * `widget` is the loader's side (loader.js): {window, document, origin, options, store,
 * state, view, ready(), setOpen(), setUnread(), emit()}.
 */
import { validVisitor } from "../visitor-store.js";
import { beeper } from "./beep.js";
import { addStyles, element } from "./styles.js";

const PROTOCOL = 1;

const PANEL_STYLE =
  "#panel{position:fixed;bottom:88px;right:20px;display:flex;flex-direction:column;" +
  "width:380px;height:min(600px,calc(100vh - 108px));max-width:calc(100vw - 40px);" +
  "border-radius:14px;overflow:hidden;background:#fff;box-shadow:0 10px 40px rgb(0 0 0/25%);" +
  "transition:opacity .18s,transform .18s,visibility 0s}" +
  ".root[data-position=left] #panel{right:auto;left:20px}" +
  "#panel[data-state=closed]{visibility:hidden;opacity:0;transform:translateY(12px);pointer-events:none;" +
  "transition:opacity .18s,transform .18s,visibility 0s .18s}" +
  ".bar{display:flex;align-items:center;gap:8px;padding:10px 12px 10px 16px;" +
  "background:var(--devtone-color);color:#fff}" +
  ".title{flex:1;margin:0;font-weight:600;font-size:15px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}" +
  "#close{all:unset;box-sizing:border-box;width:32px;height:32px;border-radius:50%;cursor:pointer;" +
  "text-align:center;font:400 24px/32px system-ui,sans-serif;color:#fff}" +
  "#close:hover{background:rgb(255 255 255/18%)}" +
  "#close:focus-visible{outline:3px solid #111;outline-offset:3px}" +
  "#frame{flex:1;width:100%;min-height:0;border:0;display:block;background:#fff}" +
  "@media (max-width:480px){#panel,.root[data-position=left] #panel{top:0;right:0;bottom:0;left:0;" +
  "width:100vw;height:100vh;height:100dvh;max-width:none;border-radius:0}}" +
  "@media (prefers-reduced-motion:reduce){#panel,#panel[data-state=closed]{transition:none;transform:none}}" +
  // The frame's page turns dark by itself (its stylesheet); these keep the panel from
  // flashing white around it while it loads, and mark its edge on a dark host page. The
  // bar and close button stay in the site's colour, white on it in both themes.
  "@media (prefers-color-scheme:dark){#panel,#frame{background:#171d27}" +
  "#panel{box-shadow:0 0 0 1px #343d4c,0 10px 40px rgb(0 0 0/60%)}}";

/** /embed's query: who frames it, and the site's branding and language for the chat. */
export function embedQuery(hostOrigin, options) {
  const fields = { origin: hostOrigin, locale: options.locale, title: options.title, color: options.color };
  if (options.greeting) fields.greeting = options.greeting;
  return Object.keys(fields)
    .filter((name) => fields[name])
    .map((name) => `${name}=${encodeURIComponent(fields[name])}`)
    .join("&");
}

/** Add the panel to the loader's widget; returns {send, render, focus}. */
export function attachPanel(widget) {
  const { window, document, origin, options, state, store, view } = widget;
  const beep = beeper(window);
  addStyles(view.shadow, PANEL_STYLE, window, document);

  const panel = element(document, "div", { id: "panel", role: "dialog", "aria-label": options.title });
  const bar = element(document, "div", { class: "bar" });
  const title = element(document, "p", { class: "title" });
  title.textContent = options.title;
  const close = element(document, "button", { type: "button", id: "close", "aria-label": (options.words || {}).close || "×" });
  close.textContent = "\u00d7";
  const iframe = element(document, "iframe", {
    id: "frame",
    title: options.title,
    src: `${origin}/embed?${embedQuery(window.location.origin, options)}`,
  });
  bar.appendChild(title);
  bar.appendChild(close);
  panel.appendChild(bar);
  panel.appendChild(iframe);
  view.root.insertBefore(panel, view.launcher); // before the launcher: the tab order
  close.addEventListener("click", () => widget.setOpen(false, true));

  /** Focus into the chat once its page listens (it forwards Esc from there); until then
   *  the close button, whose Esc the loader hears: a frame still loading heard nothing. */
  function focus() {
    try {
      (state.ready ? iframe : close).focus();
    } catch {
      // Focus is a courtesy.
    }
  }

  const inbox = {
    ready() {
      const waiting = state.open && view.shadow.activeElement === close;
      widget.ready();
      // Opened while the frame loaded: the focus waited on the close button; move it in.
      if (waiting) focus();
    },
    // Only a clean record reaches the host page's storage (the loader keeps what it is given).
    store: (data) => store.save(validVisitor(data.visitor)),
    conversation: (data) => store.follow(data.open === true),
    unread: (data) => widget.setUnread(data.count),
    message(data) {
      if (!state.open) beep();
      widget.emit("message", data.message);
    },
    close: () => widget.setOpen(false, true),
  };

  window.addEventListener("message", (event) => {
    if (event.origin !== origin || event.source !== iframe.contentWindow) return;
    const data = event.data;
    if (!data || typeof data !== "object" || data.devtone !== PROTOCOL) return;
    if (Object.prototype.hasOwnProperty.call(inbox, data.type)) inbox[data.type](data);
  });

  return {
    /** Post `message` to the chat's page, at devtone's origin only (never "*"). */
    send(message) {
      try {
        iframe.contentWindow.postMessage(message, origin);
      } catch {
        // The frame went away or was refused; nothing to do.
      }
    },
    render() {
      panel.setAttribute("data-state", state.open ? "open" : "closed");
      panel.setAttribute("aria-hidden", String(!state.open));
    },
    focus,
  };
}
