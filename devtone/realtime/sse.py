"""The Server-Sent Events wire format (WHATWG HTML §9.2), as one pure function."""

from __future__ import annotations

import json
import re
from typing import Any

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def encode(
    event: str | None = None,
    data: Any = None,
    id: int | str | None = None,
    retry: int | None = None,
) -> str:
    """One SSE frame: non-str `data` is sent as JSON, and every line break is honoured.

    Unlike a `splitlines()`/`if id:` encoder, an empty string still sends `data:` (the
    browser dispatches an empty message) and `id=0` still sends `id: 0`.
    """
    lines: list[str] = []
    if retry is not None:
        if not isinstance(retry, int) or retry < 0:
            raise ValueError("retry must be a non-negative whole number of ms")
        lines.append(f"retry: {retry}")
    if id is not None:
        id = str(id)
        if _LINE_BREAK.search(id) or "\0" in id:
            raise ValueError("an SSE id cannot hold a line break or NUL")
        lines.append(f"id: {id}")
    if event is not None:
        if not event or _LINE_BREAK.search(event):
            raise ValueError("an SSE event name must be one non-empty line")
        lines.append(f"event: {event}")
    if data is not None:
        text = data if isinstance(data, str) else dumps(data)
        lines.extend(f"data: {line}" for line in _LINE_BREAK.split(text))
    if not lines:
        raise ValueError("an SSE frame needs at least one field")
    return "\n".join(lines) + "\n\n"


def dumps(data: Any) -> str:
    """Compact JSON; never contains a raw line break, so it is one `data:` line."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
