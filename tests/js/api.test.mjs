import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiClient, ApiError, newClientId } from "../../devtone/static/js/api.js";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function json(status, body) {
  return { ok: status >= 200 && status < 300, status, statusText: "", json: async () => body };
}

/** A client whose fetch answers from a script of responses (or thrown errors). */
function client(script, { token = "tok" } = {}) {
  const requests = [];
  const sleeps = [];
  const api = new ApiClient({
    token,
    fetch: async (url, init) => {
      requests.push({ url, init, body: init.body && JSON.parse(init.body) });
      const next = script.shift();
      if (next instanceof Error) throw next;
      return next;
    },
    sleep: async (ms) => sleeps.push(ms),
    random: () => 0.5,
  });
  return { api, requests, sleeps };
}

test("startConversation posts name and email as JSON", async () => {
  const { api, requests } = client([json(201, { conversation: { id: 1 }, token: "t1" })], { token: null });
  const answer = await api.startConversation({ name: "Ann", email: "ann@example.com" });
  assert.deepEqual(answer, { conversation: { id: 1 }, token: "t1" });
  assert.equal(requests[0].url, "/api/conversations");
  assert.equal(requests[0].init.method, "POST");
  assert.equal(requests[0].init.headers["Content-Type"], "application/json");
  assert.equal(requests[0].init.headers.Authorization, undefined);
  assert.deepEqual(requests[0].body, { name: "Ann", email: "ann@example.com" });
});

test("the page's language goes along, for the e-mails to the visitor", async () => {
  const { api, requests } = client([json(201, {})], { token: null });
  await api.startConversation({ name: "Ann", language: "pt-BR" });
  assert.deepEqual(requests[0].body, { name: "Ann", language: "pt-BR" });
});

test("an empty email is left out", async () => {
  const { api, requests } = client([json(201, {})], { token: null });
  await api.startConversation({ name: "Ann", email: "" });
  assert.deepEqual(requests[0].body, { name: "Ann" });
});

test("the visitor token goes in the Authorization header", async () => {
  const { api, requests } = client([json(200, { conversation: { id: 4 } })]);
  await api.getConversation(4);
  assert.equal(requests[0].url, "/api/conversations/4");
  assert.equal(requests[0].init.headers.Authorization, "Bearer tok");
});

test("listMessages asks for the page after the cursor", async () => {
  const page = { messages: [], cursor: 0, conversation: { id: 4, last_seq: 0 } };
  const { api, requests } = client([json(200, page)]);
  assert.deepEqual(await api.listMessages(4, 200, 200), page);
  assert.equal(requests[0].url, "/api/conversations/4/messages?after=200&limit=200");
});

test("error answers become ApiError with code, message and field", async () => {
  const { api } = client([json(422, { error: { code: "invalid", message: "Name is required", field: "name" } })]);
  await assert.rejects(api.startConversation({ name: "" }), (error) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 422);
    assert.equal(error.code, "invalid");
    assert.equal(error.message, "Name is required");
    assert.equal(error.field, "name");
    return true;
  });
});

test("an error page that is not JSON still becomes an ApiError", async () => {
  const { api } = client([
    { ok: false, status: 413, statusText: "Payload Too Large", json: async () => JSON.parse("<html>") },
  ]);
  await assert.rejects(api.startConversation({ name: "x" }), { status: 413, code: "http_413", message: "Payload Too Large" });
});

test("postMessage retries network failures with the same client_id", async () => {
  const stored = { message: { seq: 3, client_id: "c-1" } };
  const { api, requests, sleeps } = client([
    new TypeError("Failed to fetch"),
    json(503, { error: { code: "unavailable", message: "down" } }),
    json(201, stored),
  ]);
  assert.deepEqual(await api.postMessage(4, "hello", "c-1"), stored);
  assert.equal(requests.length, 3);
  for (const request of requests) assert.deepEqual(request.body, { body: "hello", client_id: "c-1" });
  assert.deepEqual(sleeps, [1000, 2000]);
});

test("postMessage gives up after four retries", async () => {
  const failures = Array.from({ length: 5 }, () => new TypeError("Failed to fetch"));
  const { api, requests, sleeps } = client(failures);
  await assert.rejects(api.postMessage(4, "hello", "c-1"), { status: 0, code: "network_error" });
  assert.equal(requests.length, 5);
  assert.deepEqual(sleeps, [1000, 2000, 4000, 8000]);
});

test("client errors are not retried", async () => {
  const { api, requests } = client([json(409, { error: { code: "closed", message: "Conversation is closed" } })]);
  await assert.rejects(api.postMessage(4, "hello", "c-1"), { status: 409, code: "closed" });
  assert.equal(requests.length, 1);
});

test("startConversation is not retried, having no idempotency key", async () => {
  const { api, requests } = client([new TypeError("Failed to fetch"), json(201, {})], { token: null });
  await assert.rejects(api.startConversation({ name: "Ann" }), { status: 0 });
  assert.equal(requests.length, 1);
});

test("postMessage makes a client_id when none is given", async () => {
  const { api, requests } = client([json(201, { message: {} })]);
  await api.postMessage(4, "hi");
  assert.match(requests[0].body.client_id, UUID_V4);
});

