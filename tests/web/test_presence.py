"""Presence and office hours over HTTP: the dashboard's beat, what a visitor's page reads
before they write, and the administrators' office hours form."""

import datetime as dt
import re

import pytest

from devtone.domain import agent_presence, office_hours

ALWAYS = {d: {"open": "00:00", "close": "24:00"} for d in office_hours.WEEKDAYS}
NEVER: dict = {}


@pytest.fixture
def hours(app, admin):
    """Switch office hours on with these days (UTC)."""

    def switch_on(days):
        with app.app_context():
            office_hours.save_schedule(
                {"enabled": True, "time_zone": "UTC", "days": days}, admin.identity
            )

    return switch_on


def test_a_beat_answers_with_the_team_and_the_away_button_sets_and_clears_away(
    agent, admin, sign_in
):
    maria = sign_in(agent)
    team = maria.post("/api/presence", json={"active": True}).get_json()
    assert team["online"] == 1
    assert [(a["name"], a["status"]) for a in team["agents"]] == [
        ("Maria", "online"),
        ("Ada Admin", "offline"),
    ]
    away = maria.post("/api/presence", json={"active": True, "away": True}).get_json()
    assert (away["online"], away["agents"][0]["status"], away["agents"][0]["away"]) == (
        0,
        "away",
        True,
    )
    back = maria.post("/api/presence", json={"active": False, "away": False}).get_json()
    assert back["agents"][0]["status"] == "online"


@pytest.mark.parametrize("body", [{}, {"active": "yes"}, {"active": True, "away": 1}])
def test_a_malformed_beat_is_422(agent, sign_in, body):
    answer = sign_in(agent).post("/api/presence", json=body)
    assert answer.status_code == 422


def test_without_office_hours_a_visitor_finds_the_team_available(client):
    answer = client.get("/api/availability")
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.get_json() == {
        "available": True,
        "in_hours": True,
        "next_opening": None,
        "email_required": False,
    }
    assert client.post("/api/conversations", json={"name": "Ada"}).status_code == 201


def test_in_hours_with_nobody_online_a_visitor_must_leave_an_e_mail_address(client, hours):
    hours(ALWAYS)
    found = client.get("/api/availability").get_json()
    assert (found["available"], found["in_hours"], found["email_required"]) == (False, True, True)
    refused = client.post("/api/conversations", json={"name": "Ada"})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["field"] == "email"
    assert refused.get_json()["error"]["code"] == "required"
    started = client.post("/api/conversations", json={"name": "Ada", "email": "ada@example.com"})
    assert started.status_code == 201


def test_in_hours_with_an_agent_online_the_e_mail_address_is_optional(app, client, hours, agent):
    hours(ALWAYS)
    with app.app_context():
        agent_presence.beat(agent.identity, active=True)
    assert client.get("/api/availability").get_json()["available"] is True
    assert client.post("/api/conversations", json={"name": "Ada"}).status_code == 201


def test_out_of_hours_a_visitor_is_told_nothing_opens_when_no_day_has_hours(client, hours):
    hours(NEVER)
    found = client.get("/api/availability").get_json()
    assert (found["in_hours"], found["next_opening"]) == (False, None)


def test_the_away_refusal_is_in_the_visitor_s_language(client, hours):
    hours(ALWAYS)
    refused = client.post(
        "/api/conversations", json={"name": "Ada"}, headers={"Accept-Language": "pt-BR"}
    )
    assert refused.get_json()["error"]["message"].startswith("Estamos ausentes")


def _form(page_html: str) -> dict:
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page_html).group(1)
    return {"csrf_token": token}


def test_an_administrator_saves_office_hours_and_they_apply_at_once(app, admin, sign_in, client):
    ada = sign_in(admin)
    page = ada.get("/dashboard/office-hours")
    assert page.status_code == 200
    saved = ada.client.post(
        "/dashboard/office-hours",
        data={
            **_form(page.get_data(as_text=True)),
            "enabled": "1",
            "time_zone": "America/Sao_Paulo",
            "mon_on": "1",
            "mon_open": "09:00",
            "mon_close": "18:00",
            "tue_open": "09:00",  # not on: closed
            "tue_close": "18:00",
            "holidays": "2026-12-25\n2027-01-01",
        },
    )
    assert saved.status_code == 302
    with app.app_context():
        stored = office_hours.current_schedule().as_json()
    assert stored["time_zone"] == "America/Sao_Paulo"
    assert stored["days"]["mon"] == {"open": "09:00", "close": "18:00"}
    assert stored["days"]["tue"] is None
    assert stored["holidays"] == ["2026-12-25", "2027-01-01"]
    shown = ada.get("/dashboard/office-hours").get_data(as_text=True)
    assert 'value="America/Sao_Paulo" selected' in shown


def test_office_hours_that_do_not_make_sense_are_shown_again_with_the_reason(app, admin, sign_in):
    ada = sign_in(admin)
    page = ada.get("/dashboard/office-hours").get_data(as_text=True)
    answer = ada.client.post(
        "/dashboard/office-hours",
        data={
            **_form(page),
            "enabled": "1",
            "time_zone": "UTC",
            "wed_on": "1",
            "wed_open": "18:00",
            "wed_close": "09:00",
        },
    )
    assert answer.status_code == 422
    assert "The closing time must come after the opening time." in answer.get_data(as_text=True)
    with app.app_context():
        assert office_hours.current_schedule().enabled is False


def test_agents_cannot_set_office_hours(agent, sign_in):
    maria = sign_in(agent)
    assert maria.get("/dashboard/office-hours").status_code == 403
    answer = maria.client.post("/dashboard/office-hours", data={"csrf_token": maria.csrf_token})
    assert answer.status_code == 403


def test_the_loader_hears_whether_it_is_within_office_hours_until_they_change(app, client, admin):
    assert client.get("/embed/allowed").get_json()["in_hours"] is True  # no office hours
    now = dt.datetime.now(dt.UTC)
    # Open from the next full hour on, that day only: closed now. The answer is kept no
    # longer than until it opens.
    opening = (now + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    weekday = office_hours.WEEKDAYS[opening.weekday()]
    with app.app_context():
        office_hours.save_schedule(
            {
                "enabled": True,
                "time_zone": "UTC",
                "days": {weekday: {"open": opening.strftime("%H:%M"), "close": "24:00"}},
            },
            admin.identity,
        )
    answer = client.get("/embed/allowed")
    assert answer.get_json()["in_hours"] is False
    assert answer.cache_control.max_age <= (opening - now).total_seconds()
