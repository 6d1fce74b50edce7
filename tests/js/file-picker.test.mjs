// FilePicker: files dropped on the conversation are taken, and a disabled picker (a note
// being written, a closed conversation) still keeps the browser from opening them.
import assert from "node:assert/strict";
import { test } from "node:test";

import { FilePicker } from "../../devtone/static/js/file-picker.js";

function target() {
  const listeners = {};
  return {
    listeners,
    classList: { add() {}, remove() {} },
    contains: () => false,
    addEventListener(type, listener) {
      listeners[type] = listener;
    },
  };
}

function fileDrag(type) {
  const event = {
    type,
    prevented: false,
    dataTransfer: { types: ["Files"], files: [{ name: "invoice.pdf" }], dropEffect: "copy" },
    preventDefault() {
      this.prevented = true;
    },
  };
  return event;
}

function picker() {
  const dropZone = target();
  const files = new FilePicker({ button: target(), input: target(), dropZone, field: target() });
  const handed = [];
  files.onfiles = (list) => handed.push(...list.map((file) => file.name));
  return { files, dropZone, handed };
}

test("a file dropped on an enabled picker is handed on, and the browser does not open it", () => {
  const { dropZone, handed } = picker();
  const over = fileDrag("dragover");
  dropZone.listeners.dragover(over);
  const drop = fileDrag("drop");
  dropZone.listeners.drop(drop);
  assert.ok(over.prevented && drop.prevented);
  assert.deepEqual(handed, ["invoice.pdf"]);
});

test("disabled, a dropped file is refused without the browser opening it in place of the page", () => {
  const { files, dropZone, handed } = picker();
  files.enabled = false;
  const over = fileDrag("dragover");
  dropZone.listeners.dragover(over);
  assert.ok(over.prevented);
  assert.equal(over.dataTransfer.dropEffect, "none");
  const drop = fileDrag("drop");
  dropZone.listeners.drop(drop);
  assert.ok(drop.prevented, "the browser would open the file and lose the page");
  assert.deepEqual(handed, []);
});
