/**
 * MonitorFeed: what the admin monitor's TierNegotiator carries. Like the dashboard's feed
 * (feeds.js) — the cursor is the last snapshot's etag, every HTTP answer and every SSE
 * `snapshot` event is a whole snapshot — but a snapshot here is {figures, events, etag}.
 */
import { DashboardFeed } from "./feeds.js";

/** /api/monitor/events and /api/monitor/snapshot?etag=E&wait=S. */
export class MonitorFeed extends DashboardFeed {
  /** Why `body` is not a whole monitor snapshot (`{figures, events, etag}`), or null. */
  notASnapshot(body) {
    const figures = body?.figures;
    return typeof figures === "object" && figures !== null ? null : "answer has no figures";
  }
}
