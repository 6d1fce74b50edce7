/**
 * What the loader keeps in the host page's localStorage, per devtone origin. Browsers deny
 * a third-party frame its storage, so the frame's own localStorage does not survive a
 * reload when the site and devtone are on different sites; the host page keeps the record
 * instead, as Chatwoot and Intercom do.
 *
 *   devtone.visitor:<origin>       the frame's visitor record (conversation id, visitor
 *                                  token, name: visitor-store.js), handed back on `ready`.
 *                                  panel.js cleans what it is given to keep, the frame
 *                                  what it is handed back (embed-bridge.js).
 *   devtone.conversation:<origin>  "open" or "closed": whether the visitor has a
 *                                  conversation going, as the frame last said. While it
 *                                  is open the loader frames the chat at once on every
 *                                  page (the badge and the beep need it); otherwise only
 *                                  when the visitor opens the launcher.
 *   devtone.reset:<origin>         reset() was called before the frame could hear it: it
 *                                  hears it on its next `ready`, on whichever page.
 */

export function hostStore(window, origin) {
  const VISITOR = `devtone.visitor:${origin}`;
  const CONVERSATION = `devtone.conversation:${origin}`;
  const RESET = `devtone.reset:${origin}`;

  // No storage on the host page either (private modes, a blocked localStorage): the chat
  // works, a reload starts afresh.
  function read(key) {
    try {
      return window.localStorage.getItem(key);
    } catch {
      return null;
    }
  }
  function write(key, value) {
    try {
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, value);
    } catch {
      // See read().
    }
  }

  const store = {
    /** The visitor record, or null. */
    load() {
      try {
        const record = JSON.parse(read(VISITOR));
        return record && typeof record === "object" ? record : null;
      } catch {
        return null;
      }
    },
    /** Keep the frame's visitor record; null forgets it. */
    save(visitor) {
      write(VISITOR, visitor && typeof visitor === "object" ? JSON.stringify(visitor) : null);
    },
    /** Should the chat be framed at once? What the frame last said; before it ever said
     *  (a record kept by an older loader), whether the record holds a conversation. */
    following() {
      const said = read(CONVERSATION);
      if (said) return said === "open";
      const record = store.load();
      return Boolean(record && record.token);
    },
    follow: (open) => write(CONVERSATION, open ? "open" : "closed"),
    /** Forget the visitor (reset()), at once: even if the frame never answers again. */
    forget() {
      store.save(null);
      store.follow(false);
    },
    /** A reset the frame could not hear yet: it hears it on its next `ready`, on
     *  whichever page of the site that comes. */
    resetLater: () => write(RESET, "1"),
    /** Was a reset left for the frame? Then it is taken (asked once). */
    takeReset() {
      const pending = read(RESET) === "1";
      if (pending) write(RESET, null);
      return pending;
    },
  };
  return store;
}
