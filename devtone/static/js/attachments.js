/**
 * Attachments as a message shows them: an image as a thumbnail that opens full size, any
 * other file as a link with its name and size (in the page's language) that downloads it.
 *
 * A file is fetched with the page's own credentials (the visitor's token, the agent's
 * session) and shown from a `blob:` URL: its address alone opens nothing (see
 * web/api_attachments.py). Images load as they are drawn; another file only when its link
 * is clicked. Never touches anything but the elements it makes; text through textContent.
 *
 * A `blob:` URL holds its file in memory until revoked or the page unloads, and an
 * agent's dashboard stays open all day through hundreds of conversations: `releaseAll()`
 * (the message list being cleared for another conversation) revokes every URL made, and a
 * file that arrives after it is not given one.
 */
import { _ } from "./texts.js";

/** The types shown as a picture; anything else is a download. */
const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

/** Whether the attachment is drawn as a picture. */
export function isImage(attachment) {
  return IMAGE_TYPES.has(attachment?.content_type);
}

/** "820 bytes", "12 kB", "3.4 MB" in `locale` (decimal units, as file managers show them). */
export function formatSize(bytes, locale = undefined) {
  const size = Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
  if (size < 1000) return _("{count} bytes", { count: new Intl.NumberFormat(locale).format(size) });
  const [unit, value] = size < 1_000_000 ? ["kilobyte", size / 1000] : ["megabyte", size / 1_000_000];
  const digits = value < 10 ? 1 : 0;
  return new Intl.NumberFormat(locale, { style: "unit", unit, maximumFractionDigits: digits }).format(value);
}

/** Makes the element of each attachment; `load(url)` resolves to its Blob. */
export class AttachmentRenderer {
  #document;
  #load;
  #locale;
  #URL;
  #urls = new Set(); // the blob: URLs made and not revoked yet
  #generation = 0; // moves on each releaseAll(): a file loaded for an older one is dropped

  constructor({ document, load, locale = undefined, URL = globalThis.URL }) {
    this.#document = document;
    this.#load = load;
    this.#locale = locale;
    this.#URL = URL;
  }

  /** The element showing `attachment` ({name, size, content_type, url}). */
  render(attachment) {
    return isImage(attachment) ? this.#image(attachment) : this.#file(attachment);
  }

  /** Revoke every blob: URL made so far: the elements showing them are gone. */
  releaseAll() {
    this.#generation += 1;
    for (const url of this.#urls) this.#URL.revokeObjectURL(url);
    this.#urls.clear();
  }

  /** A blob: URL for `blob` typed `type`, or null when it was loaded before a release. */
  #urlOf(blob, type, generation) {
    if (generation !== this.#generation) return null;
    const url = this.#URL.createObjectURL(blob.slice(0, blob.size, type));
    this.#urls.add(url);
    return url;
  }

  #image(attachment) {
    const link = this.#element("a", "attachment attachment--image");
    link.target = "_blank";
    link.rel = "noopener";
    link.title = _("Open {name} full size", { name: attachment.name });
    const image = this.#element("img", "attachment__image");
    image.alt = attachment.name;
    link.append(image);
    const generation = this.#generation;
    this.#load(attachment.url)
      .then((blob) => {
        // Typed as the server said (an image): a blob is never read as a page.
        const url = this.#urlOf(blob, attachment.content_type, generation);
        if (url === null) return;
        image.src = url;
        link.href = url;
      })
      .catch(() => this.#broken(link, attachment));
    return link;
  }

  #file(attachment) {
    const link = this.#element("a", "attachment attachment--file");
    link.href = "#";
    link.download = attachment.name;
    link.append(
      this.#element("span", "attachment__name", attachment.name),
      this.#element("span", "attachment__size", formatSize(attachment.size, this.#locale)),
    );
    link.addEventListener("click", (event) => {
      if (link.dataset.ready === "true") return; // the blob is there: the browser downloads it
      event.preventDefault();
      if (link.dataset.loading === "true") return;
      link.dataset.loading = "true";
      const generation = this.#generation;
      this.#load(attachment.url)
        .then((blob) => {
          // A download, never opened here: typed as bytes whatever it holds.
          const url = this.#urlOf(blob, "application/octet-stream", generation);
          if (url === null) return;
          link.href = url;
          link.dataset.ready = "true";
          link.click();
        })
        .catch(() => this.#broken(link, attachment))
        .finally(() => delete link.dataset.loading);
    });
    return link;
  }

  #broken(link, attachment) {
    link.classList.add("attachment--broken");
    link.title = _("{name} could not be loaded", { name: attachment.name });
  }

  #element(tag, className, text) {
    const element = this.#document.createElement(tag);
    element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  }
}
