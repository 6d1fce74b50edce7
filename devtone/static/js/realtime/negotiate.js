/**
 * The negotiate request (DESIGN.md §2, step 1): GET /api/realtime/negotiate answers which
 * tiers the server allows, in its order, and the timings to run them with. The negotiator
 * makes one at a time; abort() drops it, and its promise then rejects like any failure.
 */
import { mergeTimings } from "./tiers.js";

export class NegotiateRequest {
  #url;
  #fetch;
  #controller = null; // AbortController of the request in flight

  constructor({ url, fetch }) {
    this.#url = url;
    this.#fetch = fetch;
  }

  /** {allowed, timings}: the server's tier names in its order, its timings over the defaults. */
  async send() {
    const controller = typeof AbortController === "function" ? new AbortController() : null;
    this.#controller = controller;
    try {
      const response = await this.#fetch(this.#url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
        signal: controller?.signal,
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = await response.json();
      if (!Array.isArray(body?.tiers)) throw new Error("no tiers in negotiate response");
      return { allowed: body.tiers, timings: mergeTimings(body.timings) };
    } finally {
      if (this.#controller === controller) this.#controller = null;
    }
  }

  /** Drop the request in flight, if any. */
  abort() {
    const controller = this.#controller;
    this.#controller = null;
    controller?.abort();
  }
}
