"""domain/alerts.py: each agent's alert settings, with defaults, kept apart per agent."""

import pytest

from devtone.domain import agents, alerts
from devtone.errors import Invalid
from devtone.extensions import db


def test_settings_start_at_the_defaults_and_change_one_at_a_time(app, agent):
    with app.app_context():
        assert alerts.alert_settings(agent.identity) == alerts.DEFAULTS
        alerts.change_alert_settings(agent.identity, {"sound": False})
        changed = alerts.change_alert_settings(agent.identity, {"quiet": True})
        assert changed == {"sound": False, "desktop": True, "badge": True, "quiet": True}
        assert alerts.alert_settings(agent.identity) == changed


@pytest.mark.parametrize("changes", [{"quiet": "true"}, {"loud": True}, {}])
def test_a_bad_change_raises_invalid_and_stores_nothing(app, agent, changes):
    with app.app_context():
        with pytest.raises(Invalid):
            alerts.change_alert_settings(agent.identity, changes)
        assert alerts.alert_settings(agent.identity) == alerts.DEFAULTS


def test_the_settings_go_with_their_agent(app, make_agent):
    maria, joana = make_agent("Maria"), make_agent("Joana")
    with app.app_context():
        alerts.change_alert_settings(maria.identity, {"quiet": True})
        assert alerts.alert_settings(joana.identity) == alerts.DEFAULTS
        assert agents.list_agents()  # both still there, unharmed


def test_a_first_change_that_loses_the_race_to_create_the_row_changes_the_winners_row(
    app, agent, monkeypatch
):
    with app.app_context():
        alerts.change_alert_settings(agent.identity, {"sound": False})  # the other tab's
        real_get = db.session.get
        looks = []

        def get_before_the_other_committed(*args, **kwargs):
            looks.append(args)
            return None if len(looks) == 1 else real_get(*args, **kwargs)

        monkeypatch.setattr(db.session, "get", get_before_the_other_committed)
        changed = alerts.change_alert_settings(agent.identity, {"quiet": True})
        monkeypatch.undo()
        assert changed == {"sound": False, "desktop": True, "badge": True, "quiet": True}
        assert alerts.alert_settings(agent.identity) == changed
        assert len(looks) == 2
