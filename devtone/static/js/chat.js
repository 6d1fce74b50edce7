/**
 * The chat page's entry (/chat, and /embed inside the widget): builds the page
 * (chat-page.js) and wires what it talks to. Embedded, the host page through
 * embed-bridge.js (identify/reset, unseen count, new agent messages, the visitor kept in
 * the host's storage too); standalone, the links that open it (#reopen=… from an e-mail,
 * #reset from the site: sign-out-link.js).
 */
import { ApiClient } from "./api.js";
import { applyBrand } from "./brand.js";
import { ChatPage } from "./chat-page.js";
import { redeemEmailLink } from "./email-link.js";
import { connectEmbed } from "./embed-bridge.js";
import { signOutLinkOf } from "./sign-out-link.js";
import { visitorStore } from "./visitor-store.js";

const root = document.getElementById("chat");
if (root) {
  const page = new ChatPage(root);
  // Embedded: the bridge is on only for a host origin the server allowed (else null).
  const hostOrigin = root.dataset.hostOrigin || "";
  const embed =
    root.dataset.embed === "true" ? connectEmbed({ page, hostOrigin, ownStore: visitorStore }) : null;
  if (root.dataset.embed === "true") applyBrand(root, root.dataset.brandColor);
  if (embed) {
    page.onlivemessage = (message) => embed.message(message);
    page.onunseen = (count) => embed.unseen(count);
    page.onstatus = (status) => embed.status(status);
    page.store = embed.store;
    embed.ready().then(() => page.start()); // after the host handed back the visitor
  } else {
    // A link from an e-mail (#reopen=…) opens its conversation here, in any browser; a
    // site's sign-out link (#reset) forgets the visitor. No link says who they are.
    const api = new ApiClient({ base: root.dataset.apiBase || "/api" });
    if (signOutLinkOf(window.location, window.history)) visitorStore.forget();
    redeemEmailLink({ api, store: visitorStore }).then(() => page.start());
  }
}
