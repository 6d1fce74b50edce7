"""GET and POST /api/dashboard/alerts: each agent's alerts and quiet mode, kept on the
server so they follow the agent to every browser; and /favicon.ico, the icon the
dashboard's badge is drawn over."""

import json
import re

import pytest

EVERY_ALERT = {"sound": True, "desktop": True, "badge": True, "quiet": False}


def test_an_agent_who_never_chose_has_every_alert_on_and_quiet_mode_off(sign_in, agent):
    answer = sign_in(agent).get("/api/dashboard/alerts")
    assert answer.status_code == 200
    assert answer.get_json() == {"alerts": EVERY_ALERT}


def test_a_change_keeps_the_other_settings_and_follows_the_agent_to_another_browser(sign_in, agent):
    changed = sign_in(agent).post("/api/dashboard/alerts", json={"quiet": True})
    assert changed.status_code == 200
    assert changed.get_json() == {"alerts": {**EVERY_ALERT, "quiet": True}}
    sign_in(agent).post("/api/dashboard/alerts", json={"sound": False, "badge": False})

    elsewhere = sign_in(agent).get("/api/dashboard/alerts")  # another client: another browser
    assert elsewhere.get_json() == {
        "alerts": {"sound": False, "desktop": True, "badge": False, "quiet": True}
    }


def test_one_agents_settings_are_not_anothers(sign_in, agent, make_agent):
    sign_in(agent).post("/api/dashboard/alerts", json={"desktop": False})
    other = make_agent("Joana")
    assert sign_in(other).get("/api/dashboard/alerts").get_json() == {"alerts": EVERY_ALERT}


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"quiet": "yes"}, "quiet", "invalid"),
        ({"sound": 1}, "sound", "invalid"),
        ({"sound": None}, "sound", "invalid"),
        ({"sound": False, "volume": 3}, "volume", "unknown_field"),
        ({}, "quiet", "required"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(sign_in, agent, body, field, code):
    desk = sign_in(agent)
    answer = desk.post("/api/dashboard/alerts", json=body)
    assert answer.status_code == 422
    assert answer.get_json()["error"]["field"] == field
    assert answer.get_json()["error"]["code"] == code
    assert desk.get("/api/dashboard/alerts").get_json() == {"alerts": EVERY_ALERT}


def test_a_body_that_is_not_a_json_object_is_refused(sign_in, agent):
    desk = sign_in(agent)
    assert desk.post("/api/dashboard/alerts", json=[True]).status_code == 400
    text = desk.client.post(
        "/api/dashboard/alerts", data="quiet", headers={"X-CSRFToken": desk.csrf_token}
    )
    assert text.status_code == 415


def test_only_a_signed_in_agent_with_the_csrf_token_reads_or_changes_alerts(
    client, sign_in, agent, visitor
):
    assert client.get("/api/dashboard/alerts").status_code == 401
    assert client.post("/api/dashboard/alerts", json={"quiet": True}).status_code == 401
    as_visitor = client.get("/api/dashboard/alerts", headers=visitor.headers)
    assert as_visitor.status_code == 403
    desk = sign_in(agent)
    forged = desk.client.post("/api/dashboard/alerts", json={"quiet": True})  # no CSRF header
    assert forged.status_code == 403
    assert desk.get("/api/dashboard/alerts").get_json() == {"alerts": EVERY_ALERT}


def test_the_dashboard_page_carries_the_agents_settings_and_the_repeat_interval(
    app, sign_in, agent
):
    desk = sign_in(agent)
    desk.post("/api/dashboard/alerts", json={"quiet": True})
    page = desk.get("/dashboard").get_data(as_text=True)
    carried = re.search(r'data-alerts="([^"]+)"', page).group(1).replace("&#34;", '"')
    assert json.loads(carried) == {**EVERY_ALERT, "quiet": True}
    assert 'data-alert-repeat-ms="30000"' in page


def test_the_favicon_is_a_real_icon_cached_a_day(client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 200
    assert answer.mimetype == "image/vnd.microsoft.icon"
    assert answer.get_data()[:4] == b"\x00\x00\x01\x00"  # an ICO's header
    assert answer.cache_control.max_age == 86_400
    page = client.get("/chat").get_data(as_text=True)
    assert '<link rel="icon" href="/favicon.ico">' in page
