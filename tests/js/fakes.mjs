// Fakes shared by the realtime and outbox tests: a virtual clock, a scripted fetch, an
// EventSource, and event targets that count their listeners. Each one counts what it
// holds open, so a test can assert that close()/stop() left nothing behind.

/** Let every pending promise callback run (fetch answers, awaits). */
/** The timings the server's negotiate answer gives by default (api/realtime/negotiate). */
export const TIMINGS = {
  hello_timeout_ms: 10000,
  heartbeat_ms: 15000,
  watchdog_heartbeats: 2.5,
  longpoll_wait_s: 25,
  poll_interval_ms: 30000,
  backoff: { initial_ms: 1000, max_ms: 30000, jitter: 0.2 },
};

export const flush = () => new Promise((resolve) => setImmediate(resolve));

/** Timers on a virtual clock: nothing runs until advance(). */
export class FakeClock {
  now = 1_000_000;
  #timers = new Map();
  #nextId = 1;

  setTimeout = (fn, ms) => {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.now + Math.max(0, ms), fn });
    return id;
  };

  clearTimeout = (id) => {
    this.#timers.delete(id);
  };

  /** How many timers are armed. */
  get pending() {
    return this.#timers.size;
  }

  /** Delays (from now) of the armed timers, soonest first. */
  get delays() {
    return [...this.#timers.values()].map((t) => t.at - this.now).sort((a, b) => a - b);
  }

  /** Move time forward, running due timers in order (and timers they set). */
  advance(ms) {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.#timers].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, timer] = due;
      this.#timers.delete(id);
      this.now = timer.at;
      timer.fn();
    }
    this.now = end;
  }
}

/** A Response just big enough for the code under test. */
export function response(status, body) {
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: "",
    json: async () => (typeof body === "string" ? JSON.parse(body) : structuredClone(body)),
  };
}

/** fetch whose requests stay open until the test answers them; aborts reject them. */
export class FakeFetch {
  requests = [];
  #auto;

  /** `auto(url, init)` may return a response (or throw) to answer at once, or undefined. */
  constructor(auto = () => undefined) {
    this.#auto = auto;
  }

  fetch = (url, init = {}) => {
    const request = {
      url,
      init,
      settled: false,
      aborted: false,
      params: new URL(url, "http://x").searchParams,
      path: new URL(url, "http://x").pathname,
    };
    this.requests.push(request);
    return new Promise((resolve, reject) => {
      const settle = (fn) => {
        if (request.settled) return false;
        request.settled = true;
        fn();
        return true;
      };
      request.respond = (status, body) => settle(() => resolve(response(status, body)));
      request.resolveWith = (value) => settle(() => resolve(value));
      request.fail = (error = new TypeError("Failed to fetch")) => settle(() => reject(error));
      const signal = init.signal;
      const onAbort = () => {
        if (settle(() => reject(new DOMException("The operation was aborted.", "AbortError")))) {
          request.aborted = true;
        }
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
      if (request.settled) return;
      let answer;
      try {
        answer = this.#auto(url, init);
      } catch (error) {
        request.fail(error);
        return;
      }
      if (answer) request.resolveWith(answer);
    });
  };

  /** Requests neither answered nor aborted. */
  get open() {
    return this.requests.filter((request) => !request.settled);
  }

  /** The requests to a path (e.g. "/api/conversations/7/messages"). */
  to(path) {
    return this.requests.filter((request) => request.path === path);
  }

  /** The last request to a path. */
  last(path) {
    return this.to(path).at(-1);
  }
}

/** EventSource with the three readyStates; every instance is kept for inspection. */
export class FakeEventSource {
  static instances = [];
  static CLOSED = 2;

  readyState = 0;
  closed = false;
  #listeners = new Map();

  constructor(url) {
    this.url = url;
    FakeEventSource.instances.push(this);
  }

  /** Instances not closed by the code under test. */
  static get open() {
    return FakeEventSource.instances.filter((source) => !source.closed);
  }

