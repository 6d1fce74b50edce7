/**
 * MonitorView: renders a monitor snapshot ({figures, events, process}) into the monitor
 * page, with textContent only. Knows no network.
 */

import { _ } from "./texts.js";

const EVENT_COLUMNS = [
  (e) => (e.time ?? "").replace("T", " ").replace("Z", ""),
  (e) => e.event,
  (e) => e.kind,
  (e) => (e.event === "tier_change" ? `${e.from} → ${e.to}` : e.tier),
  (e) => e.conversation_id,
  (e) => (e.caller === "agent" ? `agent ${e.agent_id}` : e.caller),
  (e) => e.duration_ms,
  (e) => e.delivered,
  (e) => e.reason,
];

/** The monitor page's figures, tier changes and latest connection events. */
export class MonitorView {
  #root;
  #document;

  constructor(root, document = root.ownerDocument) {
    this.#root = root;
    this.#document = document;
  }

  /** Show `snapshot`; unknown or missing figures show as "—". */
  render(snapshot) {
    const f = snapshot?.figures ?? {};
    const latency = f.commit_to_write ?? {};
    this.#figure("open_sse", f.open_streams?.sse);
    this.#figure("open_longpoll", f.open_streams?.longpoll);
    this.#figure("open_dashboards", f.open_dashboards);
    this.#figure("messages_posted", f.messages_posted);
    this.#figure("delivered_sse", f.entries_delivered?.sse);
    this.#figure("delivered_longpoll", f.entries_delivered?.longpoll);
    this.#figure("latency", latency.count ? `≤ ${latency.p50_ms ?? "∞"} / ≤ ${latency.p95_ms ?? "∞"}` : null);
    this.#figure("broker_reconnects", f.broker_reconnects);
    this.#figure("catch_up_reads", f.catch_up_reads);
    this.#figure("catch_up_queries", f.catch_up_queries);
    const closed = Object.entries(f.closed_by_reason ?? {}).map(([reason, n]) => `${reason} ${n}`);
    this.#text("closed-by-reason", closed.length ? closed.join(", ") : "—");
    this.#text("monitor-process", snapshot?.process ? _("process {id}", { id: snapshot.process }) : "—");
    this.#rows(
      "tier-changes",
      (f.tier_changes ?? []).map((c) => [c.from, c.to, c.reason, c.count]),
    );
    this.#rows(
      "connection-events",
      (snapshot?.events ?? []).map((event) => EVENT_COLUMNS.map((column) => column(event))),
    );
  }

  #figure(name, value) {
    const element = this.#root.querySelector(`[data-figure="${name}"]`);
    if (element) element.textContent = value === null || value === undefined ? "—" : String(value);
  }

  #text(id, value) {
    const element = this.#document.getElementById(id);
    if (element) element.textContent = value;
  }

  #rows(id, rows) {
    const body = this.#document.getElementById(id);
    if (!body) return;
    const cells = rows.length ? rows : [[body.dataset.emptyText ?? ""]];
    body.replaceChildren(
      ...cells.map((row) => {
        const tr = this.#document.createElement("tr");
        for (const value of row) {
          const td = this.#document.createElement("td");
          td.textContent = value === null || value === undefined ? "" : String(value);
          tr.append(td);
        }
        if (!rows.length) tr.firstChild.colSpan = body.closest("table")?.querySelectorAll("th").length ?? 1;
        return tr;
      }),
    );
  }
}
