/**
 * LiveChart: one small line chart drawn as inline SVG (no chart library): a few series over
 * a time axis of fixed span that ends at the latest point, a value axis from 0 to a round
 * maximum, each series' latest value marked by a dot. A missing value (null) breaks its
 * line. Colours come from the stylesheet (classes, the theme's custom properties); every
 * text is set with textContent. Knows no network and no words: labels come in.
 *
 *   const chart = new LiveChart(svgElement, { series: 2 });
 *   chart.draw({ times, values: [[…], […]], spanMs, maximum: 10, top: "10", bottom: "0",
 *                start: "10 min ago", end: "now", label: "Open streams: …" });
 */

const SVG = "http://www.w3.org/2000/svg";

/** The drawing's size in SVG units; the stylesheet scales it to the chart's width. */
export const WIDTH = 320;
export const HEIGHT = 120;
/** Room for the value axis' labels (left) and the time axis' (below). */
const PLOT = Object.freeze({ left: 40, right: WIDTH - 8, top: 8, bottom: HEIGHT - 20 });

/** A round maximum for the value axis, never below `least`: 1, 2, 5 × a power of ten. */
export function roundMaximum(values, least = 1) {
  const highest = Math.max(least, ...values.filter(Number.isFinite));
  const power = 10 ** Math.floor(Math.log10(highest));
  const step = [1, 2, 5, 10].find((m) => m * power >= highest);
  return step * power;
}

/**
 * The SVG path of one series: `times` (ms) and `values` on the plot, time running from
 * `end - spanMs` to `end`, values from 0 to `maximum`; a null value ends a segment.
 */
export function linePath(times, values, { end, spanMs, maximum }) {
  const x = (time) => PLOT.left + ((time - (end - spanMs)) / spanMs) * (PLOT.right - PLOT.left);
  const y = (value) => PLOT.bottom - (value / maximum) * (PLOT.bottom - PLOT.top);
  let path = "";
  let drawing = false;
  times.forEach((time, i) => {
    const value = values[i];
    if (!Number.isFinite(value) || time < end - spanMs) {
      drawing = false;
      return;
    }
    path += `${drawing ? "L" : "M"}${x(time).toFixed(1)} ${y(value).toFixed(1)}`;
    drawing = true;
  });
  return path;
}

/** Draws one chart into an `<svg>` element, afresh each time. */
export class LiveChart {
  #svg;
  #series;

  /** `svg` is the chart's element; `series` how many lines it draws. */
  constructor(svg, { series = 1 } = {}) {
    this.#svg = svg;
    this.#series = series;
    svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
    svg.setAttribute("role", "img");
    svg.classList.add("chart");
  }

  /**
   * Draw `values[s][i]` at `times[i]` (ms, oldest first) for each series `s`, on a value
   * axis from 0 to `maximum` labelled `bottom` and `top`, a time axis labelled `start`
   * and `end`; `label` is the chart's text alternative (its accessible name).
   */
  draw({ times, values, spanMs, maximum, top, bottom, start, end, label }) {
    const last = times.at(-1) ?? 0;
    const parts = [
      this.#line("chart__axis", PLOT.left, PLOT.bottom, PLOT.right, PLOT.bottom),
      this.#line("chart__grid", PLOT.left, PLOT.top, PLOT.right, PLOT.top),
      this.#text("chart__label chart__label--value", PLOT.left - 4, PLOT.top + 4, top),
      this.#text("chart__label chart__label--value", PLOT.left - 4, PLOT.bottom, bottom),
      this.#text("chart__label chart__label--start", PLOT.left, HEIGHT - 4, start),
      this.#text("chart__label chart__label--end", PLOT.right, HEIGHT - 4, end),
    ];
    for (let s = 0; s < this.#series; s += 1) {
      const series = values[s] ?? [];
      const path = this.#element("path", { class: `chart__line chart__line--${s}` });
      path.setAttribute("d", linePath(times, series, { end: last, spanMs, maximum }));
      parts.push(path);
      const latest = series.at(-1);
      if (times.length && Number.isFinite(latest)) {
        const [x, y] = [PLOT.right, PLOT.bottom - (latest / maximum) * (PLOT.bottom - PLOT.top)];
        parts.push(this.#element("circle", { class: `chart__dot chart__line--${s}`, cx: x, cy: y, r: 2.5 }));
      }
    }
    this.#svg.replaceChildren(...parts);
    this.#svg.setAttribute("aria-label", label);
    this.#svg.dataset.points = String(times.length);
  }

  #line(className, x1, y1, x2, y2) {
    return this.#element("line", { class: className, x1, y1, x2, y2 });
  }

  #text(className, x, y, words) {
    const text = this.#element("text", { class: className, x, y });
    text.textContent = words;
    return text;
  }

  #element(name, attributes) {
    const element = this.#svg.ownerDocument.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
    return element;
  }
}