test("newClientId uses randomUUID when the page is a secure context", () => {
  assert.equal(newClientId({ randomUUID: () => "from-randomUUID" }), "from-randomUUID");
});

test("newClientId builds a v4 UUID from getRandomValues on plain http", () => {
  const insecure = { getRandomValues: (bytes) => globalThis.crypto.getRandomValues(bytes) };
  const ids = new Set(Array.from({ length: 100 }, () => newClientId(insecure)));
  assert.equal(ids.size, 100);
  for (const id of ids) assert.match(id, UUID_V4);
  const zeros = { getRandomValues: (bytes) => bytes };
  assert.equal(newClientId(zeros), "00000000-0000-4000-8000-000000000000");
});

test("postMessage can leave retrying to its caller and be aborted", async () => {
  const { api, requests, sleeps } = client([new TypeError("Failed to fetch")]);
  const controller = new AbortController();
  await assert.rejects(api.postMessage(4, "hello", "c-1", { retry: false, signal: controller.signal }), {
    status: 0,
    code: "network_error",
  });
  assert.equal(requests.length, 1);
  assert.deepEqual(sleeps, []);
  assert.equal(requests[0].init.signal, controller.signal);
});

test("an aborted post rejects with the AbortError, not as a network error", async () => {
  const { api } = client([new DOMException("The operation was aborted.", "AbortError")]);
  await assert.rejects(api.postMessage(4, "hello", "c-1", { retry: false }), { name: "AbortError" });
});

// ── agent mode: the session cookie and the CSRF token ───────────────────────────────

function agentClient(script) {
  const requests = [];
  const api = new ApiClient({
    csrfToken: "csrf-1",
    fetch: async (url, init) => {
      requests.push({ url, init, body: init.body && JSON.parse(init.body) });
      return script.shift();
    },
    sleep: async () => {},
    random: () => 0.5,
  });
  return { api, requests };
}

test("agent mode: every POST carries X-CSRFToken, GETs do not, and no bearer token goes", async () => {
  const { api, requests } = agentClient([
    json(200, { messages: [], cursor: 0, conversation: {} }),
    json(201, { message: { seq: 1 } }),
  ]);
  await api.listMessages(4);
  await api.postMessage(4, "hi", "c-1");
  assert.equal(requests[0].init.headers["X-CSRFToken"], undefined);
  assert.equal(requests[1].init.headers["X-CSRFToken"], "csrf-1");
  assert.equal(requests[1].init.headers.Authorization, undefined);
  assert.equal(requests[1].init.credentials, "same-origin", "the session cookie goes along");
});

test("agent actions: assign (to me or to another agent), close, read, typing, agents", async () => {
  const { api, requests } = agentClient([
    json(200, { conversation: { id: 4 } }),
    json(200, { conversation: { id: 4 } }),
    json(200, { conversation: { id: 4 } }),
    json(200, { conversation: { id: 4 } }),
    { ok: true, status: 204, statusText: "", json: async () => null },
    json(200, { agents: [] }),
  ]);
  await api.assignConversation(4);
  await api.assignConversation(4, 9);
  await api.closeConversation(4);
  await api.moveMarks(4, { delivered: 12, seen: 10 });
  assert.equal(await api.sendTyping(4, true), null);
  await api.listAgents();
  assert.deepEqual(
    requests.map(({ url, init, body }) => [init.method, url, body]),
    [
      ["POST", "/api/conversations/4/assign", {}],
      ["POST", "/api/conversations/4/assign", { agent_id: 9 }],
      ["POST", "/api/conversations/4/close", {}],
      ["POST", "/api/conversations/4/marks", { delivered: 12, seen: 10 }],
      ["POST", "/api/conversations/4/typing", { typing: true }],
      ["GET", "/api/agents", undefined],
    ],
  );
  assert.ok(requests.slice(0, 5).every(({ init }) => init.headers["X-CSRFToken"] === "csrf-1"));
  // A typing signal is abandoned once stale, so the next one never waits on a hung request.
  assert.ok(requests[4].init.signal instanceof AbortSignal, "typing carries a time limit");
  assert.equal(requests[3].init.signal, undefined, "marks do not");
});

test("a refused assignment is an ApiError with the server's reason", async () => {
  const { api } = agentClient([
    json(403, { error: { code: "forbidden", message: "Assigned to someone else" } }),
  ]);
  await assert.rejects(api.assignConversation(4), { status: 403, code: "forbidden", message: "Assigned to someone else" });
});

test("ApiError.from keeps an ApiError and wraps anything else with its message", () => {
  const refused = new ApiError({ status: 422, code: "invalid", message: "Too long", field: "body" });
  assert.equal(ApiError.from(refused), refused);
  const wrapped = ApiError.from(new TypeError("Failed to fetch"));
  assert.ok(wrapped instanceof ApiError);
  assert.deepEqual([wrapped.status, wrapped.message, wrapped.field], [0, "Failed to fetch", null]);
  assert.equal(ApiError.from("offline").message, "offline");
});
