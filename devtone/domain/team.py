"""What a visitor is told about the team before anyone answers: its name, and how soon it
typically replies.

Every chat page and widget frame shows it, so the reply time is measured at most once per
CACHE_SECONDS per process (a median over a week of conversations moves slowly), never per
page view.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from devtone.domain import snapshots

log = logging.getLogger(__name__)

TEAM_KEY = "devtone.team"
#: How long one measured reply time serves every page (seconds).
CACHE_SECONDS = 300.0


@dataclass(frozen=True)
class Team:
    """The team as a visitor meets it."""

    name: str | None  # None: unnamed, the page says "Support"
    typical_reply_seconds: float | None


class TeamCard:
    """The process's Team: the configured name and a reply time measured now and then."""

    def __init__(
        self,
        name: str | None,
        measure: Callable[[], float | None] = snapshots.typical_first_reply_seconds,
        clock: Callable[[], float] = time.monotonic,
        max_age: float = CACHE_SECONDS,
    ):
        self._name = name
        self._measure = measure
        self._clock = clock
        self._max_age = max_age
        self._measured: tuple[float, float | None] | None = None

    def current(self) -> Team:
        """The team, its reply time at most `max_age` seconds old (in an app context)."""
        now = self._clock()
        if self._measured is None or now - self._measured[0] >= self._max_age:
            # Two greenlets may both measure after it expired: a second read costs less
            # than a lock every page view would wait on.
            self._measured = (now, self._measure_or_keep())
        return Team(self._name, self._measured[1])

    def _measure_or_keep(self) -> float | None:
        # The reply time is a courtesy: a database that does not answer must not cost the
        # page, nor be asked again by every page view until the next turn.
        try:
            return self._measure()
        except SQLAlchemyError as error:
            log.warning("typical reply time not measured: %s", error.__class__.__name__)
            return self._measured[1] if self._measured else None


def init_app(app: Flask) -> None:
    """Give `app` its process's team card."""
    app.extensions[TEAM_KEY] = TeamCard(app.config["TEAM_NAME"])


def current_team() -> Team:
    """The team of the running app, as visitors see it now."""
    return current_app.extensions[TEAM_KEY].current()
