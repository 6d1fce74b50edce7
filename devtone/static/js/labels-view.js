/**
 * Labels on the dashboard: the chips (in the list and the transcript's header), the
 * transcript's picker (remove a chip with its ×, add one from a select and its button:
 * all reachable by keyboard), and the list's label filter.
 *
 * Never touches the network: it reports `onchange(names)` (the open conversation's new
 * set) and `onfilter(name)` ("" for every label); the page sends and renders. User text
 * only through textContent.
 */
import { _ } from "./texts.js";

const PALETTE = new Set(["grey", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink"]);
const HEX = /^#[0-9a-f]{6}$/i;

/** The names `names` with `name` added or taken out (case-insensitively), in order. */
export function withLabel(names, name, present) {
  const key = String(name).toLocaleLowerCase();
  const others = (names ?? []).filter((each) => String(each).toLocaleLowerCase() !== key);
  return present ? [...others, name] : others;
}

/** A label chip: `<li class="label-chip" data-colour>` with the name as text. */
export function labelChip(document, name, colour) {
  const chip = document.createElement("li");
  chip.className = "label-chip";
  const text = document.createElement("span");
  text.textContent = name;
  chip.append(text);
  if (PALETTE.has(colour)) chip.dataset.colour = colour;
  else if (HEX.test(colour ?? "")) chip.style.setProperty("--label-colour", colour);
  return chip;
}

/** The chips of `names` in a `<ul class="label-chips">`, or null when there is none. */
export function labelChips(document, names, colourOf = () => null) {
  if (!Array.isArray(names) || names.length === 0) return null;
  const ul = document.createElement("ul");
  ul.className = "label-chips";
  ul.setAttribute("aria-label", _("Labels"));
  for (const name of names) ul.append(labelChip(document, name, colourOf(name)));
  return ul;
}

/** The transcript's labels and picker, and the list's filter. */
export class LabelsView {
  /** Called with the open conversation's new set of names. */
  onchange = null;
  /** Called with the filter's label name ("" for all). */
  onfilter = null;

  #document;
  #chips;
  #add;
  #addButton;
  #filter;
  #labels = []; // [{id, name, colour}]
  #current = []; // the open conversation's names

  constructor(document) {
    this.#document = document;
    const byId = (id) => document.getElementById(id);
    this.#chips = byId("transcript-labels");
    this.#add = byId("label-add");
    this.#addButton = byId("label-add-button");
    this.#filter = byId("label-filter");
    this.#addButton?.addEventListener("click", () => {
      const name = this.#add.value;
      if (name) this.onchange?.(withLabel(this.#current, name, true));
    });
    this.#filter?.addEventListener("change", () => this.onfilter?.(this.#filter.value));
  }

  /** The team's labels: the choices of the picker and of the filter. */
  setLabels(labels) {
    this.#labels = Array.isArray(labels) ? labels : [];
    if (this.#filter) {
      const chosen = this.#filter.value;
      this.#filter.replaceChildren(this.#option("", _("All labels")), ...this.#labels.map((l) => this.#option(l.name, l.name)));
      this.#filter.value = this.#labels.some((l) => l.name === chosen) ? chosen : "";
    }
    this.render(this.#current);
  }

  /** The colour of the label named `name`, if the team has it. */
  colourOf = (name) => this.#labels.find((label) => label.name === name)?.colour ?? null;

  /** Show the open conversation's labels (`names`) and what may still be added. */
  render(names) {
    this.#current = Array.isArray(names) ? names : [];
    if (!this.#chips) return;
    const chips = this.#current.map((name) => {
      const chip = labelChip(this.#document, name, this.colourOf(name));
      const remove = this.#document.createElement("button");
      remove.type = "button";
      remove.className = "label-chip__remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", _("Remove the label {name}", { name }));
      remove.addEventListener("click", () => this.onchange?.(withLabel(this.#current, name, false)));
      chip.append(remove);
      return chip;
    });
    this.#chips.replaceChildren(...chips);
    const taken = new Set(this.#current.map((name) => name.toLocaleLowerCase()));
    const free = this.#labels.filter((label) => !taken.has(label.name.toLocaleLowerCase()));
    // Every update of the conversation renders again: keep what the agent has chosen.
    const chosen = this.#add.value;
    this.#add.replaceChildren(this.#option("", _("Add a label…")), ...free.map((l) => this.#option(l.name, l.name)));
    this.#add.value = free.some((label) => label.name === chosen) ? chosen : "";
    this.#add.disabled = this.#addButton.disabled = free.length === 0;
  }

  #option(value, text) {
    const option = this.#document.createElement("option");
    option.value = value;
    option.textContent = text;
    return option;
  }
}
