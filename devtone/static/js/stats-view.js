/**
 * StatsView: the dashboard's statistics bar. Each `[data-stat=<name>]` element under the
 * root shows that field of the stats object (a dotted name reads inside it:
 * "ratings.today"): a count as a whole number, a duration (`…_seconds`) as people say it
 * ("15 s", "2 min 5 s", "1 h 10 min"), a rating figure ({count, average}) as "4.5 · 2
 * ratings", or "—" while it has none (a median first reply before anyone was answered
 * today). Each `[data-stat-list=<name>]` lists the per-agent figures of that field.
 * Never touches the network.
 */

import { language, ngettext } from "./texts.js";

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

/** A rating figure ({count, average}) as "4.5 · 2 ratings"; "—" before any rating. */
export function ratingText(figure) {
  if (!figure || !figure.count || !Number.isFinite(figure.average)) return "—";
  const average = new Intl.NumberFormat(language(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(
    figure.average,
  );
  return ngettext("{average} · {count} rating", "{average} · {count} ratings", figure.count, { average });
}

/** The text of statistic `name`: "—" when null or missing. */
export function statText(value, name = "") {
  if (value && typeof value === "object") return ratingText(value);
  if (!Number.isFinite(value)) return "—";
  if (name.endsWith("_seconds")) return durationText(value);
  return new Intl.NumberFormat(language()).format(Math.round(value));
}

/** The field a dotted `name` ("ratings.today") names in `stats`. */
export function statValue(stats, name) {
  return name.split(".").reduce((value, key) => (value == null ? undefined : value[key]), stats);
}

/** Renders a stats object into the `[data-stat]` and `[data-stat-list]` elements under `root`. */
export class StatsView {
  #elements;
  #lists;

  /** Every `[data-stat]` and `[data-stat-list]` element under `root` is kept up to date. */
  constructor(root) {
    this.#elements = [...root.querySelectorAll("[data-stat]")];
    this.#lists = [...root.querySelectorAll("[data-stat-list]")];
  }

  /** Show `stats` ({waiting, active, closed_today, messages_today, median_first_reply_seconds, ratings, …}). */
  render(stats) {
    for (const element of this.#elements) {
      const name = element.dataset.stat;
      const text = statText(statValue(stats, name), name);
      if (element.textContent !== text) element.textContent = text;
    }
    for (const list of this.#lists) {
      const rows = statValue(stats, list.dataset.statList) ?? [];
      const texts = rows.map((row) => `${row.name}: ${ratingText(row)}`);
      if (texts.join("\n") === [...list.children].map((item) => item.textContent).join("\n")) continue;
      list.replaceChildren(
        ...texts.map((text) => {
          const item = list.ownerDocument.createElement("li");
          item.textContent = text;
          return item;
        }),
      );
    }
  }
}
