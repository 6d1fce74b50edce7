"""The front-end build as pages load it: `asset_url("chat.js")` in a template gives the
fingerprinted bundle's URL (/static/build/chat-<hash>.js) from the manifest that
`make assets` writes, and those files are cached for a year.

The manifest is read once, when the app is made, and every name a template asks for is
checked then: a build that lacks one stops the start with a message saying `make assets`,
instead of a page that 404s on its script.
"""

from __future__ import annotations

import functools
import json
import mimetypes
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, request, send_from_directory, url_for
from jinja2 import Environment, FileSystemLoader, nodes
from werkzeug.wrappers import Response

bp = Blueprint("assets", __name__)

#: Where `make assets` writes, under the static folder.
BUILD = "build"
#: A fingerprinted file never changes under its name: a browser or a CDN may keep it a
#: year without asking again (and `immutable` says not to revalidate it on a reload).
FINGERPRINTED_MAX_AGE = 31_536_000


class MissingAsset(RuntimeError):
    """The committed build lacks a file a template loads: rebuild it with `make assets`."""


def build_folder(app: Flask) -> Path:
    """The folder `make assets` writes into."""
    return Path(app.static_folder) / BUILD


def init_app(app: Flask) -> None:
    """Read the build's manifest, check it serves every template, add `asset_url`."""
    manifest_path = build_folder(app) / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise MissingAsset(f"cannot read {manifest_path} ({error}): run `make assets`") from error
    for template, name in _asked_for(str(Path(app.root_path, app.template_folder))):
        if name not in manifest:
            raise MissingAsset(
                f"{template} loads asset_url({name!r}), which {manifest_path} does not list:"
                " run `make assets`"
            )
    app.extensions["devtone.assets"] = manifest

    def asset_url(name: str) -> str:
        return url_for("assets.bundle", name=manifest[name])

    app.jinja_env.globals["asset_url"] = asset_url
    app.register_blueprint(bp)


@functools.cache
def _asked_for(templates: str) -> tuple[tuple[str, str], ...]:
    """(template, name) of every `asset_url("name")` in the templates under `templates`."""
    # Parsed once per process, not once per app (tests make hundreds of apps).
    loader = FileSystemLoader(templates)
    environment = Environment(loader=loader, autoescape=True, extensions=["jinja2.ext.i18n"])
    found = []
    for template in loader.list_templates():
        tree = environment.parse(loader.get_source(environment, template)[0])
        for call in tree.find_all(nodes.Call):
            named = isinstance(call.node, nodes.Name) and call.node.name == "asset_url"
            if named and call.args and isinstance(call.args[0], nodes.Const):
                found.append((template, call.args[0].value))
    return tuple(found)


@bp.get(f"/static/{BUILD}/<name>")
def bundle(name: str) -> Response:
    """A fingerprinted bundle of the manifest, cached for a year; anything else 404s."""
    if name not in current_app.extensions["devtone.assets"].values():
        abort(404)
    response = send_built(name, max_age=FINGERPRINTED_MAX_AGE, immutable=True)
    # The widget's panel is imported as a module by pages of other sites, which the
    # browser does only with CORS; the bundles are public anyway.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


#: The site's icon, asked for by every browser at /favicon.ico; the dashboard draws its
#: badge over it (static/js/favicon.js). A day: a new icon needs no new name.
FAVICON_MAX_AGE = 86_400


@bp.get("/favicon.ico")
def favicon() -> Response:
    """devtone's icon (drawn by tools/favicon.py)."""
    response = send_from_directory(
        current_app.static_folder,
        "favicon.ico",
        mimetype="image/vnd.microsoft.icon",
        max_age=FAVICON_MAX_AGE,
        conditional=True,
    )
    response.cache_control.public = True
    return response


#: The compressed copies `make assets` writes next to each file, in the order devtone
#: prefers them when a browser takes both.
PRECOMPRESSED = {"br": ".br", "gzip": ".gz"}


def send_built(name: str, *, max_age: int, immutable: bool = False) -> Response:
    """A file of the build, public for `max_age` seconds (revalidated by ETag after): its
    brotli or gzip copy when the browser takes one, made once by `make assets`."""
    encoding = request.accept_encodings.best_match(tuple(PRECOMPRESSED))
    served = name + PRECOMPRESSED[encoding] if encoding else name
    response = send_from_directory(
        build_folder(current_app),
        served,
        mimetype=mimetypes.guess_type(name)[0],
        download_name=name,
        max_age=max_age,
        conditional=True,
    )
    if encoding:
        response.headers["Content-Encoding"] = encoding
    response.vary.add("Accept-Encoding")
    response.cache_control.public = True
    response.cache_control.immutable = immutable
    return response
