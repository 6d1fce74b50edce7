/**
 * ApiClient: devtone's HTTP surface (DESIGN.md §3), for both sides.
 *
 * JSON in and out, errors as ApiError. A visitor authenticates with `Authorization: Bearer
 * <visitor token>`; an agent with the session cookie, and every unsafe request carries the
 * page's CSRF token as `X-CSRFToken` (agent mode: `csrfToken` set, no token). Requests
 * that are safe to repeat (GETs, and posts carrying a client_id, which the server stores
 * once) are retried on network failures and 5xx with the realtime backoff.
 */
import { backoff } from "./realtime/retries.js";
import { retryAfterMs } from "./realtime/limits.js";
import { _ } from "./texts.js";

/** An error answer from the server, or status 0 when the server could not be reached. */
export class ApiError extends Error {
  /**
   * Fields of the `{"error": {code, message, field}}` shape plus the HTTP status, and the
   * wait a 429's Retry-After asks for (ms, else null).
   */
  constructor({ status = 0, code = "error", message = _("Something went wrong"), field = null, retryAfterMs = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
    this.retryAfterMs = retryAfterMs;
  }

  /** `error` as an ApiError: itself, or one carrying its message (a network failure…). */
  static from(error) {
    return error instanceof ApiError ? error : new ApiError({ message: String(error?.message ?? error) });
  }
}

/** A random v4 UUID; works without `crypto.randomUUID`, which plain-http LAN pages lack. */
export function newClientId(crypto = globalThis.crypto) {
  if (typeof crypto?.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const RETRIES = 4;

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** A typing signal still unanswered after this long is abandoned: the other side's
 * "is typing…" has expired by then (typing.js), and the next signal waits on this one. */
const TYPING_PATIENCE_MS = 5000;

/** Fetch wrapper for /api: JSON, bearer token or CSRF token, error shape, idempotent retries. */
export class ApiClient {
  #token;
  #csrfToken;
  #base;
  #fetch;
  #sleep;
  #random;

  /** `csrfToken` puts the client in agent mode; `fetch`, `sleep(ms)` and `random` are injectable for tests. */
  constructor({
    base = "/api",
    token = null,
    csrfToken = null,
    fetch = (...args) => globalThis.fetch(...args),
    sleep = (ms) => new Promise((resolve) => globalThis.setTimeout(resolve, ms)),
    random = Math.random,
  } = {}) {
    this.#base = base.replace(/\/+$/, "");
    this.#token = token;
    this.#csrfToken = csrfToken;
    this.#fetch = fetch;
    this.#sleep = sleep;
    this.#random = random;
  }

  /** The visitor token sent as `Authorization: Bearer`; null sends none. */
  get token() {
    return this.#token;
  }

  set token(value) {
    this.#token = value || null;
  }

  /** POST /conversations → {conversation, token}. Not retried: it has no idempotency key. */
  startConversation({ name, email, language, identity, resume } = {}) {
    const body = { name };
    if (email) body.email = email;
    if (language) body.language = language; // the page's: e-mails to the visitor are in it
    // A signed identity links the visitor's browsers: with one open, the server answers
    // 200 with it (unless `resume` is false: the visitor asked for a new conversation).
    if (identity) body.identity = identity;
    if (resume === false) body.resume = false;
    return this.#request("POST", "/conversations", { body });
  }

  /** POST /conversations/resume → {conversation, token}: a signed visitor's open conversation. */
  resumeConversation(identity) {
    return this.#request("POST", "/conversations/resume", { body: { identity } });
  }

  /** POST /conversations/earlier → {earlier: [{conversation, token}]}: a signed visitor's closed ones. */
  earlierConversations(identity, known) {
    return this.#request("POST", "/conversations/earlier", { body: { identity, known } });
  }

  /** POST /conversations/reopen → {conversation, token}: an e-mailed link traded for the conversation. */
  reopenConversation(link) {
    return this.#request("POST", "/conversations/reopen", { body: { link } });
  }

  /** POST /conversations/<id>/transcript: the whole conversation by e-mail (202, no body). */
  emailTranscript(id) {
    return this.#request("POST", `/conversations/${encodeURIComponent(id)}/transcript`, { body: {} });
  }

  /** GET /conversations/<id> → {conversation}. */
  getConversation(id) {
    return this.#request("GET", `/conversations/${encodeURIComponent(id)}`, { retry: true });
  }

  /** GET /conversations/<id>/messages?after=N&limit=L → {messages, cursor, conversation}. */
  listMessages(id, after = 0, limit = 200) {
    const query = new URLSearchParams({ after: String(after), limit: String(limit) });
    return this.#request("GET", `/conversations/${encodeURIComponent(id)}/messages?${query}`, {
      retry: true,
    });
  }

  /**
   * POST /conversations/<id>/messages → {message}; retried with the same client_id unless
   * `retry` is false (the Outbox retries by itself). `signal` aborts it (rejects AbortError).
   * `kind` "note": an agent's private note.
   */
  postMessage(id, body, clientId = newClientId(), { retry = true, signal, kind = "text" } = {}) {
    return this.#request("POST", `/conversations/${encodeURIComponent(id)}/messages`, {
      // A note says so; a text message is sent as it always was.
      body: kind === "note" ? { body, client_id: clientId, kind } : { body, client_id: clientId },
      retry,
      signal,
    });
  }

  /**
   * POST /conversations/<id>/attachments (multipart: file, client_id) → {message}; not
   * retried here (Uploads retries, with the same client_id). `signal` aborts it.
   */
  attachFile(id, file, clientId, { signal } = {}) {
    const form = new FormData();
    form.append("client_id", clientId);
    form.append("file", file, file.name);
    return this.#request("POST", `/conversations/${encodeURIComponent(id)}/attachments`, { form, signal });
  }

  /** GET an attachment's `url` with this client's credentials → its Blob. */
  async fetchFile(url) {
    const headers = this.#token ? { Authorization: `Bearer ${this.#token}` } : {};
    let response;
    try {
      response = await this.#fetch(url, { headers, credentials: "same-origin" });
    } catch {
      throw new ApiError({ status: 0, code: "network_error", message: "Could not reach the server" });
    }
    if (!response.ok) throw await errorFrom(response);
    return response.blob();
  }

  /** POST /conversations/<id>/typing {typing} → 204. Never retried and abandoned after
   * TYPING_PATIENCE_MS: a late signal is a wrong one. */
  sendTyping(id, typing) {
    return this.#request("POST", `/conversations/${encodeURIComponent(id)}/typing`, {
      body: { typing: Boolean(typing) },
      signal: AbortSignal.timeout(TYPING_PATIENCE_MS),
    });
  }

  /** POST /conversations/<id>/marks {delivered?, seen?} → {conversation}: moves the caller's marks forward. */
  moveMarks(id, marks) {
    return this.#request("POST", `/conversations/${encodeURIComponent(id)}/marks`, { body: marks });
  }

  /** POST /conversations/<id>/assign {agent_id?} → {conversation}; no agentId = to me. */
  assignConversation(id, agentId = null) {
    const body = agentId == null ? {} : { agent_id: agentId };
    return this.#request("POST", `/conversations/${encodeURIComponent(id)}/assign`, { body });
  }

  /** POST /conversations/<id>/close → {conversation}. */
  closeConversation(id) {
    return this.#request("POST", `/conversations/${encodeURIComponent(id)}/close`, { body: {} });
  }

  /** POST /conversations/<id>/rating {score, comment?} → {conversation} (the visitor, once per closing). */
  rateConversation(id, score, comment = "") {
    const body = comment.trim() ? { score, comment } : { score };
    return this.#request("POST", `/conversations/${encodeURIComponent(id)}/rating`, { body });
  }

  /** GET /canned-replies → {canned_replies: [{id, shortcut, text, shared, editable}]}. */
  listCannedReplies() {
    return this.#request("GET", "/canned-replies", { retry: true });
  }

  /** GET /agents → {agents: [{id, name, email, role, active}]} (the admin's assign list). */
  listAgents() {
    return this.#request("GET", "/agents", { retry: true });
  }

  /** POST /presence {active, away?} → {agents: [{id, name, status, away}], online}: the dashboard is open. */
  beat(active, away = undefined) {
    return this.#request("POST", "/presence", { body: away === undefined ? { active } : { active, away } });
  }

  /** GET /availability → {available, in_hours, next_opening, email_required}: what a visitor is told. */
  getAvailability() {
    return this.#request("GET", "/availability", { retry: true });
  }

  /** POST /dashboard/alerts {sound?, desktop?, badge?, quiet?} → {alerts} (the signed-in agent's). */
  changeAlertSettings(changes) {
    return this.#request("POST", "/dashboard/alerts", { body: changes });
  }

  /** GET /labels → {labels: [{id, name, colour}]}. */
  listLabels() {
    return this.#request("GET", "/labels", { retry: true });
  }

  /** PUT /conversations/<id>/labels {labels} → {conversation}: exactly these labels. */
  setLabels(id, names) {
    return this.#request("PUT", `/conversations/${encodeURIComponent(id)}/labels`, { body: { labels: names } });
  }

  /** GET /search?q&label&page → {results: [{conversation, message?, snippet}], next_page}. */
  search({ q = "", label = "", page = 1 } = {}) {
    const query = new URLSearchParams({ q, page: String(page) });
    if (label) query.set("label", label);
    return this.#request("GET", `/search?${query}`, { retry: true });
  }

  /** POST /doctor/findings {observations} → {passed, findings} (administrators). */
  judgeDoctorFindings(observations) {
    return this.#request("POST", "/doctor/findings", { body: observations });
  }

  async #request(method, path, { body, form, retry = false, signal } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    // A form's Content-Type (with its boundary) is the browser's to write.
    if (this.#token) headers.Authorization = `Bearer ${this.#token}`;
    // Flask-WTF refuses an unsafe request without it; the session cookie alone proves nothing.
    if (this.#csrfToken && !SAFE_METHODS.has(method)) headers["X-CSRFToken"] = this.#csrfToken;
    const init = {
      method,
      headers,
      credentials: "same-origin",
      body: form ?? (body === undefined ? undefined : JSON.stringify(body)),
    };
    if (signal) init.signal = signal;

    for (let attempt = 1; ; attempt += 1) {
      let response;
      try {
        response = await this.#fetch(`${this.#base}${path}`, init);
      } catch (error) {
        // fetch rejects with a TypeError when the request never got an answer.
        if (!(error instanceof TypeError)) throw error;
        if (retry && attempt <= RETRIES) {
          await this.#wait(attempt);
          continue;
        }
        throw new ApiError({ status: 0, code: "network_error", message: "Could not reach the server" });
      }
      if (response.ok) return readJson(response);
      if (retry && response.status >= 500 && attempt <= RETRIES) {
        await this.#wait(attempt);
        continue;
      }
      throw await errorFrom(response);
    }
  }

  #wait(attempt) {
    return this.#sleep(backoff(attempt, { random: this.#random }));
  }
}

async function readJson(response) {
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch {
    throw new ApiError({ status: response.status, code: "bad_response", message: "The server sent no JSON" });
  }
}

async function errorFrom(response) {
  let error = {};
  try {
    error = (await response.json())?.error ?? {};
  } catch {
    // A proxy's HTML error page: keep the status, invent the rest.
  }
  return new ApiError({
    status: response.status,
    code: error.code ?? `http_${response.status}`,
    message: error.message ?? (response.statusText || `HTTP ${response.status}`),
    field: error.field ?? null,
    retryAfterMs: retryAfterMs(response),
  });
}
