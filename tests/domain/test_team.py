"""The team a visitor meets: its name, and a reply time measured now and then."""

import pytest
from sqlalchemy.exc import OperationalError

from devtone.domain.team import Team, TeamCard, current_team


class Measures:
    """A reply-time measure that answers `values` in turn and counts its calls."""

    def __init__(self, *values):
        self.values = list(values)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        value = self.values.pop(0)
        if isinstance(value, Exception):
            raise value
        return value


class Clock:
    now = 1000.0

    def __call__(self):
        return self.now


def test_the_reply_time_is_measured_once_per_turn_not_per_page_view():
    measure, clock = Measures(42.0, 90.0), Clock()
    card = TeamCard("Acme", measure=measure, clock=clock, max_age=300)
    assert card.current() == Team("Acme", 42.0)
    clock.now += 299
    assert card.current() == Team("Acme", 42.0)
    assert measure.calls == 1
    clock.now += 1
    assert card.current() == Team("Acme", 90.0)
    assert measure.calls == 2


def test_a_database_that_does_not_answer_keeps_the_last_reply_time_for_a_turn():
    failure = OperationalError("SELECT", {}, Exception("server closed the connection"))
    measure, clock = Measures(None, 42.0, failure, 60.0), Clock()
    card = TeamCard("Acme", measure=measure, clock=clock, max_age=300)
    assert card.current().typical_reply_seconds is None
    clock.now += 300
    assert card.current().typical_reply_seconds == 42.0
    clock.now += 300
    assert card.current().typical_reply_seconds == 42.0  # kept, not a 500 page
    clock.now += 10
    assert card.current().typical_reply_seconds == 42.0
    assert measure.calls == 3  # and not asked again until the next turn
    clock.now += 300
    assert card.current().typical_reply_seconds == 60.0


@pytest.mark.parametrize("failure", [ValueError("a bug"), RuntimeError("another")])
def test_only_database_failures_are_forgiven(failure):
    card = TeamCard("Acme", measure=Measures(failure))
    with pytest.raises(type(failure)):
        card.current()


def test_an_unnamed_team_leaves_its_name_to_the_page(app):
    with app.app_context():
        assert current_team() == Team(None, None)  # the page says "Support" in its language
