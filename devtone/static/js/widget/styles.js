/**
 * The widget's look. Its styles live inside the shadow root (the host element is
 * `all: initial`), so no CSS crosses either way: the launcher's here, the panel's in
 * panel.js (loaded with the chat). Rules select by id where the element has one.
 */

/** The launcher, its badge and the root both parts hang from. */
export const LAUNCHER_STYLE =
  ".root{--devtone-color:#2563eb;position:fixed;z-index:2147483000;bottom:20px;right:20px;" +
  "font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1b2230}" +
  ".root[data-position=left]{right:auto;left:20px}" +
  "*,*::before,*::after{box-sizing:border-box}" +
  "#launcher{all:unset;box-sizing:border-box;border-radius:50%;cursor:pointer;color:#fff;" +
  "position:relative;display:flex;align-items:center;justify-content:center;width:56px;height:56px;" +
  "background:var(--devtone-color);box-shadow:0 4px 14px rgb(0 0 0/25%);transition:transform .15s}" +
  "#launcher:hover{transform:scale(1.06)}" +
  "#launcher:focus-visible{outline:3px solid #111;outline-offset:3px}" +
  "#launcher svg{width:28px;height:28px;fill:currentColor}" +
  "#badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;" +
  "border-radius:11px;background:#d92d20;color:#fff;font:700 12px/22px system-ui,sans-serif;" +
  "text-align:center;box-shadow:0 0 0 2px #fff}" +
  "@media (max-width:480px){.root[data-open=true] #launcher{display:none}}" +
  "@media (prefers-reduced-motion:reduce){#launcher{transition:none}#launcher:hover{transform:none}}";

/**
 * Add `css` to the shadow root: a constructed stylesheet where supported (a host page's
 * CSP `style-src` without 'unsafe-inline' does not block it), else a <style> element.
 */
export function addStyles(shadow, css, window, document) {
  try {
    const sheet = new window.CSSStyleSheet();
    sheet.replaceSync(css);
    shadow.adoptedStyleSheets = [...(shadow.adoptedStyleSheets || []), sheet];
    return;
  } catch {
    // Older browsers: fall back to a <style> element.
  }
  const style = document.createElement("style");
  style.textContent = css;
  shadow.appendChild(style);
}

/** An element with `attributes`. */
export function element(document, tag, attributes) {
  const node = document.createElement(tag);
  for (const name in attributes) node.setAttribute(name, attributes[name]);
  return node;
}
