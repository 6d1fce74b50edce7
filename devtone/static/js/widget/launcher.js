/**
 * The loader's DOM: one element, <devtone-widget>, whose (open) shadow root holds the
 * launcher and its unread badge. The panel with the chat's iframe comes with panel.js,
 * only when the chat is wanted: a visitor who never opens the launcher costs the host
 * page no frame, and none of its scripts.
 */
import { addStyles, element, LAUNCHER_STYLE } from "./styles.js";

const SVG = "http://www.w3.org/2000/svg";
const ICON_PATH = "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z";

/** The launcher's speech-bubble icon, built without innerHTML (Trusted Types pages). */
function icon(document) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", ICON_PATH);
  svg.appendChild(path);
  return svg;
}

/** The widget's elements, not yet in the page: {host, shadow, root, launcher, badge}. */
export function buildLauncher(window, document, options) {
  const host = document.createElement("devtone-widget");
  // Through the CSSOM, not a style attribute: a strict CSP allows this.
  host.style.setProperty("all", "initial", "important");
  const shadow = host.attachShadow({ mode: "open" });
  addStyles(shadow, LAUNCHER_STYLE, window, document);

  const root = element(document, "div", { class: "root", "data-position": options.position });
  root.style.setProperty("--devtone-color", options.color);
  const launcher = element(document, "button", {
    type: "button",
    id: "launcher",
    "aria-label": options.title,
    "aria-expanded": "false",
    "aria-controls": "panel",
  });
  launcher.appendChild(icon(document));
  const badge = element(document, "span", { id: "badge", "aria-hidden": "true" });
  badge.hidden = true;
  launcher.appendChild(badge);
  root.appendChild(launcher);
  shadow.appendChild(root);
  return { host, shadow, root, launcher, badge };
}

/** Show `state` ({open, unread}) on the launcher and its badge; `options.words` are
 *  devtone's, in the visitor's language ("{count} unread"). */
export function renderLauncher(view, state, options) {
  const title = options.title;
  const words = options.words || {};
  const unreadText = (state.unread === 1 ? words.unread_one : words.unread_other) || "{count}";
  const unread = state.unread;
  view.root.setAttribute("data-open", String(state.open));
  view.launcher.setAttribute("aria-expanded", String(state.open));
  view.badge.textContent = unread > 99 ? "99+" : String(unread);
  view.badge.hidden = !unread;
  view.launcher.setAttribute("aria-label", unread ? `${title} (${unreadText.replace("{count}", unread)})` : title);
}
