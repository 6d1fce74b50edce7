import assert from "node:assert/strict";
import { test } from "node:test";

import { FaviconBadge, badgeGeometry, badgeLabel } from "../../devtone/static/js/favicon.js";
import { flush } from "./fakes.mjs";

test("the badge shows 1 to 9, then 9+, and nothing for zero or nonsense", () => {
  assert.equal(badgeLabel(1), "1");
  assert.equal(badgeLabel(9), "9");
  assert.equal(badgeLabel(10), "9+");
  assert.equal(badgeLabel(250), "9+");
  for (const none of [0, -1, 1.5, NaN, undefined, null, "3"]) assert.equal(badgeLabel(none), null);
});

test("the disc sits in the top right corner, inside the icon, with a smaller font for 9+", () => {
  const one = badgeGeometry(32, "1");
  assert.equal(one.x + one.radius, 32);
  assert.equal(one.y - one.radius, 0);
  assert.ok(one.radius * 2 < 32);
  assert.ok(badgeGeometry(32, "9+").fontSize < one.fontSize);
});

/** Just enough of a page: one <link rel=icon>, a canvas that records what it drew. */
function page({ canvas = true } = {}) {
  const link = {
    attributes: { href: "/favicon.ico" },
    dataset: {},
    getAttribute(name) {
      return this.attributes[name];
    },
    setAttribute(name, value) {
      this.attributes[name] = value;
    },
  };
  const drawn = [];
  const context = {
    drawImage: () => drawn.push("icon"),
    beginPath() {},
    arc: () => drawn.push("disc"),
    fill() {},
    fillText: (text) => drawn.push(`text ${text}`),
  };
  const document = {
    querySelector: (selector) => (selector.includes("icon") ? link : null),
    createElement: () => ({ getContext: () => (canvas ? context : null), toDataURL: () => `data:image/png;base64,${drawn.length}` }),
  };
  class Image {
    set src(value) {
      this.loaded = value;
      queueMicrotask(() => this.onload());
    }
  }
  return { link, drawn, document, Image };
}

test("with a count the icon becomes the drawn copy; at zero the plain icon comes back", async () => {
  const { link, drawn, document, Image } = page();
  const badge = new FaviconBadge({ document, Image });
  await badge.show(3);
  assert.match(link.attributes.href, /^data:image\/png/);
  assert.equal(link.dataset.badge, "3");
  assert.deepEqual(drawn, ["icon", "disc", "text 3"]);
  await badge.show(3); // the same count: nothing drawn again
  assert.equal(drawn.length, 3);
  await badge.show(0);
  assert.equal(link.attributes.href, "/favicon.ico");
  assert.equal(link.dataset.badge, "");
});

test("a count overtaken while the icon loads leaves the newest one", async () => {
  const { link, document, Image } = page();
  const badge = new FaviconBadge({ document, Image });
  const first = badge.show(2);
  await badge.show(0);
  await first;
  await flush();
  assert.equal(link.attributes.href, "/favicon.ico");
});

test("without a canvas the plain icon stays", async () => {
  const { link, document, Image } = page({ canvas: false });
  await new FaviconBadge({ document, Image }).show(4);
  assert.equal(link.attributes.href, "/favicon.ico");
});
