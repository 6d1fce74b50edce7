"""What a visitor is told before they write: someone will reply soon, or the team is away
(and when it opens next), and whether their e-mail address is then required.

Office hours switched on make both rules count: out of hours, or in hours with no agent
online, the team is away and a new conversation needs an e-mail address (the answer
must reach the visitor after they left). Without office hours devtone is always
available, as it was before them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from devtone.domain import agent_presence, office_hours
from devtone.domain.models import isoformat, utcnow
from devtone.errors import Invalid


@dataclass(frozen=True)
class Availability:
    """The team as a visitor finds it at one moment."""

    available: bool  # in hours with an agent online (or no office hours at all)
    in_hours: bool
    next_opening: datetime | None  # out of hours: when it opens next (None: unknown)
    #: When `in_hours` changes next (an opening or a closing; None: not foreseen).
    changes_at: datetime | None

    @property
    def email_required(self) -> bool:
        """Whether a new conversation needs an e-mail address now."""
        return not self.available

    def as_json(self) -> dict[str, Any]:
        """The body of GET /api/availability (times in UTC; the page shows them in the
        visitor's own time zone and language)."""
        return {
            "available": self.available,
            "in_hours": self.in_hours,
            "next_opening": isoformat(self.next_opening),
            "email_required": self.email_required,
        }


def current_availability(now: datetime | None = None) -> Availability:
    """Whether the team is there for a visitor at `now`."""
    now = now or utcnow()
    schedule = office_hours.current_schedule()
    if not schedule.enabled:
        return Availability(True, True, None, None)
    in_hours = office_hours.is_open(schedule, now)
    opening = None if in_hours else office_hours.next_opening(schedule, now)
    changes_at = office_hours.next_closing(schedule, now) if in_hours else opening
    available = in_hours and agent_presence.agents_online(now) > 0
    return Availability(available, in_hours, opening, changes_at)


def require_contact(email: str | None, now: datetime | None = None) -> None:
    """Invalid (field "email") when the team is away and `email` is missing: the visitor
    must be reachable after they left."""
    if email:
        return
    if current_availability(now).email_required:
        raise Invalid(
            "We are away: leave your e-mail address and we will reply there.",
            field="email",
            code="required",
        )
