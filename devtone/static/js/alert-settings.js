/**
 * AlertSettings: the agent's alert settings on the dashboard — the form under "Alerts" in
 * the header, the button that asks for desktop notifications, and the copy of the
 * settings every tab of the agent goes by.
 *
 * The settings come with the page (`data-alerts`), change through POST
 * /api/dashboard/alerts (kept per agent on the server, so they follow the agent to any
 * browser), and reach the agent's other tabs of this browser over a BroadcastChannel at
 * once: the tab that alerts may not be the one where they were changed. Knows the network
 * only through the `save` function it is given.
 */
import { readSettings } from "./alerts.js";
import { _ } from "./texts.js";

const CHANNEL = "devtone.alert-settings";

/** What the settings say about desktop notifications in this browser ("" for nothing). */
export function permissionText(permission, settings) {
  if (!settings.desktop || settings.quiet) return "";
  switch (permission) {
    case "unsupported":
      return _("This browser cannot show desktop notifications.");
    case "denied":
      return _("Desktop notifications are blocked for this site in the browser's settings.");
    case "granted":
      return _("Desktop notifications are on in this browser.");
    default:
      return ""; // the button asks
  }
}

export class AlertSettings {
  #form;
  #button;
  #state;
  #desktop;
  #save;
  #channel = null;
  #settings;
  #failed = false; // the last change could not be saved
  onchange = () => {};

  /**
   * `root`: the settings' element (holding the form, `#allow-notifications` and
   * `#notifications-state`); `desktop`: a DesktopNotifications; `save(changes)`: the POST.
   */
  constructor({ root, settings, desktop, save, BroadcastChannel = globalThis.BroadcastChannel }) {
    this.#form = root?.querySelector("form") ?? null;
    this.#button = root?.querySelector("#allow-notifications") ?? null;
    this.#state = root?.querySelector("#notifications-state") ?? null;
    this.#desktop = desktop;
    this.#save = save;
    this.#settings = readSettings(settings);
    if (typeof BroadcastChannel === "function") this.#channel = new BroadcastChannel(CHANNEL);
  }

  /** The settings now: {sound, desktop, badge, quiet}. */
  get settings() {
    return this.#settings;
  }

  /** Show the settings and listen to the form, the button and the other tabs. */
  start() {
    this.#form?.addEventListener("change", ({ target }) => {
      if (target?.type === "checkbox" && target.name in this.#settings) this.#change(target.name, target.checked);
    });
    this.#form?.addEventListener("submit", (event) => event.preventDefault());
    this.#button?.addEventListener("click", async () => {
      await this.#desktop.ask();
      this.#render();
    });
    if (this.#channel) this.#channel.onmessage = ({ data }) => this.#apply(readSettings(data));
    this.#render();
  }

  /** Stop listening to the other tabs. */
  close() {
    this.#channel?.close();
    this.#channel = null;
  }

  async #change(name, value) {
    const before = this.#settings;
    this.#failed = false;
    this.#apply({ ...before, [name]: value }); // at once; the server's answer follows
    try {
      const answer = await this.#save({ [name]: value });
      this.#apply(readSettings(answer?.alerts));
      this.#channel?.postMessage(this.#settings);
    } catch {
      this.#failed = true;
      this.#apply(before);
    }
  }

  /** The one setter: every change of the settings goes through here. */
  #apply(settings) {
    const changed = Object.keys(settings).some((name) => settings[name] !== this.#settings[name]);
    this.#settings = settings;
    this.#render();
    if (changed) this.onchange(settings);
  }

  #render() {
    for (const [name, value] of Object.entries(this.#settings)) {
      const input = this.#form?.elements?.namedItem(name);
      if (input) input.checked = value;
    }
    const permission = this.#desktop.permission;
    if (this.#button) this.#button.hidden = permission !== "default" || !this.#settings.desktop || this.#settings.quiet;
    if (this.#state) {
      this.#state.textContent = this.#failed
        ? _("Your alert settings could not be saved. Try again.")
        : permissionText(permission, this.#settings);
    }
  }
}
