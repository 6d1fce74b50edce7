/**
 * FilePicker: the ways a writer hands the composer files: its "Attach a file" button, a
 * drop onto the conversation, and an image pasted into the text field. It only reports
 * them (`onfiles(files)`); what happens next is the page's business.
 */
export class FilePicker {
  /** Called with an array of File. */
  onfiles = null;

  #enabled = true;

  /**
   * `button` opens the browser's chooser on `input` (a hidden <input type=file>); files
   * dropped on `dropZone` and images pasted into `field` are taken too.
   */
  constructor({ button, input, dropZone, field }) {
    button.addEventListener("click", () => {
      if (this.#enabled) input.click();
    });
    input.addEventListener("change", () => {
      const files = [...(input.files ?? [])];
      input.value = ""; // the same file may be chosen again
      this.#hand(files);
    });
    dropZone.addEventListener("dragover", (event) => {
      if (!hasFiles(event.dataTransfer)) return;
      // Taken even while disabled: a file let through would open in place of the page
      // (and its unsent uploads); disabled, the pointer says "no drop" instead.
      event.preventDefault();
      if (!this.#enabled) {
        event.dataTransfer.dropEffect = "none";
        return;
      }
      dropZone.classList.add("drop-target");
    });
    dropZone.addEventListener("dragleave", (event) => {
      if (!dropZone.contains(event.relatedTarget)) dropZone.classList.remove("drop-target");
    });
    dropZone.addEventListener("drop", (event) => {
      dropZone.classList.remove("drop-target");
      if (!hasFiles(event.dataTransfer)) return;
      event.preventDefault(); // never let the browser open the file in place of the page
      if (this.#enabled) this.#hand([...event.dataTransfer.files]);
    });
    field.addEventListener("paste", (event) => {
      const files = [...(event.clipboardData?.files ?? [])].filter((file) => file.type.startsWith("image/"));
      if (!this.#enabled || files.length === 0) return;
      event.preventDefault(); // the image, not its file name as text
      this.#hand(files);
    });
  }

  /** Take files or not (a closed conversation an agent cannot write to). */
  set enabled(value) {
    this.#enabled = Boolean(value);
  }

  #hand(files) {
    if (files.length) this.onfiles?.(files);
  }
}

function hasFiles(dataTransfer) {
  return [...(dataTransfer?.types ?? [])].includes("Files");
}
