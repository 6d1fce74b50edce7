import assert from "node:assert/strict";
import { test } from "node:test";

import { fillVariables, insertReply, matchReplies, slashQuery } from "../../devtone/static/js/canned-replies.js";

test("a slash at the start or after whitespace opens a query up to the caret", () => {
  assert.deepEqual(slashQuery("/"), { start: 0, end: 1, query: "" });
  assert.deepEqual(slashQuery("/tha"), { start: 0, end: 4, query: "tha" });
  assert.deepEqual(slashQuery("ok\n/hi"), { start: 3, end: 6, query: "hi" });
  assert.deepEqual(slashQuery("see /ab more", 7), { start: 4, end: 7, query: "ab" });
});

test("a slash inside a word, or a query with a space, is no query", () => {
  assert.equal(slashQuery("and/or"), null);
  assert.equal(slashQuery("https://example.com"), null);
  assert.equal(slashQuery("/thanks a lot"), null);
  assert.equal(slashQuery("no slash here"), null);
  assert.equal(slashQuery("/hi", 0), null); // the caret before the slash
});

const REPLIES = [
  { shortcut: "thanks", text: "Thank you, {visitor.name}!" },
  { shortcut: "bye", text: "Have a nice day" },
  { shortcut: "refund", text: "Your refund is on its way" },
  { shortcut: "ação", text: "Vou verificar agora" },
  { shortcut: "nothanks", text: "…" },
];

test("shortcuts starting with the query come first, then those holding it, then texts", () => {
  const shortcuts = (query) => matchReplies(REPLIES, query).map((r) => r.shortcut);
  assert.deepEqual(shortcuts("than"), ["thanks", "nothanks"]);
  assert.deepEqual(shortcuts("re"), ["refund"]);
  assert.deepEqual(shortcuts("NICE"), ["bye"]); // by text, any case
  assert.deepEqual(shortcuts("acao"), ["ação"]); // without accents
  assert.deepEqual(shortcuts("zzz"), []);
  assert.equal(matchReplies(REPLIES, "").length, REPLIES.length);
  assert.equal(matchReplies(REPLIES, "", 2).length, 2);
});

test("the variables are filled in and other braces stay", () => {
  const filled = fillVariables(
    "Hi {visitor.name}, I am {agent.name} (case #{conversation.id}) {unknown}",
    { visitorName: "Ada", agentName: "Maria", conversationId: 42 },
  );
  assert.equal(filled, "Hi Ada, I am Maria (case #42) {unknown}");
});

test("a missing visitor name falls back to the page's word", () => {
  assert.equal(fillVariables("Olá, {visitor.name}!", { visitorName: "  " }, "cliente"), "Olá, cliente!");
  assert.equal(fillVariables("Hi {visitor.name}", {}, "there"), "Hi there");
});

test("a name that looks like a variable is not filled again", () => {
  const filled = fillVariables("{visitor.name} / {agent.name}", { visitorName: "{agent.name}", agentName: "Maria" });
  assert.equal(filled, "{agent.name} / Maria");
});

test("the chosen reply replaces the query and the caret goes after it", () => {
  assert.deepEqual(insertReply("Hello /tha", { start: 6, end: 10 }, "Thanks!"), { text: "Hello Thanks!", caret: 13 });
  assert.deepEqual(insertReply("/b and more", { start: 0, end: 2 }, "Bye"), { text: "Bye and more", caret: 3 });
});
