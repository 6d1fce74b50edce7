"""Agents' presence (online, away, offline; idle is away) and what a visitor is told of it:
available, or away with an e-mail address required."""

from datetime import UTC, datetime, timedelta

import pytest

from devtone.domain import agent_presence, agents, availability, conversations, office_hours
from devtone.domain.agent_presence import IDLE_SECONDS, PRESENT_SECONDS, status_of
from devtone.errors import Invalid

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # a Tuesday
SECONDS = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("present_ago", "active_ago", "away", "expected"),
    [
        (None, None, False, "offline"),  # never opened a dashboard
        (0, 0, False, "online"),
        (PRESENT_SECONDS, IDLE_SECONDS, False, "online"),  # both at their limit
        (0, IDLE_SECONDS + 1, False, "away"),  # idle
        (0, None, False, "away"),  # open, never active
        (0, 0, True, "away"),  # by hand
        (PRESENT_SECONDS + 1, 0, False, "offline"),  # the dashboard went quiet
        (PRESENT_SECONDS + 1, 0, True, "offline"),
    ],
)
def test_an_agent_is_online_away_or_offline(present_ago, active_ago, away, expected):
    ago = lambda seconds: None if seconds is None else NOW - seconds * SECONDS  # noqa: E731
    assert status_of(ago(present_ago), ago(active_ago), away, NOW) == expected


@pytest.fixture
def at(monkeypatch):
    """Set the presence clock: `at(seconds)` is NOW + seconds."""

    def move(seconds=0):
        moment = NOW + seconds * SECONDS
        monkeypatch.setattr(agent_presence, "utcnow", lambda: moment)
        return moment

    move()
    return move


def statuses(app, now):
    with app.app_context():
        return {a["name"]: a["status"] for a in agent_presence.team_presence(now)["agents"]}


def test_an_open_dashboard_goes_online_idle_away_and_offline_as_it_beats(app, agent, at):
    with app.app_context():
        assert statuses(app, NOW) == {"Maria": "offline"}
        agent_presence.beat(agent.identity, active=True)
        assert statuses(app, NOW) == {"Maria": "online"}
        assert agent_presence.agents_online(NOW) == 1
        # Beats without activity: open but idle after IDLE_SECONDS.
        later = at(IDLE_SECONDS + 1)
        agent_presence.beat(agent.identity, active=False)
        assert statuses(app, later) == {"Maria": "away"}
        assert agent_presence.agents_online(later) == 0
        # Activity again: online.
        again = at(IDLE_SECONDS + 60)
        agent_presence.beat(agent.identity, active=True)
        assert statuses(app, again) == {"Maria": "online"}
        # The dashboard stops beating (closed): offline.
        assert statuses(app, again + (PRESENT_SECONDS + 1) * SECONDS) == {"Maria": "offline"}


def test_away_by_hand_stays_until_cleared_however_active(app, agent, at):
    with app.app_context():
        team = agent_presence.beat(agent.identity, active=True, away=True)
        assert team["agents"][0] == {
            "id": agent.id,
            "name": "Maria",
            "status": "away",
            "away": True,
        }
        agent_presence.beat(agent.identity, active=True)  # away left out: unchanged
        assert statuses(app, NOW) == {"Maria": "away"}
        agent_presence.beat(agent.identity, active=False, away=False)
        assert statuses(app, NOW) == {"Maria": "online"}


def test_the_team_lists_online_agents_first_and_leaves_deactivated_ones_out(
    app, make_agent, admin, at
):
    bruno, carla = make_agent("Bruno"), make_agent("Carla")
    with app.app_context():
        agent_presence.beat(carla.identity, active=True)
        agent_presence.beat(bruno.identity, active=True, away=True)
        agents.set_active(admin.id, True, admin.identity)
        team = agent_presence.team_presence(NOW)
        assert [(a["name"], a["status"]) for a in team["agents"]] == [
            ("Carla", "online"),
            ("Bruno", "away"),
            ("Ada Admin", "offline"),
        ]
        assert team["online"] == 1
        agents.set_active(carla.id, False, admin.identity)
        assert "Carla" not in statuses(app, NOW)


def test_a_beat_with_a_flag_that_is_not_a_boolean_is_refused(app, agent):
    with app.app_context(), pytest.raises(Invalid) as refused:
        agent_presence.beat(agent.identity, active="yes")
    assert refused.value.field == "active"


WEEKDAYS_9_TO_18 = {
    d: {"open": "09:00", "close": "18:00"} for d in ("mon", "tue", "wed", "thu", "fri")
}


@pytest.fixture
def hours_on(app, admin):
    """Office hours (weekdays 09:00–18:00 São Paulo) switched on by an admin."""
    with app.app_context():
        office_hours.save_schedule(
            {"enabled": True, "time_zone": "America/Sao_Paulo", "days": WEEKDAYS_9_TO_18},
            admin.identity,
        )


IN_HOURS = NOW  # 12:00 in São Paulo
OUT_OF_HOURS = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)  # 20:00 in São Paulo


def test_without_office_hours_the_team_is_available_even_with_nobody_online(app):
    with app.app_context():
        found = availability.current_availability(NOW)
    assert found.as_json() == {
        "available": True,
        "in_hours": True,
        "next_opening": None,
        "email_required": False,
    }


def test_in_hours_with_an_agent_online_the_team_is_available(app, agent, hours_on, at):
    with app.app_context():
        agent_presence.beat(agent.identity, active=True)
        assert availability.current_availability(IN_HOURS).available


def test_in_hours_with_nobody_online_the_team_is_away_and_needs_an_e_mail(app, agent, hours_on):
    with app.app_context():
        found = availability.current_availability(IN_HOURS)
    assert (found.available, found.in_hours, found.email_required) == (False, True, True)
    assert found.next_opening is None  # it is open: someone may come back any minute


def test_out_of_hours_the_team_is_away_until_the_next_opening(app, agent, hours_on, at):
    with app.app_context():
        agent_presence.beat(agent.identity, active=True)  # online, but the office is closed
        found = availability.current_availability(OUT_OF_HOURS)
    assert (found.available, found.in_hours) == (False, False)
    assert found.as_json()["next_opening"] == "2026-03-11T12:00:00.000Z"  # 09:00 local


def test_while_away_a_conversation_starts_only_with_an_e_mail_address(app, hours_on):
    with app.app_context():
        with pytest.raises(Invalid) as refused:
            conversations.start_conversation("Ada")
        assert (refused.value.field, refused.value.code) == ("email", "required")
        started, _ = conversations.start_conversation("Ada", "ada@example.com")
    assert started["visitor"]["email"] == "ada@example.com"


def test_while_available_the_e_mail_address_stays_optional(app, agent, hours_on, monkeypatch):
    monkeypatch.setattr(availability, "utcnow", lambda: IN_HOURS)
    monkeypatch.setattr(agent_presence, "utcnow", lambda: IN_HOURS)
    with app.app_context():
        agent_presence.beat(agent.identity, active=True)
        started, _ = conversations.start_conversation("Ada")
    assert started["visitor"]["email"] is None


def test_signing_out_shows_the_agent_offline_at_once(app, agent, at):
    with app.app_context():
        signed_in = agents.start_session(agent.identity)
        agent_presence.beat(signed_in, active=True)
        assert statuses(app, NOW) == {"Maria": "online"}
        agents.end_session(signed_in)
        assert statuses(app, NOW) == {"Maria": "offline"}
