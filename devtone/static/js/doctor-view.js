/**
 * DoctorView: the doctor's findings on the page (each check's verdict, what it saw, and the
 * fixes with their configuration), with textContent only. Knows no network.
 */
import { _, ngettext } from "./texts.js";

const VERDICTS = {
  pass: () => _("Passed"),
  fail: () => _("Failed"),
  info: () => _("Information"),
  skipped: () => _("Not judged"),
};

export class DoctorView {
  #root;
  #document;

  constructor(root, document = root.ownerDocument) {
    this.#root = root;
    this.#document = document;
  }

  /** The run has started: the button waits, the summary says so. */
  running() {
    this.#button().disabled = true;
    this.#summary(_("Checking… this takes as long as a heartbeat and a long-poll wait."), "running");
    this.#list().replaceChildren();
  }

  /** The run could not finish (the server refused or could not be reached). */
  failed(message) {
    this.#button().disabled = false;
    this.#summary(message, "fail");
  }

  /** Show `{passed, findings}` as POST /api/doctor/findings answered. */
  render({ passed, findings }) {
    this.#button().disabled = false;
    const open = findings.filter((finding) => finding.status === "fail" || finding.status === "skipped").length;
    this.#summary(
      passed
        ? _("Every check passed.")
        : ngettext("{count} check did not pass.", "{count} checks did not pass.", open, { count: open }),
      passed ? "pass" : "fail",
    );
    this.#list().replaceChildren(...findings.map((finding) => this.#finding(finding)));
  }

  #finding(finding) {
    const item = this.#element("li", "doctor__finding");
    item.dataset.check = finding.check;
    item.dataset.status = finding.status;
    const heading = this.#element("h3", "doctor__check");
    heading.append(this.#element("span", "doctor__verdict", VERDICTS[finding.status]()), " ", finding.title);
    item.append(heading, this.#element("p", "doctor__saw", finding.saw));
    if (finding.status === "fail" || finding.status === "info") {
      for (const fix of finding.fixes) item.append(this.#fix(fix));
    }
    return item;
  }

  #fix(fix) {
    const block = this.#element("div", "doctor__fix");
    block.dataset.for = fix.for;
    const label = this.#element("p", "doctor__fix-text");
    label.append(this.#element("strong", "", fix.label), " ", fix.text);
    block.append(label);
    if (fix.config) {
      const pre = this.#element("pre", "doctor__config");
      pre.setAttribute("translate", "no"); // configuration is code in every language
      pre.append(this.#element("code", "", fix.config));
      block.append(pre);
    }
    return block;
  }

  #summary(text, status) {
    const summary = this.#root.querySelector("#doctor-summary");
    summary.textContent = text;
    summary.dataset.status = status;
  }

  #button() {
    return this.#root.querySelector("#doctor-run");
  }

  #list() {
    return this.#root.querySelector("#doctor-findings");
  }

  #element(tag, className, text) {
    const element = this.#document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  }
}
