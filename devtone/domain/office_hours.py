"""The deployment's office hours: which days and times it answers, in which time zone,
and the holidays it does not.

The rules (`is_open`, `next_opening`) are pure functions of a `Schedule` and a moment,
so they are tested without a database; `current_schedule` and `save_schedule` read and
write the one stored row. One opening per weekday, closing the same day ("24:00" is
midnight); a schedule that is not enabled is always open (devtone as it was before
office hours).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from devtone.domain.agents import AgentIdentity
from devtone.domain.models import OfficeHours, utcnow
from devtone.errors import Forbidden, Invalid
from devtone.extensions import db

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOLIDAYS_MAX = 366
#: How far ahead the next opening is looked for: a year of holidays and a week more.
LOOK_AHEAD_DAYS = HOLIDAYS_MAX + 7
_ROW_ID = 1


@dataclass(frozen=True)
class Hours:
    """One day's opening, in minutes after the local midnight: open < close ≤ 1440."""

    open: int
    close: int

    def as_json(self) -> dict[str, str]:
        """{"open": "HH:MM", "close": "HH:MM"}."""
        return {"open": _clock(self.open), "close": _clock(self.close)}


@dataclass(frozen=True)
class Schedule:
    """Office hours as an admin set them."""

    enabled: bool = False
    time_zone: str = "UTC"
    days: dict[str, Hours] = field(default_factory=dict)  # weekday → hours; missing: closed
    holidays: frozenset[date] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        """The schedule's time zone."""
        return ZoneInfo(self.time_zone)

    def as_json(self) -> dict[str, Any]:
        """The schedule as the dashboard's form and the API show it."""
        return {
            "enabled": self.enabled,
            "time_zone": self.time_zone,
            "days": {day: h.as_json() if (h := self.days.get(day)) else None for day in WEEKDAYS},
            "holidays": sorted(day.isoformat() for day in self.holidays),
        }


def is_open(schedule: Schedule, moment: datetime) -> bool:
    """Whether `moment` (aware) falls within the office hours."""
    if not schedule.enabled:
        return True
    local = moment.astimezone(schedule.zone)
    hours = _hours_on(schedule, local.date())
    minute = local.hour * 60 + local.minute
    return hours is not None and hours.open <= minute < hours.close


def next_opening(schedule: Schedule, moment: datetime) -> datetime | None:
    """The first opening strictly after `moment`, in UTC; None if it never opens again
    (no day has hours, or every one within LOOK_AHEAD_DAYS is a holiday)."""
    if not schedule.enabled:
        return None
    zone = schedule.zone
    today = moment.astimezone(zone).date()
    for offset in range(LOOK_AHEAD_DAYS):
        day = today + timedelta(days=offset)
        hours = _hours_on(schedule, day)
        if hours is None:
            continue
        # A local time the clocks skip (a DST jump) maps to the moment they jump to.
        opening = _local_moment(day, hours.open, zone)
        if opening > moment:
            return opening
    return None


def next_closing(schedule: Schedule, moment: datetime) -> datetime | None:
    """When the opening `moment` falls in ends, in UTC; None when it is not open then
    (or the schedule is not enabled)."""
    if not schedule.enabled or not is_open(schedule, moment):
        return None
    day = moment.astimezone(schedule.zone).date()
    hours = _hours_on(schedule, day)
    return _local_moment(day, hours.close, schedule.zone) if hours else None


def _hours_on(schedule: Schedule, day: date) -> Hours | None:
    if day in schedule.holidays:
        return None
    return schedule.days.get(WEEKDAYS[day.weekday()])


def _local_moment(day: date, minute: int, zone: ZoneInfo) -> datetime:
    # Wall-clock minutes after midnight, then to UTC: 24:00 is the next day's midnight.
    wall = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    return wall.replace(tzinfo=zone).astimezone(UTC)


# ── reading what an admin gives ─────────────────────────────────────────────────────────


