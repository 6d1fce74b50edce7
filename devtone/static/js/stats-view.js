/**
 * StatsView: the dashboard's statistics bar. Each `[data-stat=<name>]` element under the
 * root shows that field of the stats object as a number, or "—" while it has none (a median
 * first reply before anyone was answered today). Never touches the network.
 */

/** The text of one statistic: the number as the server sent it, "—" when null or missing. */
export function statText(value) {
  return Number.isFinite(value) ? String(value) : "—";
}

/** Renders a stats object into the `[data-stat]` elements under `root`. */
export class StatsView {
  #elements;

  /** Every `[data-stat]` element under `root` is kept up to date. */
  constructor(root) {
    this.#elements = [...root.querySelectorAll("[data-stat]")];
  }

  /** Show `stats` ({waiting, active, closed_today, messages_today, median_first_reply_seconds, …}). */
  render(stats) {
    for (const element of this.#elements) {
      const text = statText(stats?.[element.dataset.stat]);
      if (element.textContent !== text) element.textContent = text;
    }
  }
}
