/**
 * The standalone chat page's sign-out link, for a site that links to /chat instead of
 * embedding the widget (docs/identity.md):
 *
 *   /chat#reset    forget this browser's visitor (the site's user signed out)
 *
 * A signed identity is never taken from a link: anyone signed in to the site can copy their
 * own id and hash, and a link carrying them would file the next conversations of whoever
 * opens it under the sender's id, for the sender to read. Only a host page's own script
 * (the widget's identify()) says who its visitor is. An `#identify?…` fragment is taken out
 * of the address bar and ignored.
 */

const IDENTIFY = "#identify?";

/** Whether `location.hash` asks to forget the visitor; either fragment leaves the history. */
export function signOutLinkOf(location, history = null) {
  const hash = location?.hash ?? "";
  const reset = hash === "#reset";
  if ((reset || hash.startsWith(IDENTIFY)) && history) {
    history.replaceState(history.state, "", `${location.pathname}${location.search}`);
  }
  return reset;
}