def clean_schedule(raw: dict[str, Any]) -> Schedule:
    """A schedule from its JSON shape (as `Schedule.as_json`); Invalid naming the field."""
    time_zone = raw.get("time_zone")
    if not isinstance(time_zone, str) or not _known_zone(time_zone.strip()):
        raise Invalid("Choose a time zone such as America/Sao_Paulo.", field="time_zone")
    days_raw = raw.get("days") or {}
    if not isinstance(days_raw, dict) or set(days_raw) - set(WEEKDAYS):
        raise Invalid("days must map mon … sun to hours.", field="days")
    days = {}
    for day in WEEKDAYS:
        hours = _clean_hours(days_raw.get(day), day)
        if hours is not None:
            days[day] = hours
    return Schedule(
        enabled=raw.get("enabled") is True,
        time_zone=time_zone.strip(),
        days=days,
        holidays=_clean_holidays(raw.get("holidays") or []),
    )


@cache
def time_zones() -> tuple[str, ...]:
    """Every IANA time zone name this system knows, sorted (read from disk once)."""
    return tuple(sorted(available_timezones()))


def _known_zone(name: str) -> bool:
    if name not in _zone_set():
        return False  # never a path ZoneInfo would try to open
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _clean_hours(raw: object, day: str) -> Hours | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise Invalid("Give the opening and closing time.", field=day)
    opens, closes = (_minute(raw.get(name), day) for name in ("open", "close"))
    if opens is None and closes is None:
        return None
    if opens is None or closes is None or not opens < closes:
        raise Invalid("The closing time must come after the opening time.", field=day)
    return Hours(opens, closes)


@cache
def _zone_set() -> frozenset[str]:
    return frozenset(time_zones())


def _minute(raw: object, day: str) -> int | None:
    if raw is None or raw == "":
        return None
    parts = raw.split(":") if isinstance(raw, str) else []
    if len(parts) != 2 or not all(part.isascii() and part.isdigit() for part in parts):
        raise Invalid("Write times as HH:MM.", field=day)
    hour, minute = int(parts[0]), int(parts[1])
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise Invalid("Write times as HH:MM.", field=day)
    return hour * 60 + minute


def _clean_holidays(raw: object) -> frozenset[date]:
    if not isinstance(raw, list) or len(raw) > HOLIDAYS_MAX:
        raise Invalid("Give at most {count} holidays.", field="holidays", count=HOLIDAYS_MAX)
    try:
        return frozenset(date.fromisoformat(day) for day in raw if isinstance(day, str))
    except ValueError:
        raise Invalid("Write holidays as YYYY-MM-DD.", field="holidays") from None


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# ── the stored schedule ─────────────────────────────────────────────────────────────────


def current_schedule() -> Schedule:
    """The stored office hours (never set: not enabled, always open)."""
    try:
        row = db.session.get(OfficeHours, _ROW_ID)
        return _schedule_of(row) if row is not None else Schedule()
    finally:
        db.session.close()


def save_schedule(raw: dict[str, Any], by: AgentIdentity) -> Schedule:
    """Replace the office hours (administrators only); return what is stored."""
    if not by.is_admin:
        raise Forbidden("Only an administrator can set office hours.", code="admins_only")
    schedule = clean_schedule(raw)
    stored = schedule.as_json()
    try:
        row = db.session.get(OfficeHours, _ROW_ID) or OfficeHours(id=_ROW_ID)
        row.enabled = schedule.enabled
        row.time_zone = schedule.time_zone
        row.days = json.dumps(stored["days"])
        row.holidays = json.dumps(stored["holidays"])
        row.updated_at = utcnow()
        db.session.add(row)
        db.session.commit()
    finally:
        db.session.close()
    return schedule


def _schedule_of(row: OfficeHours) -> Schedule:
    return clean_schedule(
        {
            "enabled": row.enabled,
            "time_zone": row.time_zone,
            "days": json.loads(row.days),
            "holidays": json.loads(row.holidays),
        }
    )
