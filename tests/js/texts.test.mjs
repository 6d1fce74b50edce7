import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { _, fill, language, ngettext, useTexts } from "../../devtone/static/js/texts.js";

afterEach(() => useTexts("en", {}));

test("without a catalogue every text is its English source, placeholders filled", () => {
  assert.equal(language(), "en");
  assert.equal(_("Send"), "Send");
  assert.equal(_("Typically replies in {minutes} min", { minutes: 3 }), "Typically replies in 3 min");
});

test("a catalogue's translation is used, and a text it lacks stays English", () => {
  useTexts("pt-BR", { Send: "Enviar", "Hello {name}": "Olá {name}" });
  assert.equal(_("Send"), "Enviar");
  assert.equal(_("Hello {name}", { name: "Ana <b>" }), "Olá Ana <b>");
  assert.equal(_("Not translated"), "Not translated");
});

test("plurals follow the language's CLDR rule", () => {
  assert.equal(ngettext("{count} new message", "{count} new messages", 1), "1 new message");
  assert.equal(ngettext("{count} new message", "{count} new messages", 0), "0 new messages");
  useTexts("pt-BR", {
    "{count} new message": { one: "{count} mensagem nova", many: "{count} de mensagens novas", other: "{count} mensagens novas" },
  });
  // Portuguese counts 0 as "one", unlike English.
  assert.equal(ngettext("{count} new message", "{count} new messages", 0), "0 mensagem nova");
  assert.equal(ngettext("{count} new message", "{count} new messages", 2), "2 mensagens novas");
});

test("an unknown placeholder is left as written", () => {
  assert.equal(fill("{a} and {b}", { a: 1 }), "1 and {b}");
});
