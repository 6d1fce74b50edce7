import assert from "node:assert/strict";
import { test } from "node:test";

import {
  BODY_MAX,
  DesktopNotifications,
  notificationBody,
  notificationTitle,
} from "../../devtone/static/js/desktop-notifications.js";

const ada = { id: 12, visitor: { name: "Ada" }, last_message: { seq: 3, sender: "visitor", body: " Is anyone there? " } };

function fakeNotification(permission) {
  return class FakeNotification {
    static permission = permission;
    static made = [];
    static async requestPermission() {
      FakeNotification.permission = "granted";
      return "granted";
    }
    constructor(title, options) {
      Object.assign(this, { title, options });
      FakeNotification.made.push(this);
    }
    close() {
      this.closed = true;
    }
  };
}

test("a notification names the visitor and shows the message, cut when long", () => {
  assert.equal(notificationTitle(ada), "New message from Ada");
  assert.equal(notificationBody(ada), "Is anyone there?");
  const long = notificationBody({ last_message: { body: "x".repeat(500) } });
  assert.equal(Array.from(long).length, BODY_MAX);
  assert.ok(long.endsWith("…"));
});

test("nothing is shown until the agent allowed it, and asking happens only on request", async () => {
  const Notification = fakeNotification("default");
  const desktop = new DesktopNotifications({ Notification });
  assert.equal(desktop.permission, "default");
  assert.equal(desktop.show(ada), null);
  assert.equal(await desktop.ask(), "granted");
  assert.ok(desktop.show(ada));
  assert.equal(Notification.made.length, 1);
});

test("one tag per conversation, and a click brings the tab forward and opens it", () => {
  const Notification = fakeNotification("granted");
  const opened = [];
  let focused = 0;
  const desktop = new DesktopNotifications({ Notification, focus: () => (focused += 1), onopen: (id) => opened.push(id) });
  const notification = desktop.show(ada);
  assert.equal(notification.title, "New message from Ada");
  assert.equal(notification.options.tag, "devtone-conversation-12");
  notification.onclick();
  assert.deepEqual(opened, [12]);
  assert.equal(focused, 1);
  assert.equal(notification.closed, true);
});

test("a browser without notifications says so and shows nothing", async () => {
  const desktop = new DesktopNotifications({ Notification: undefined });
  assert.equal(desktop.permission, "unsupported");
  assert.equal(await desktop.ask(), "unsupported");
  assert.equal(desktop.show(ada), null);
});

test("a mention says so, and never shows the visitor's message as if it were the note", () => {
  const Notification = fakeNotification("granted");
  const desktop = new DesktopNotifications({ Notification });
  desktop.show(ada, { mention: true });
  const [shown] = Notification.made;
  assert.equal(shown.title, "You were mentioned in a note on Ada's conversation");
  assert.equal(shown.options.body, "Open the conversation to read the note.");
  assert.equal(shown.options.tag, "devtone-conversation-12");
});
