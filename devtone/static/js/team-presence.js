/**
 * TeamPresence: the dashboard's side of presence. While the page is open it tells the
 * server so every BEAT_MS (POST /api/presence), with whether the agent did anything in it
 * since the last beat (a key, a click, a touch, the tab coming back into view); the answer
 * is the team, which it shows: who is online, away or offline (read afresh, too, whenever
 * the tab comes back into view). The "Away" button sets or clears away by hand. The server decides the statuses (idle after five minutes, offline
 * when no dashboard beats); this only reports and shows.
 *
 * Owns its one timer; `beat` (the API call) and the document are injected.
 */
import { _ } from "./texts.js";

export const BEAT_MS = 60_000;
const ACTIVITY = ["keydown", "pointerdown", "touchstart", "focus"];

/** Each status's words, in the page's language. */
export const STATUS_TEXTS = Object.freeze({
  online: _("online"),
  away: _("away"),
  offline: _("offline"),
});

/** The team list as [{id, name, status, label}], for `me` marked as "you". */
export function teamRows(agents = [], me = "") {
  return agents.map((agent) => ({
    id: String(agent.id),
    name: String(agent.id) === String(me) ? _("{name} (you)").replace("{name}", agent.name) : agent.name,
    status: agent.status,
    label: STATUS_TEXTS[agent.status] ?? agent.status,
  }));
}

export class TeamPresence {
  #beat;
  #list;
  #toggle;
  #me;
  #doc;
  #timer = null;
  #active = true; // opening the dashboard is activity
  #away = false;
  #setTimer;
  #clearTimer;

  constructor({
    beat,
    list,
    toggle,
    me,
    doc = document,
    setTimer = (fn, ms) => setTimeout(fn, ms),
    clearTimer = (id) => clearTimeout(id),
  }) {
    this.#beat = beat;
    this.#list = list;
    this.#toggle = toggle;
    this.#me = me;
    this.#doc = doc;
    this.#setTimer = setTimer;
    this.#clearTimer = clearTimer;
  }

  /** Listen for activity, wire the button and beat now (then every BEAT_MS). */
  start() {
    const noteActivity = () => {
      this.#active = true;
    };
    for (const type of ACTIVITY) this.#doc.addEventListener(type, noteActivity, true);
    // Back in view: the agent is there, and the list they look at is read afresh.
    this.#doc.addEventListener("visibilitychange", () => {
      if (this.#doc.visibilityState !== "visible") return;
      noteActivity();
      this.#send();
    });
    this.#toggle?.addEventListener("click", () => this.#send(!this.#away));
    this.#send();
  }

  /** Stop beating (the agent's session ended). */
  stop() {
    this.#clearTimer(this.#timer);
    this.#timer = null;
    this.#beat = null;
  }

  async #send(away = undefined) {
    if (!this.#beat) return;
    this.#clearTimer(this.#timer);
    const active = this.#active;
    this.#active = false;
    try {
      this.#render(await this.#beat(active, away));
    } catch {
      if (active) this.#active = true; // told next time
    }
    if (!this.#beat) return;
    this.#clearTimer(this.#timer); // two beats overlapping (a timer's, the tab's) keep one timer
    this.#timer = this.#setTimer(() => this.#send(), BEAT_MS);
  }

  #render(team) {
    const mine = team?.agents?.find((agent) => String(agent.id) === String(this.#me));
    if (mine) {
      this.#away = Boolean(mine.away);
      this.#toggle?.setAttribute("aria-pressed", String(this.#away));
    }
    if (!this.#list) return;
    const items = teamRows(team?.agents ?? [], this.#me).map((row) => {
      const item = this.#doc.createElement("li");
      item.className = "team__agent";
      item.dataset.agentId = row.id;
      item.dataset.status = row.status;
      const dot = this.#doc.createElement("span");
      dot.className = "team__status";
      dot.textContent = row.label;
      item.append(`${row.name} `, dot);
      return item;
    });
    this.#list.replaceChildren(...items);
  }
}
