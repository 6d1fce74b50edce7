/**
 * FaviconBadge: the count drawn over the tab's icon, so an agent sees it among many tabs.
 *
 * The icon is /favicon.ico (the page's `<link rel="icon">`); with something to count, a
 * copy drawn on a canvas, with a red disc and the count on it, replaces it as a data: URL
 * (the CSP's img-src allows data:). Without a canvas (or before the icon loaded) the
 * plain icon stays: the title still counts.
 */

/** The text on the badge for `count`: null (no badge), "1" … "9", or "9+". */
export function badgeLabel(count) {
  if (!Number.isInteger(count) || count <= 0) return null;
  return count > 9 ? "9+" : String(count);
}

/**
 * Where the badge goes on a `size`-pixel icon: a disc in the top right corner, about
 * two thirds of the icon wide, and the font size that fits `label` in it.
 */
export function badgeGeometry(size, label) {
  const radius = Math.round(size * 0.32);
  const x = size - radius;
  const y = radius;
  const fontSize = Math.round(radius * (label.length > 1 ? 1.15 : 1.5));
  return { x, y, radius, fontSize };
}

export const BADGE_COLOUR = "#d92d20";
export const BADGE_TEXT_COLOUR = "#ffffff";

export class FaviconBadge {
  #document;
  #Image;
  #size;
  #link;
  #plainHref;
  #label = null; // what the icon shows now
  #icon = null; // the loaded icon: a promise of an Image, or null if it cannot load

  /** `document` and `Image` are injectable for tests. */
  constructor({ document = globalThis.document, Image = globalThis.Image, size = 32 } = {}) {
    this.#document = document;
    this.#Image = Image;
    this.#size = size;
    this.#link = document?.querySelector?.('link[rel~="icon"]') ?? null;
    this.#plainHref = this.#link?.getAttribute("href") ?? "/favicon.ico";
  }

  /** The label the icon shows now (null: the plain icon). */
  get label() {
    return this.#label;
  }

  /** Show `count` on the icon (0: the plain icon again). */
  async show(count) {
    const label = badgeLabel(count);
    if (label === this.#label || !this.#link) return;
    this.#label = label;
    if (label === null) {
      this.#set(this.#plainHref, "");
      return;
    }
    const drawn = await this.#draw(label);
    if (drawn && this.#label === label) this.#set(drawn, label); // not overtaken meanwhile
  }

  #set(href, label) {
    this.#link.setAttribute("href", href);
    this.#link.dataset.badge = label;
  }

  async #draw(label) {
    try {
      const icon = await this.#loadIcon();
      const canvas = this.#document.createElement("canvas");
      canvas.width = canvas.height = this.#size;
      const context = canvas.getContext("2d");
      if (!context) return null;
      context.drawImage(icon, 0, 0, this.#size, this.#size);
      const { x, y, radius, fontSize } = badgeGeometry(this.#size, label);
      context.fillStyle = BADGE_COLOUR;
      context.beginPath();
      context.arc(x, y, radius, 0, 2 * Math.PI);
      context.fill();
      context.fillStyle = BADGE_TEXT_COLOUR;
      context.font = `bold ${fontSize}px sans-serif`;
      context.textAlign = "center";
      context.textBaseline = "middle";
      context.fillText(label, x, y + 1);
      return canvas.toDataURL("image/png");
    } catch {
      return null; // no canvas, or the icon did not load: the title still counts
    }
  }

  #loadIcon() {
    this.#icon ??= new Promise((resolve, reject) => {
      const image = new this.#Image();
      image.onload = () => resolve(image);
      image.onerror = () => {
        this.#icon = null; // try again next time
        reject(new Error("the icon did not load"));
      };
      image.src = this.#plainHref;
    });
    return this.#icon;
  }
}
