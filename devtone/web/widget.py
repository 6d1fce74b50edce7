"""The embeddable widget: /widget.js (the loader a site owner pastes) and /embed (the page
it frames). Both are meant for other sites: /embed is the one page that may be framed, by
the sites in DEVTONE_EMBED_ORIGINS (see security_headers)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request, send_from_directory
from werkzeug.wrappers import Response

bp = Blueprint("widget", __name__)

#: Site owners' pages load the loader on every view: cache it, but pick up a new release
#: within minutes (revalidated by ETag after that).
LOADER_MAX_AGE = 300


@bp.get("/widget.js")
def loader() -> Response:
    """The loader: no dependencies, one global (`devtone`), loaded async by host pages."""
    response = send_from_directory(
        current_app.static_folder, "js/widget.js", max_age=LOADER_MAX_AGE, conditional=True
    )
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.cache_control.public = True
    # Any site may load it (a module import or a preload would ask for CORS).
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/embed")
def embed() -> tuple[str, int, dict[str, str]]:
    """The chat inside the widget's iframe: the same page code as /chat, one frame smaller.

    `?origin=` names the host page; only an allowed one is given to the page, which then
    talks to it (postMessage) and to no one else.
    """
    allowed = current_app.config["EMBED_ORIGINS"]
    origin = request.args.get("origin", "")
    host_origin = origin if origin in allowed else ""
    page = render_template("embed.html", host_origin=host_origin)
    headers = {
        # Varies with ?origin= only, which is in the URL: shared caches may keep it. Who
        # may frame it is security_headers' call (frame-ancestors).
        "Cache-Control": "public, max-age=300",
    }
    return page, 200, headers


@bp.get("/embed/allowed")
def embed_allowed() -> Response:
    """Whether the asking page's site may frame /embed: the loader asks before it shows a
    launcher, so a site left out of DEVTONE_EMBED_ORIGINS shows nothing (and says why in
    its console) instead of a launcher that opens a refused frame.

    The browser writes the Origin header of the loader's CORS request itself, so a page
    cannot claim another site's; the answer is no secret (the frame-ancestors header of
    /embed says the same to anyone).
    """
    origin = request.headers.get("Origin", "")
    allowed = origin in current_app.config["EMBED_ORIGINS"]
    response = jsonify({"allowed": allowed})
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Vary"] = "Origin"
    # Asked on every page view of the host site: a shared cache may keep it per origin.
    response.cache_control.public = True
    response.cache_control.max_age = LOADER_MAX_AGE
    return response
