/*
 * devtone widget loader, served as /widget.js: the classic script other sites paste
 * (docs/widget.md).
 *
 *   <script src="https://support.example.com/widget.js" data-title="Talk to us" async></script>
 *
 * This is the entry `make assets` bundles into one minified script (build/widget.js); the
 * loader is in widget/. The chat's panel (widget/panel.js) is a module of its own in the
 * build, WIDGET_PANEL its fingerprinted name, fetched from devtone only when it is wanted.
 */
import { startLoader } from "./widget/loader.js";

startLoader(window, document, (origin) => import(`${origin}/static/build/${WIDGET_PANEL}`));
