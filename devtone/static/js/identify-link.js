/**
 * The standalone chat page's identify() and reset(), for a site that links to /chat
 * instead of embedding the widget (docs/identity.md):
 *
 *   /chat#identify?id=<id>&hash=<hex>&name=<name>&email=<email>   a signed-in visitor
 *   /chat#reset                                                   forget this browser's visitor
 *
 * Only the fragment is read: a browser never sends it with a request, so the id and its
 * hash reach no access log. It is taken out of the address bar and the history at once.
 */

const IDENTIFY = "#identify?";

/** What `location.hash` asks: `{identify: {name, email, id, hash}}`, `{reset: true}`, or null. */
export function identifyLinkOf(location, history = null) {
  const hash = location?.hash ?? "";
  let told = null;
  if (hash === "#reset") told = { reset: true };
  else if (hash.startsWith(IDENTIFY)) {
    const fields = new URLSearchParams(hash.slice(IDENTIFY.length));
    const field = (name) => fields.get(name) ?? "";
    told = { identify: { name: field("name"), email: field("email"), id: field("id"), hash: field("hash") } };
  }
  if (told && history) history.replaceState(history.state, "", `${location.pathname}${location.search}`);
  return told;
}
