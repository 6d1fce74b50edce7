/**
 * StatsView: the dashboard's statistics bar. Each `[data-stat=<name>]` element under the
 * root shows that field of the stats object: a count as a whole number, a duration
 * (`…_seconds`) as people say it ("15 s", "2 min 5 s", "1 h 10 min"), or "—" while it has
 * none (a median first reply before anyone was answered today). Never touches the network.
 */

import { language } from "./texts.js";

/** A duration in seconds as people read it: "15 s", "2 min 5 s", "1 h 10 min". */
export function durationText(seconds) {
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  if (whole < 600) {
    const rest = whole % 60;
    return rest ? `${Math.floor(whole / 60)} min ${rest} s` : `${whole / 60} min`;
  }
  const minutes = Math.round(whole / 60);
  if (minutes < 60) return `${minutes} min`;
  const rest = minutes % 60;
  return rest ? `${Math.floor(minutes / 60)} h ${rest} min` : `${minutes / 60} h`;
}

/** The text of statistic `name`: "—" when null or missing. */
export function statText(value, name = "") {
  if (!Number.isFinite(value)) return "—";
  if (name.endsWith("_seconds")) return durationText(value);
  return new Intl.NumberFormat(language()).format(Math.round(value));
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
      const name = element.dataset.stat;
      const text = statText(stats?.[name], name);
      if (element.textContent !== text) element.textContent = text;
    }
  }
}
