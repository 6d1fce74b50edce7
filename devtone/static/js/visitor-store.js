/**
 * The visitor's conversation ({conversationId, token, name}) kept in this page's
 * localStorage under `devtone.visitor`, so a reload continues the same conversation.
 */

const STORAGE_KEY = "devtone.visitor";

/** localStorage wrapped: it throws in some private modes and when storage is disabled. */
export const visitorStore = {
  load() {
    try {
      const visitor = JSON.parse(localStorage.getItem(STORAGE_KEY));
      return visitor?.conversationId != null && visitor?.token ? visitor : null;
    } catch {
      return null;
    }
  },
  save(visitor) {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(visitor));
    } catch {
      // Without storage the chat still works; it just will not survive a reload.
    }
  },
  forget() {
    try {
      localStorage.removeItem(STORAGE_KEY);
    } catch {
      // Nothing stored, nothing to forget.
    }
  },
};
