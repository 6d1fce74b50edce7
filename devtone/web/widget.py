"""The embeddable widget: /widget.js (the loader a site owner pastes) and /embed (the page
it frames). Both are meant for other sites: /embed is the one page that may be framed, by
the sites in DEVTONE_EMBED_ORIGINS (see security_headers)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_babel import gettext, ngettext
from werkzeug.wrappers import Response

from devtone.domain import availability
from devtone.domain.team import current_team
from devtone.web.assets import send_built

bp = Blueprint("widget", __name__)

#: Site owners' pages load the loader on every view: cache it, but pick up a new release
#: within minutes (revalidated by ETag after that).
LOADER_MAX_AGE = 300

#: The colours a site may give (the loader checks the same): hex, a name, rgb()/hsl().
COLOR = re.compile(r"(#[0-9a-f]{3,8}|[a-z]{3,20}|(rgb|hsl)a?\([0-9.,%\s/]+\))", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Branding:
    """What a site gives the chat in its frame (the widget's options): its title, colour
    and greeting. Anything missing or malformed is left out, never refused: the chat
    still works, in devtone's own look."""

    title: str = ""
    color: str = ""
    greeting: str = ""


def _line(raw: str | None, limit: int) -> str:
    return " ".join(_CONTROL.sub(" ", raw or "").split())[:limit]


def branding_of(args) -> Branding:  # noqa: ANN001 (werkzeug's MultiDict)
    """The site's branding from /embed's query."""
    color = (args.get("color") or "").strip()
    return Branding(
        title=_line(args.get("title"), 80),
        color=color if COLOR.fullmatch(color) else "",
        greeting=_line(args.get("greeting"), 200),
    )


@bp.get("/widget.js")
def loader() -> Response:
    """The loader: no dependencies, one global (`devtone`), loaded async by host pages.
    `make assets` builds it (minified, precompressed) from static/js/widget.js."""
    response = send_built("widget.js", max_age=LOADER_MAX_AGE)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
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
    page = render_template(
        "embed.html", host_origin=host_origin, team=current_team(), brand=branding_of(request.args)
    )
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
    # For the option that hides the launcher out of office hours (docs/widget.md).
    found = availability.current_availability()
    # The launcher's few words, in the visitor's language (?locale=, the widget's option,
    # else the browser's): the loader carries no catalogue of its own.
    words = {
        "title": gettext("Chat with us"),
        "close": gettext("Close chat"),
        "unread_one": ngettext("%(count)s unread", "%(count)s unread", 1, count="{count}"),
        "unread_other": ngettext("%(count)s unread", "%(count)s unread", 2, count="{count}"),
    }
    response = jsonify(
        {"allowed": allowed, "words": words if allowed else {}, "in_hours": found.in_hours}
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Vary"] = "Origin, Accept-Language"
    # Asked on every page view of the host site: a shared cache may keep it per origin.
    response.cache_control.public = True
    response.cache_control.max_age = _seconds_until(found.changes_at, LOADER_MAX_AGE)
    return response


def _seconds_until(moment: datetime | None, longest: int) -> int:
    """Seconds from now to `moment`, at most `longest`: a cached answer ends when office
    hours open or close."""
    if moment is None:
        return longest
    return max(0, min(longest, int((moment - datetime.now(UTC)).total_seconds())))
