import assert from "node:assert/strict";
import { test } from "node:test";

import { VisibleViewport, visibleArea } from "../../devtone/static/js/visible-viewport.js";

class FakeViewport extends EventTarget {
  height = 844;
  offsetTop = 0;
  scale = 1;

  /** The keyboard opens (or closes): the visual viewport changes, the layout does not. */
  resizeTo(height, offsetTop = 0) {
    Object.assign(this, { height, offsetTop });
    this.dispatchEvent(new Event("resize"));
  }
}

function fakeRoot() {
  const properties = new Map();
  return {
    properties,
    style: {
      setProperty: (name, value) => properties.set(name, value),
      removeProperty: (name) => properties.delete(name),
    },
  };
}

test("the visible area is the visual viewport's height and offset, whole pixels", () => {
  assert.deepEqual(visibleArea({ height: 499.6, offsetTop: 12.2, scale: 1 }), {
    "--visible-height": "500px",
    "--visible-top": "12px",
  });
});

test("while zoomed in, or without a visual viewport, there is no visible area to follow", () => {
  assert.equal(visibleArea({ height: 400, offsetTop: 0, scale: 2 }), null);
  assert.equal(visibleArea(undefined), null);
});

test("the root's properties follow the keyboard opening and closing", () => {
  const viewport = new FakeViewport();
  const root = fakeRoot();
  assert.equal(new VisibleViewport({ viewport, root }).start(), true);
  assert.equal(root.properties.get("--visible-height"), "844px");
  viewport.resizeTo(500, 0);
  assert.equal(root.properties.get("--visible-height"), "500px");
  viewport.offsetTop = 40;
  viewport.dispatchEvent(new Event("scroll"));
  assert.equal(root.properties.get("--visible-top"), "40px");
  viewport.resizeTo(844);
  assert.equal(root.properties.get("--visible-height"), "844px");
  assert.equal(root.properties.get("--visible-top"), "0px");
});

test("zooming in gives the layout back; stop removes the listeners and the properties", () => {
  const viewport = new FakeViewport();
  const root = fakeRoot();
  const visible = new VisibleViewport({ viewport, root });
  visible.start();
  viewport.scale = 2;
  viewport.resizeTo(422);
  assert.equal(root.properties.size, 0);
  viewport.scale = 1;
  viewport.resizeTo(600);
  assert.equal(root.properties.get("--visible-height"), "600px");
  visible.stop();
  assert.equal(root.properties.size, 0);
  viewport.resizeTo(500);
  assert.equal(root.properties.size, 0);
});

test("a browser without a visual viewport changes nothing", () => {
  const root = fakeRoot();
  assert.equal(new VisibleViewport({ viewport: null, root }).start(), false);
  assert.equal(root.properties.size, 0);
});
