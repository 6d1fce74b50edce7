"""A write of the log holds one pooled connection, whatever the request read before it."""

from contextlib import contextmanager

from sqlalchemy import event, select

from devtone.domain import conversations
from devtone.domain.models import Agent
from devtone.domain.visitors import Visitor
from devtone.extensions import db


@contextmanager
def most_connections_held():
    """The most pooled connections this app's engine had checked out at once in the block,
    counted through the pool's events."""
    held, most = [0], [0]

    def checked_out(*_):
        held[0] += 1
        most[0] = max(most[0], held[0])

    def checked_in(*_):
        held[0] -= 1

    event.listen(db.engine, "checkout", checked_out)
    event.listen(db.engine, "checkin", checked_in)
    try:
        yield most
    finally:
        event.remove(db.engine, "checkout", checked_out)
        event.remove(db.engine, "checkin", checked_in)


def test_a_post_after_a_read_through_the_session_holds_one_connection(app, visitor, agent):
    with app.app_context():
        with most_connections_held() as most:
            # What a request may have read first (Flask-Login loading the agent), still open.
            db.session.scalar(select(Agent.name).where(Agent.id == agent.identity.id))
            conversations.post_message(visitor.id, Visitor(visitor.token), "hello", "c-1")
        assert most[0] == 1


def test_a_repeat_after_a_read_through_the_session_holds_one_connection(app, visitor, agent):
    with app.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), "hello", "c-1")
        with most_connections_held() as most:
            db.session.scalar(select(Agent.name).where(Agent.id == agent.identity.id))
            _, created = conversations.post_message(
                visitor.id, Visitor(visitor.token), "hello", "c-1"
            )
        assert (created, most[0]) == (False, 1)
