/**
 * The admins' monitor (/dashboard/monitor): the only module that wires its pieces. The
 * monitor's feed climbs SSE → long-poll → poll with the same TierNegotiator as every page;
 * each snapshot it delivers is rendered whole: figures and tables by MonitorView, the last
 * ten minutes by MonitorCharts.
 */
import { ConnectionIndicator, DASHBOARD_LABELS } from "./indicator.js";
import { MonitorCharts } from "./monitor-charts.js";
import { MonitorView } from "./monitor-view.js";
import { MonitorFeed } from "./realtime/monitor-feed.js";
import { TierNegotiator } from "./realtime/negotiator.js";

const root = document.getElementById("monitor");
if (root) {
  const data = root.dataset;
  const view = new MonitorView(root, document);
  const charts = new MonitorCharts(root);
  const indicator = new ConnectionIndicator(document.getElementById("connection"), {
    labels: DASHBOARD_LABELS,
  });
  const feed = new MonitorFeed({ streamUrl: data.streamUrl, snapshotUrl: data.snapshotUrl });
  const negotiator = new TierNegotiator({ negotiateUrl: data.negotiateUrl, feed });
  negotiator.addEventListener("statechange", ({ detail }) => indicator.render(detail));
  negotiator.addEventListener("snapshot", ({ detail }) => {
    view.render(detail);
    charts.render(detail.history);
  });
  negotiator.addEventListener("denied", () => {
    const notice = document.getElementById("session-ended");
    if (notice) notice.hidden = false;
  });
  negotiator.start();
}
