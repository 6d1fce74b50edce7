import assert from "node:assert/strict";
import { test } from "node:test";

import { formatSize, isImage } from "../../devtone/static/js/attachments.js";

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
