/**
 * ScrollFollower: whether a message list follows what arrives at its bottom.
 *
 * A reader at the bottom (within STICKY_PX) keeps seeing the newest entry as entries arrive
 * and as the list's box changes size (the on-screen keyboard opening, the window turning).
 * A reader scrolled up to read older messages stays where they are; what arrives meanwhile
 * is counted on a "New messages ↓" pill, which scrolls to the bottom when pressed. Reaching
 * the bottom by hand hides it too. What the reader writes always scrolls to the bottom.
 *
 * Owns the scroller's scroll listener and the pill; never creates text (the pill's words
 * are the page's, only its count is written here). `ResizeObserver` is injected, so node
 * tests run without one.
 */

/** How close to the bottom (px) still counts as "reading the latest". */
export const STICKY_PX = 48;

/** Whether the scroller's view reaches (within `slack` px of) its bottom. */
export function isAtBottom({ scrollHeight, scrollTop, clientHeight }, slack = STICKY_PX) {
  return scrollHeight - scrollTop - clientHeight <= slack;
}

/** Follow the bottom of one scroller, or count arrivals on its pill. */
export class ScrollFollower {
  #scroller;
  #pill;
  #count;
  #unseen = 0;
  #stuck = true; // at the bottom at the last scroll: a resize since then keeps it there

  /** `pill` is the "New messages ↓" button (optional); its `[data-count]` child shows how many. */
  constructor(scroller, { pill = null, ResizeObserver = globalThis.ResizeObserver } = {}) {
    this.#scroller = scroller;
    this.#pill = pill;
    this.#count = pill?.querySelector?.("[data-count]") ?? null;
    scroller.addEventListener?.("scroll", () => this.#scrolled(), { passive: true });
    pill?.addEventListener("click", () => this.toBottom());
    if (ResizeObserver) {
      new ResizeObserver(() => {
        if (this.#stuck) this.#pin();
      }).observe(scroller);
    }
  }

  /** How many entries arrived below the view since the reader scrolled up. */
  get unseen() {
    return this.#unseen;
  }

  /**
   * Run `change`, which adds entries. Then follow them down when the reader was at the
   * bottom, or when they are the reader's own (`own`); else count `arrived` on the pill.
   */
  keep(change, { own = false, arrived = 0 } = {}) {
    const follow = own || this.#stuck || isAtBottom(this.#scroller);
    change();
    if (follow) this.toBottom();
    else if (arrived > 0) this.#show(this.#unseen + arrived);
  }

  /** Scroll to the newest entry; the pill goes. */
  toBottom() {
    this.#pin();
    this.#stuck = true;
    this.#show(0);
  }

  /** Forget the count (another conversation is shown). */
  reset() {
    this.#stuck = true;
    this.#show(0);
  }

  #pin() {
    this.#scroller.scrollTop = this.#scroller.scrollHeight;
  }

  #scrolled() {
    this.#stuck = isAtBottom(this.#scroller);
    if (this.#stuck) this.#show(0);
  }

  #show(count) {
    this.#unseen = count;
    if (!this.#pill) return;
    this.#pill.hidden = count === 0;
    if (this.#count) this.#count.textContent = count > 0 ? String(count) : "";
  }
}
