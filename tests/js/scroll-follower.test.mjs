import assert from "node:assert/strict";
import { test } from "node:test";

import { STICKY_PX, ScrollFollower, isAtBottom } from "../../devtone/static/js/scroll-follower.js";

/** A scroller 300 px tall over `scrollHeight` px of entries, with scroll events. */
class FakeScroller extends EventTarget {
  clientHeight = 300;
  scrollHeight = 300;
  #top = 0;

  get scrollTop() {
    return this.#top;
  }

  set scrollTop(value) {
    this.#top = Math.max(0, Math.min(value, this.scrollHeight - this.clientHeight));
  }

  /** The reader scrolls to `top` (the browser then fires `scroll`). */
  scrollByHand(top) {
    this.scrollTop = top;
    this.dispatchEvent(new Event("scroll"));
  }

  /** Entries `px` tall are added at the bottom. */
  grow(px) {
    this.scrollHeight += px;
  }
}

class FakePill extends EventTarget {
  hidden = true;
  count = { textContent: "" };

  querySelector(selector) {
    return selector === "[data-count]" ? this.count : null;
  }

  click() {
    this.dispatchEvent(new Event("click"));
  }
}

function setup() {
  const scroller = new FakeScroller();
  const pill = new FakePill();
  const follower = new ScrollFollower(scroller, { pill, ResizeObserver: null });
  const arrive = (px = 100, options = { arrived: 1 }) => follower.keep(() => scroller.grow(px), options);
  return { scroller, pill, follower, arrive };
}

const bottom = (scroller) => scroller.scrollHeight - scroller.clientHeight;

test("isAtBottom allows a little slack", () => {
  assert.equal(isAtBottom({ scrollHeight: 1000, clientHeight: 300, scrollTop: 700 }), true);
  assert.equal(isAtBottom({ scrollHeight: 1000, clientHeight: 300, scrollTop: 700 - STICKY_PX }), true);
  assert.equal(isAtBottom({ scrollHeight: 1000, clientHeight: 300, scrollTop: 699 - STICKY_PX }), false);
});

test("at the bottom, new entries are followed and no pill shows", () => {
  const { scroller, pill, arrive } = setup();
  arrive(400);
  arrive(100);
  assert.equal(scroller.scrollTop, bottom(scroller));
  assert.equal(pill.hidden, true);
});

test("scrolled up, new entries leave the view alone and are counted on the pill", () => {
  const { scroller, pill, follower, arrive } = setup();
  arrive(1000);
  scroller.scrollByHand(200); // reading older messages
  arrive(100);
  arrive(100);
  assert.equal(scroller.scrollTop, 200, "the view did not jump");
  assert.equal(pill.hidden, false);
  assert.equal(pill.count.textContent, "2");
  assert.equal(follower.unseen, 2);
});

test("the pill scrolls to the newest entry and goes away", () => {
  const { scroller, pill, arrive } = setup();
  arrive(1000);
  scroller.scrollByHand(0);
  arrive(100);
  pill.click();
  assert.equal(scroller.scrollTop, bottom(scroller));
  assert.equal(pill.hidden, true);
  assert.equal(pill.count.textContent, "");
  arrive(100); // at the bottom again: followed
  assert.equal(scroller.scrollTop, bottom(scroller));
  assert.equal(pill.hidden, true);
});

test("reaching the bottom by hand hides the pill", () => {
  const { scroller, pill, arrive } = setup();
  arrive(1000);
  scroller.scrollByHand(100);
  arrive(100);
  assert.equal(pill.hidden, false);
  scroller.scrollByHand(bottom(scroller) - 10);
  assert.equal(pill.hidden, true);
});

test("what the reader writes always scrolls to the bottom", () => {
  const { scroller, pill, arrive } = setup();
  arrive(1000);
  scroller.scrollByHand(0);
  arrive(100);
  arrive(80, { own: true });
  assert.equal(scroller.scrollTop, bottom(scroller));
  assert.equal(pill.hidden, true);
});

test("an entry that is not new (a pending one confirmed) is not counted", () => {
  const { scroller, pill, arrive } = setup();
  arrive(1000);
  scroller.scrollByHand(0);
  arrive(0, { arrived: 0 });
  assert.equal(pill.hidden, true);
});

test("reset forgets the count and follows again", () => {
  const { scroller, pill, follower, arrive } = setup();
  arrive(1000);
  scroller.scrollByHand(0);
  arrive(100);
  follower.reset();
  assert.equal(pill.hidden, true);
  arrive(100);
  assert.equal(scroller.scrollTop, bottom(scroller));
});

test("a reader at the bottom stays there when the list's box shrinks (the keyboard opens)", () => {
  let resized = null;
  class FakeResizeObserver {
    constructor(callback) {
      resized = callback;
    }
    observe() {}
  }
  const scroller = new FakeScroller();
  const follower = new ScrollFollower(scroller, { ResizeObserver: FakeResizeObserver });
  follower.keep(() => scroller.grow(1000));
  scroller.dispatchEvent(new Event("scroll"));
  scroller.clientHeight = 150; // scrollTop stays: the newest entries are now below the view
  resized();
  assert.equal(scroller.scrollTop, bottom(scroller));

  scroller.scrollByHand(100); // scrolled up, then the box changes: the view stays put
  scroller.clientHeight = 300;
  resized();
  assert.equal(scroller.scrollTop, 100);
});
