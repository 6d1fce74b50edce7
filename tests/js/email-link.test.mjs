import assert from "node:assert/strict";
import test from "node:test";

import { redeemEmailLink, reopenLinkOf, withReopened } from "../../devtone/static/js/email-link.js";

const token = (c) => c.repeat(43);
const conversation = {
  id: 7,
  created_at: "2026-12-06T10:00:00Z",
  visitor: { name: "Ada", email: "ada@example.com" },
};

test("only a #reopen= fragment of link characters is a link", () => {
  assert.equal(reopenLinkOf("#reopen=eyJjIjo3fQ.Z1x2.abc-_"), "eyJjIjo3fQ.Z1x2.abc-_");
  for (const hash of ["", "#", "#reopen=", "#reopen=<script>", "#other=abc", `#reopen=${"a".repeat(201)}`, null]) {
    assert.equal(reopenLinkOf(hash), null, hash);
  }
});

test("a browser that never had the conversation gets it, with who the visitor is", () => {
  assert.deepEqual(withReopened(null, conversation, token("n")), {
    name: "Ada",
    email: "ada@example.com",
    conversationId: 7,
    token: token("n"),
    startedAt: "2026-12-06T10:00:00Z",
  });
});

test("the conversation a browser was in goes to the earlier ones", () => {
  const record = { name: "Ada", conversationId: 3, token: token("o"), startedAt: "2026-12-01T10:00:00Z" };
  const reopened = withReopened(record, conversation, token("n"));
  assert.equal(reopened.conversationId, 7);
  assert.deepEqual(reopened.earlier, [{ conversationId: 3, token: token("o"), startedAt: "2026-12-01T10:00:00Z" }]);
});

test("reopening the conversation a browser is in only replaces its token, never lists it twice", () => {
  const record = {
    name: "Ada",
    conversationId: 7,
    token: token("o"),
    earlier: [{ conversationId: 7, token: token("x"), startedAt: "" }],
  };
  const reopened = withReopened(record, conversation, token("n"));
  assert.equal(reopened.token, token("n"));
  assert.equal(reopened.earlier, undefined);
});

function fakes(hash, answer) {
  const saved = [];
  const calls = [];
  const location = { hash, pathname: "/chat", search: "?locale=pt-BR" };
  const history = { state: null, replaced: null, replaceState: (_s, _t, url) => (history.replaced = url) };
  const api = {
    reopenConversation: async (link) => {
      calls.push(link);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  const store = { load: () => null, save: (record) => saved.push(record) };
  return { saved, calls, location, history, api, store };
}

test("the page trades its link, stores the conversation and takes the link out of the address", async () => {
  const f = fakes("#reopen=abc.def", { conversation, token: token("n") });
  assert.equal(await redeemEmailLink(f), true);
  assert.deepEqual(f.calls, ["abc.def"]);
  assert.equal(f.saved[0].conversationId, 7);
  assert.equal(f.history.replaced, "/chat?locale=pt-BR");
});

test("a refused link leaves the page as it was, without the link", async () => {
  const f = fakes("#reopen=abc.def", new Error("401"));
  assert.equal(await redeemEmailLink(f), false);
  assert.deepEqual(f.saved, []);
  assert.equal(f.history.replaced, "/chat?locale=pt-BR");
});

test("a page without a link asks nothing", async () => {
  const f = fakes("", null);
  assert.equal(await redeemEmailLink(f), false);
  assert.deepEqual(f.calls, []);
  assert.equal(f.history.replaced, null);
});
