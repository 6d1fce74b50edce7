"""Office hours: open or not at a moment, and the next opening, across days, time zones
(São Paulo's included) and holidays."""

from datetime import UTC, date, datetime

import pytest

from devtone.domain import office_hours
from devtone.domain.office_hours import Hours, Schedule, clean_schedule, is_open, next_opening
from devtone.errors import Forbidden, Invalid

NINE_TO_SIX = Hours(9 * 60, 18 * 60)
WEEKDAYS_9_TO_18 = {day: NINE_TO_SIX for day in ("mon", "tue", "wed", "thu", "fri")}


def schedule(time_zone="UTC", days=None, holidays=()):
    return Schedule(
        enabled=True,
        time_zone=time_zone,
        days=WEEKDAYS_9_TO_18 if days is None else days,
        holidays=frozenset(date.fromisoformat(day) for day in holidays),
    )


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


# 2026-03-10 is a Tuesday; 2026-03-13 a Friday.
@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2026, 3, 10, 8, 59), False),  # a minute before opening
        (utc(2026, 3, 10, 9, 0), True),  # opening minute
        (utc(2026, 3, 10, 17, 59), True),
        (utc(2026, 3, 10, 18, 0), False),  # closing minute is closed
        (utc(2026, 3, 14, 12, 0), False),  # Saturday
    ],
)
def test_open_from_the_opening_minute_until_just_before_closing(moment, expected):
    assert is_open(schedule(), moment) is expected


def test_a_schedule_that_is_not_enabled_is_always_open_and_never_opens_next():
    off = Schedule(enabled=False, days={})
    assert is_open(off, utc(2026, 3, 14, 3, 0))
    assert next_opening(off, utc(2026, 3, 14, 3, 0)) is None


def test_before_opening_the_next_opening_is_the_same_day():
    assert next_opening(schedule(), utc(2026, 3, 10, 7, 30)) == utc(2026, 3, 10, 9, 0)


def test_after_closing_the_next_opening_is_the_next_day():
    assert next_opening(schedule(), utc(2026, 3, 10, 18, 0)) == utc(2026, 3, 11, 9, 0)


def test_on_friday_evening_the_next_opening_is_monday_morning():
    assert next_opening(schedule(), utc(2026, 3, 13, 19, 0)) == utc(2026, 3, 16, 9, 0)


def test_while_open_the_next_opening_is_the_next_day_s():
    assert next_opening(schedule(), utc(2026, 3, 10, 12, 0)) == utc(2026, 3, 11, 9, 0)


def test_holidays_are_skipped_even_a_run_of_them():
    hours = schedule(holidays=["2026-03-16", "2026-03-17"])
    assert not is_open(hours, utc(2026, 3, 16, 12, 0))
    assert next_opening(hours, utc(2026, 3, 13, 19, 0)) == utc(2026, 3, 18, 9, 0)


def test_hours_are_read_in_the_schedule_s_time_zone_sao_paulo():
    # São Paulo is UTC-3 (no daylight saving since 2019): 09:00 there is 12:00 UTC.
    hours = schedule("America/Sao_Paulo")
    assert not is_open(hours, utc(2026, 3, 10, 11, 59))
    assert is_open(hours, utc(2026, 3, 10, 12, 0))
    assert is_open(hours, utc(2026, 3, 10, 20, 59))
    assert not is_open(hours, utc(2026, 3, 10, 21, 0))
    # Friday 22:00 local is already Saturday 01:00 UTC: next is Monday 09:00 local.
    assert next_opening(hours, utc(2026, 3, 14, 1, 0)) == utc(2026, 3, 16, 12, 0)


def test_a_holiday_is_the_local_day_not_the_utc_one():
    hours = schedule("America/Sao_Paulo", holidays=["2026-03-11"])
    # 02:00 UTC on the 11th is still the 10th in São Paulo (after closing): skip the 11th.
    assert next_opening(hours, utc(2026, 3, 11, 2, 0)) == utc(2026, 3, 12, 12, 0)


def test_an_opening_the_clocks_skip_is_when_they_jump():
    # São Paulo's last daylight-saving start: 2018-11-04 00:00 local did not exist.
    hours = schedule("America/Sao_Paulo", days={"sun": Hours(0, 6 * 60)})
    opening = next_opening(hours, utc(2018, 11, 3, 12, 0))
    assert opening == utc(2018, 11, 4, 3, 0)  # the clocks jumped 00:00 → 01:00 (UTC-2)


def test_daylight_saving_moves_the_utc_opening_but_not_the_local_one():
    hours = schedule("Europe/Lisbon")
    assert next_opening(hours, utc(2026, 3, 27, 19, 0)) == utc(2026, 3, 30, 8, 0)  # summer
    assert next_opening(hours, utc(2026, 3, 20, 19, 0)) == utc(2026, 3, 23, 9, 0)  # winter


def test_a_day_open_until_midnight_closes_at_the_next_local_midnight():
    hours = schedule(days={"tue": Hours(20 * 60, 24 * 60)})
    assert is_open(hours, utc(2026, 3, 10, 23, 59))
    assert not is_open(hours, utc(2026, 3, 11, 0, 0))
    assert office_hours.next_closing(hours, utc(2026, 3, 10, 21, 0)) == utc(2026, 3, 11, 0, 0)


def test_a_schedule_without_any_opening_never_opens():
    assert next_opening(schedule(days={}), utc(2026, 3, 10, 12, 0)) is None


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"time_zone": "UTC", "days": {"mon": {"open": "18:00", "close": "09:00"}}}, "mon"),
        ({"time_zone": "UTC", "days": {"tue": {"open": "9h", "close": "18:00"}}}, "tue"),
        ({"time_zone": "UTC", "days": {"wed": {"open": "09:00", "close": "24:30"}}}, "wed"),
        ({"time_zone": "UTC", "days": {"someday": None}}, "days"),
        ({"time_zone": "UTC", "holidays": ["25/12/2026"]}, "holidays"),
    ],
)
def test_a_malformed_schedule_is_refused_naming_its_field(raw, field):
    with pytest.raises(Invalid) as refused:
        clean_schedule(raw)
    assert refused.value.field == field


def test_a_schedule_reads_back_as_it_was_given():
    given = {
        "enabled": True,
        "time_zone": "America/Sao_Paulo",
        "days": {"mon": {"open": "09:00", "close": "24:00"}, "sat": None},
        "holidays": ["2026-12-25"],
    }
    shown = clean_schedule(given).as_json()
    assert shown["days"]["mon"] == {"open": "09:00", "close": "24:00"}
    assert shown["days"]["sat"] is None and shown["days"]["sun"] is None
    assert shown["holidays"] == ["2026-12-25"]


def test_only_an_administrator_saves_office_hours_and_it_is_stored(app, agent, admin):
    with app.app_context():
        assert office_hours.current_schedule() == Schedule()
        with pytest.raises(Forbidden):
            office_hours.save_schedule({"time_zone": "UTC"}, agent.identity)
        saved = office_hours.save_schedule(
            {
                "enabled": True,
                "time_zone": "America/Sao_Paulo",
                "days": {"mon": {"open": "09:00", "close": "18:00"}},
            },
            admin.identity,
        )
        assert office_hours.current_schedule() == saved
        assert saved.days == {"mon": NINE_TO_SIX}
