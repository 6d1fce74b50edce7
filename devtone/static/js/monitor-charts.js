/**
 * MonitorCharts: the monitor's last ten minutes as three live charts — the conversations'
 * open streams by tier, deliveries per second by tier, and the commit-to-write latency
 * (median and 99th percentile) — from a snapshot's `history` ({step_s, span_s, points}).
 * Each chart (`[data-chart=<name>]`) shows its current figures beside its title and says
 * them, with the highest of the span, as its text alternative. Numbers in the page's
 * language. Knows no network.
 */

import { LiveChart, roundMaximum } from "./live-chart.js";
import { _, language } from "./texts.js";

/** Each chart: its series (two each) and how a point's figures read. */
const CHARTS = Object.freeze({
  open_streams: {
    series: (p) => [p.open_streams?.sse, p.open_streams?.longpoll],
    text: ([sse, longpoll]) => _("SSE {sse} · Long-poll {longpoll}", { sse, longpoll }),
  },
  deliveries: {
    series: (p) => [p.deliveries_per_s?.sse, p.deliveries_per_s?.longpoll],
    text: ([sse, longpoll]) => _("SSE {sse} · Long-poll {longpoll}", { sse, longpoll }),
  },
  latency: {
    series: (p) => [p.latency_ms?.p50, p.latency_ms?.p99],
    text: ([p50, p99]) => _("median {p50} · 99th percentile {p99}", { p50, p99 }),
    unit: "millisecond",
  },
});

/** Renders a monitor history into the `[data-chart]` figures under `root`. */
export class MonitorCharts {
  #charts = [];

  constructor(root) {
    for (const figure of root.querySelectorAll("[data-chart]")) {
      const shape = CHARTS[figure.dataset.chart];
      const svg = figure.querySelector("svg");
      if (!shape || !svg) continue;
      this.#charts.push({
        shape,
        chart: new LiveChart(svg, { series: 2 }),
        title: figure.querySelector(".charts__title")?.textContent.trim() ?? "",
        now: figure.querySelector("[data-chart-now]"),
      });
    }
  }

  /** Draw `history`'s points; a snapshot without one leaves the charts as they are. */
  render(history) {
    if (!Array.isArray(history?.points)) return;
    const points = history.points;
    const times = points.map((p) => Date.parse(p.at));
    const spanMs = (history.span_s ?? 600) * 1000;
    const minutes = Math.round(spanMs / 60_000);
    const number = new Intl.NumberFormat(language(), { maximumFractionDigits: 1 });
    for (const { shape, chart, title, now } of this.#charts) {
      const figure = shape.unit
        ? new Intl.NumberFormat(language(), { maximumFractionDigits: 1, style: "unit", unit: shape.unit })
        : number;
      const shown = (value) => (Number.isFinite(value) ? figure.format(value) : "—");
      const values = [[], []];
      for (const point of points) shape.series(point).forEach((v, s) => values[s].push(v ?? null));
      const maximum = roundMaximum(values.flat());
      const latest = shape.text(values.map((series) => shown(series.at(-1))));
      const highest = shape.text(values.map((series) => shown(Math.max(...series.filter(Number.isFinite)))));
      if (now) now.textContent = points.length ? latest : "—";
      chart.draw({
        times,
        values,
        spanMs,
        maximum,
        top: number.format(maximum),
        bottom: number.format(0),
        start: _("{minutes} min ago", { minutes }),
        end: _("now"),
        label: points.length
          ? _("{title}, the last {minutes} minutes: now {latest}; highest {highest}.", {
              title,
              minutes,
              latest,
              highest,
            })
          : _("{title}: no points yet.", { title }),
      });
    }
  }
}