  addEventListener(type, fn) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, []);
    this.#listeners.get(type).push(fn);
  }

  close() {
    this.readyState = 2;
    this.closed = true;
  }

  emitRaw(type, data, id = "") {
    this.readyState = 1;
    for (const fn of this.#listeners.get(type) ?? []) fn({ type, data, lastEventId: id });
  }

  emit(type, data, id = "") {
    this.emitRaw(type, JSON.stringify(data), id);
  }

  fail(readyState) {
    this.readyState = readyState;
    for (const fn of this.#listeners.get("error") ?? []) fn({ type: "error" });
  }

  get afterParam() {
    return new URL(this.url, "http://x").searchParams.get("after");
  }
}

/** An EventTarget that counts the listeners added to it and not yet removed. */
export class CountingTarget extends EventTarget {
  listeners = 0;

  addEventListener(type, fn, options) {
    this.listeners += 1;
    super.addEventListener(type, fn, options);
  }

  removeEventListener(type, fn, options) {
    this.listeners -= 1;
    super.removeEventListener(type, fn, options);
  }
}

/** A conversation entry as the server sends it. */
export function entry(seq, extra = {}) {
  return { seq, conversation_id: 7, kind: "text", sender: "agent", author: { name: "Ada" }, body: `m${seq}`, ...extra };
}

/** A messages page as GET /messages answers it. */
export function page(seqs, cursor = seqs.at(-1) ?? 0) {
  return { messages: seqs.map((seq) => entry(seq)), cursor, conversation: { id: 7, status: "active", last_seq: cursor } };
}

/** localStorage in memory; `broken` makes every call throw, like a blocked storage. */
export class MemoryStorage {
  items = new Map();

  constructor(initial = {}, { broken = false } = {}) {
    for (const [key, value] of Object.entries(initial)) this.items.set(key, value);
    this.broken = broken;
  }

  getItem(key) {
    if (this.broken) throw new DOMException("denied", "SecurityError");
    return this.items.has(key) ? this.items.get(key) : null;
  }

  setItem(key, value) {
    if (this.broken) throw new DOMException("full", "QuotaExceededError");
    this.items.set(key, String(value));
  }

  removeItem(key) {
    if (this.broken) throw new DOMException("denied", "SecurityError");
    this.items.delete(key);
  }
}

/**
 * Web Locks of one origin (navigator.locks): exclusive, granted in the order asked; a lock
 * is held until the callback's promise settles; `steal` takes it at once (the holder's
 * request then rejects with AbortError); a `signal` aborts a request still waiting.
 */
export class FakeLocks {
  #held = new Map(); // name → {reject}
  #queue = new Map(); // name → [{grant, reject}]

  request(name, options, callback) {
    return new Promise((resolve, reject) => {
      const waiter = { reject };
      waiter.grant = () => {
        this.#held.set(name, waiter);
        Promise.resolve(callback({ name })).then(
          (value) => {
            if (this.#held.get(name) === waiter) this.#release(name);
            resolve(value);
          },
          reject,
        );
      };
      if (options?.steal) {
        this.#held.get(name)?.reject(new DOMException("stolen", "AbortError"));
        this.#held.delete(name);
        waiter.grant();
        return;
      }
      options?.signal?.addEventListener("abort", () => {
        const queue = this.#queue.get(name) ?? [];
        if (!queue.includes(waiter)) return;
        queue.splice(queue.indexOf(waiter), 1);
        reject(new DOMException("aborted", "AbortError"));
      });
      if (!this.#held.has(name)) waiter.grant();
      else this.#queue.set(name, [...(this.#queue.get(name) ?? []), waiter]);
    });
  }

  #release(name) {
    this.#held.delete(name);
    const next = this.#queue.get(name)?.shift();
    next?.grant();
  }

  /** Names held now. */
  get held() {
    return [...this.#held.keys()];
  }
}

/** BroadcastChannel between fake tabs: a message reaches every other open channel of the name. */
export class FakeChannels {
  #open = new Set();

  /** The BroadcastChannel class of this group of tabs. */
  get BroadcastChannel() {
    const channels = this.#open;
    return class {
      onmessage = null;
      constructor(name) {
        this.name = name;
        channels.add(this);
      }
      postMessage(data) {
        const copy = structuredClone(data);
        for (const other of channels) {
          if (other === this || other.name !== this.name) continue;
          queueMicrotask(() => channels.has(other) && other.onmessage?.({ data: copy }));
        }
      }
      close() {
        channels.delete(this);
      }
    };
  }

  get open() {
    return this.#open.size;
  }
}
