/**
 * The site's colour inside the widget's frame: the widget's `color` option (checked by
 * the server, written on the page as data-brand-color) becomes the chat's accent, with
 * a text colour that stays readable on it (WCAG contrast), whatever the site picked.
 */

const DARK_TEXT = "#111827";
const LIGHT_TEXT = "#ffffff";

/** WCAG relative luminance of an sRGB colour given as 0–255 channels. */
export function luminance([r, g, b]) {
  const linear = (channel) => {
    const c = channel / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

/** White on the colour when it reads well enough (4.5:1), else near-black. */
export function textOn(rgb) {
  const onWhite = 1.05 / (luminance(rgb) + 0.05);
  return onWhite >= 4.5 ? LIGHT_TEXT : DARK_TEXT;
}

/** "rgb(10, 125, 50)" or "rgba(…)" → [10, 125, 50]; null for anything else. */
export function channels(computed) {
  const match = /^rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(String(computed));
  return match ? match.slice(1, 4).map(Number) : null;
}

/** Make `color` (any CSS colour) the accent of the page under `root`. */
export function applyBrand(root, color, view = root.ownerDocument.defaultView) {
  if (!color) return;
  // The browser resolves any CSS colour (a name, hsl()…) to rgb() for us.
  const probe = root.ownerDocument.createElement("span");
  probe.style.color = color;
  root.append(probe);
  const rgb = channels(view.getComputedStyle(probe).color);
  probe.remove();
  if (!rgb) return;
  const style = root.ownerDocument.documentElement.style;
  style.setProperty("--accent", `rgb(${rgb.join(" ")})`);
  style.setProperty("--accent-strong", `color-mix(in srgb, rgb(${rgb.join(" ")}) 82%, black)`);
  style.setProperty("--accent-text", textOn(rgb));
}
