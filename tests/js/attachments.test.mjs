import assert from "node:assert/strict";
import { test } from "node:test";

import { AttachmentRenderer, formatSize, isImage } from "../../devtone/static/js/attachments.js";
import { flush } from "./fakes.mjs";

test("sizes read as a file manager writes them, in the page's language", () => {
  assert.equal(formatSize(820, "en"), "820 bytes");
  assert.equal(formatSize(1540, "en"), "1.5 kB");
  assert.equal(formatSize(1540, "pt-BR"), "1,5 kB");
  assert.equal(formatSize(12_345, "en"), "12 kB");
  assert.equal(formatSize(3_400_000, "en"), "3.4 MB");
  assert.equal(formatSize(10_485_760, "pt-BR"), "10 MB");
});

test("a size that is not a number reads as zero bytes", () => {
  assert.equal(formatSize(undefined, "en"), "0 bytes");
  assert.equal(formatSize(-5, "en"), "0 bytes");
});

test("only the four image types are drawn as pictures", () => {
  for (const type of ["image/png", "image/jpeg", "image/gif", "image/webp"]) {
    assert.equal(isImage({ content_type: type }), true);
  }
  for (const type of ["image/svg+xml", "application/pdf", "text/plain", undefined]) {
    assert.equal(isImage({ content_type: type }), false);
  }
});

// ── blob: URLs are given back ────────────────────────────────────────────────────────

class FakeElement {
  dataset = {};
  children = [];
  listeners = {};
  classList = { add: (name) => (this.className += ` ${name}`) };
  constructor(tag) {
    this.tag = tag;
  }
  append(...children) {
    this.children.push(...children);
  }
  addEventListener(type, listener) {
    this.listeners[type] = listener;
  }
  click() {
    this.listeners.click?.({ preventDefault() {} });
  }
}

function renderer() {
  const made = [];
  const revoked = [];
  const loads = [];
  const URL = {
    createObjectURL: (blob) => {
      const url = `blob:test/${made.length + 1}`;
      made.push(url);
      return url;
    },
    revokeObjectURL: (url) => revoked.push(url),
  };
  const blob = { size: 3, slice: () => ({}) };
  const load = () => new Promise((resolve) => loads.push(() => resolve(blob)));
  const document = { createElement: (tag) => new FakeElement(tag) };
  return { attachments: new AttachmentRenderer({ document, load, URL }), made, revoked, loads };
}

const PICTURE = { name: "a.png", size: 3, content_type: "image/png", url: "/f/1" };
const INVOICE = { name: "a.pdf", size: 3, content_type: "application/pdf", url: "/f/2" };

test("every blob: URL made for a picture or a download is revoked by releaseAll()", async () => {
  const { attachments, made, revoked, loads } = renderer();
  const link = attachments.render(PICTURE);
  const download = attachments.render(INVOICE);
  download.click();
  for (const resolve of loads) resolve();
  await flush();
  assert.equal(link.href, "blob:test/1");
  assert.equal(link.children[0].src, "blob:test/1");
  assert.equal(download.dataset.ready, "true");
  assert.deepEqual(made, ["blob:test/1", "blob:test/2"]);

  attachments.releaseAll();
  assert.deepEqual(revoked, ["blob:test/1", "blob:test/2"]);
  attachments.releaseAll();
  assert.equal(revoked.length, 2, "each URL is revoked once");
});

test("a file that arrives after releaseAll() is given no URL", async () => {
  const { attachments, made, loads } = renderer();
  const link = attachments.render(PICTURE);
  attachments.releaseAll(); // the agent opened another conversation meanwhile
  loads[0]();
  await flush();
  assert.deepEqual(made, []);
  assert.equal(link.href, undefined);
});
