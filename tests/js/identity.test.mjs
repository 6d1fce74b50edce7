import assert from "node:assert/strict";
import test from "node:test";

import { identifyDetail } from "../../devtone/static/js/embed-bridge.js";
import { signOutLinkOf } from "../../devtone/static/js/sign-out-link.js";
import { IDENTITY_ID_MAX, sameIdentity, validIdentity, validVisitor } from "../../devtone/static/js/visitor-store.js";

const HASH = "0983e4f61237ae8c632bef7116a23826a63352b2d36a1cc87d9fcb89b3260777";

test("a signed identity is kept exactly as given, untrimmed", () => {
  assert.deepEqual(validIdentity({ id: " user-42 ", hash: HASH }), { id: " user-42 ", hash: HASH });
  assert.deepEqual(validIdentity({ id: "josé 🙂", hash: HASH.toUpperCase() }), { id: "josé 🙂", hash: HASH.toUpperCase() });
});

test("an identity of the wrong shape is no identity", () => {
  for (const identity of [
    null,
    "user-42",
    { id: "user-42" },
    { id: 42, hash: HASH },
    { id: "", hash: HASH },
    { id: "   ", hash: HASH },
    { id: "x".repeat(IDENTITY_ID_MAX + 1), hash: HASH },
    { id: "user-42", hash: "nothex".repeat(11) },
    { id: "user-42", hash: HASH + "0" },
  ]) {
    assert.equal(validIdentity(identity), null, JSON.stringify(identity));
  }
});

test("the visitor record keeps a signed identity, even without a name yet", () => {
  assert.deepEqual(validVisitor({ identity: { id: "u", hash: HASH } }), { identity: { id: "u", hash: HASH } });
  assert.equal(validVisitor({ identity: { id: "u", hash: "x" } }), null);
});

test("two identities are the same visitor only by the same id", () => {
  assert.ok(sameIdentity({ id: "a", hash: HASH }, { id: "a", hash: HASH }));
  assert.ok(!sameIdentity({ id: "a", hash: HASH }, { id: "b", hash: HASH }));
  assert.ok(!sameIdentity(null, { id: "a", hash: HASH }));
});

test("identify from the host carries id and hash only when they are an identity's shape", () => {
  assert.deepEqual(identifyDetail({ name: " Ada ", email: "", id: "u-1", hash: HASH }), {
    name: "Ada",
    email: "",
    id: "u-1",
    hash: HASH,
  });
  assert.deepEqual(identifyDetail({ name: "Ada", id: { evil: 1 }, hash: HASH }), { name: "Ada", email: "" });
});

test("the chat page takes no identity from a link, only a sign-out, and both leave the history", () => {
  const replaced = [];
  const history = { state: null, replaceState: (_s, _t, url) => replaced.push(url) };
  // Someone else's id and hash, sent in a link: ignored (they would read what is written next).
  const planted = { pathname: "/chat", search: "", hash: `#identify?id=user%2042&hash=${HASH}&name=Ada` };
  assert.equal(signOutLinkOf(planted, history), false);
  assert.deepEqual(replaced, ["/chat"]);
  assert.equal(signOutLinkOf({ pathname: "/chat", search: "?lang=pt-BR", hash: "#reset" }, history), true);
  assert.deepEqual(replaced, ["/chat", "/chat?lang=pt-BR"]);
  assert.equal(signOutLinkOf({ pathname: "/chat", search: "", hash: "#reopen=abc" }, history), false);
  assert.equal(replaced.length, 2);
});
