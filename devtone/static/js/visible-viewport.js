/**
 * VisibleViewport: the part of the page a phone's on-screen keyboard leaves visible, as CSS.
 *
 * On phones the keyboard shrinks only the visual viewport (iOS Safari, Chrome for Android
 * since 108): `100dvh` keeps the page's full height, so a composer at the bottom of a
 * full-height page ends up under the keyboard. This keeps `--visible-height` and
 * `--visible-top` on the root element equal to the visual viewport's height and offset (the
 * stylesheet sizes and places the chat with them), and is the one listener of the visual
 * viewport's `resize` and `scroll`. While the visitor zooms in (scale ≠ 1) both go away, so
 * the page keeps its layout under the zoom.
 *
 * Keeping the newest message in view as the list shrinks is ScrollFollower's business (it
 * watches the list's size); this only sets the size.
 */

/** The CSS custom properties of a visual viewport, or null while zoomed (or none). */
export function visibleArea(viewport) {
  if (!viewport || Math.abs((viewport.scale ?? 1) - 1) > 0.01) return null;
  return {
    "--visible-height": `${Math.round(viewport.height)}px`,
    "--visible-top": `${Math.round(viewport.offsetTop ?? 0)}px`,
  };
}

/** Mirrors `window.visualViewport` into CSS custom properties on `root`. */
export class VisibleViewport {
  #viewport;
  #root;
  #update = () => this.#apply();

  /** `viewport` is `window.visualViewport` (missing on old browsers: then nothing happens). */
  constructor({ viewport = globalThis.visualViewport, root = globalThis.document?.documentElement } = {}) {
    this.#viewport = viewport ?? null;
    this.#root = root;
  }

  /** Start listening; false when the browser has no visual viewport. */
  start() {
    if (!this.#viewport || !this.#root) return false;
    this.#viewport.addEventListener("resize", this.#update);
    this.#viewport.addEventListener("scroll", this.#update);
    this.#apply();
    return true;
  }

  /** Stop listening and give the layout back to the stylesheet's defaults. */
  stop() {
    this.#viewport?.removeEventListener("resize", this.#update);
    this.#viewport?.removeEventListener("scroll", this.#update);
    this.#write(null);
  }

  #apply() {
    this.#write(visibleArea(this.#viewport));
  }

  #write(area) {
    const style = this.#root.style;
    for (const name of ["--visible-height", "--visible-top"]) {
      if (area) style.setProperty(name, area[name]);
      else style.removeProperty(name);
    }
  }
}
