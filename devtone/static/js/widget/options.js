/**
 * The loader's options and devtone's origin, read from its own <script> tag: data-*
 * attributes win over window.devtoneSettings; anything invalid falls back to the default.
 */

const COLOR = /^(#[0-9a-f]{3,8}|[a-z]{3,20}|(rgb|hsl)a?\([0-9.,%\s/]+\))$/i;

/** This script's element: currentScript, else the last script whose src ends in /widget.js. */
export function findScript(document) {
  if (document.currentScript) return document.currentScript;
  const scripts = document.getElementsByTagName("script");
  for (let i = scripts.length - 1; i >= 0; i--) {
    const src = (scripts[i].getAttribute("src") || "").split(/[?#]/)[0];
    if (/(^|\/)widget\.js$/.test(src)) return scripts[i];
  }
  return null;
}

const pick = (value) => (typeof value === "string" ? value.trim() : "");

/** {title, color, position, locale, greeting, hideOutOfHours} from the script's data-*
 *  and `settings`, cleaned. An empty title is filled by devtone's words in the visitor's
 *  language. */
export function readOptions(script, settings) {
  const data = (script && script.dataset) || {};
  settings = settings && typeof settings === "object" ? settings : {};
  const option = (name) => pick(data[name]) || pick(settings[name]);
  const color = option("color");
  return {
    title: option("title").slice(0, 80),
    color: COLOR.test(color) ? color : "#2563eb",
    position: option("position").toLowerCase() === "left" ? "left" : "right",
    locale: /^[a-z]{2}([-_][a-z]{2})?$/i.test(option("locale")) ? option("locale") : "",
    greeting: option("greeting").slice(0, 200),
    // data-hide-out-of-hours="true", or devtoneSettings.hideOutOfHours: true.
    hideOutOfHours: data.hideOutOfHours === "true" || settings.hideOutOfHours === true,
  };
}

/** The origin the loader came from: devtone's, where /embed lives ("" if unreadable). */
export function devtoneOrigin(script, window, document) {
  try {
    return new window.URL(script.getAttribute("src") || script.src, document.baseURI || window.location.href).origin;
  } catch {
    return "";
  }
}
