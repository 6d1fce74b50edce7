import assert from "node:assert/strict";
import { test } from "node:test";

import { earlierLabel } from "../../devtone/static/js/earlier-conversations.js";

const FORMAT = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

test("an earlier conversation is named by when it started, else by its number", () => {
  assert.equal(
    earlierLabel({ conversationId: 7, startedAt: "2026-12-06T14:02:00Z" }, FORMAT),
    "Conversation of 6 Dec 2026, 14:02",
  );
  assert.equal(earlierLabel({ conversationId: 7, startedAt: "soon" }, FORMAT), "Conversation #7");
});
