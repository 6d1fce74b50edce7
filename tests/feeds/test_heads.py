"""The head watcher: one query per tick for all watched conversations; wakes only laggards."""

import uuid

from sqlalchemy import event

from devtone.domain import conversations
from devtone.domain.visitors import Visitor
from devtone.extensions import db
from devtone.feeds.heads import HeadWatcher
from devtone.realtime.broker import MISSED
from tests.conftest import settle


def post(app, visitor, body="hi"):
    with app.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), body, str(uuid.uuid4()))


def count_queries(app):
    statements = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


def test_one_query_per_tick_whatever_the_number_of_readers(app, broker, start_visitor):
    watcher = HeadWatcher(app, interval=3600)  # ticked by hand
    visitors = [start_visitor(f"v{n}") for n in range(10)]
    subscriptions = []
    contexts = []
    for visitor in visitors:
        for _ in range(3):
            subscription = broker.subscribe([f"conversation:{visitor.id}"])
            context = watcher.watching(visitor.id, subscription, lambda: 0)
            context.__enter__()
            subscriptions.append(subscription)
            contexts.append(context)
    try:
        statements = count_queries(app)
        assert watcher.tick() == 0
        assert len([s for s in statements if "conversations" in s]) == 1
    finally:
        for context in contexts:
            context.__exit__(None, None, None)
        watcher.close()
    assert watcher.watched_count() == 0


def test_a_tick_wakes_only_the_readers_behind_the_head(app, broker, start_visitor):
    watcher = HeadWatcher(app, interval=3600)
    ada, bob = start_visitor("Ada"), start_visitor("Bob")
    post(app, ada)
    post(app, ada)
    settle(broker)  # the posts' own publishes are no news to the readers below
    behind = broker.subscribe([f"conversation:{ada.id}"])
    current = broker.subscribe([f"conversation:{ada.id}"])
    quiet = broker.subscribe([f"conversation:{bob.id}"])
    with (
        watcher.watching(ada.id, behind, lambda: 1),
        watcher.watching(ada.id, current, lambda: 2),
        watcher.watching(bob.id, quiet, lambda: 0),
    ):
        assert watcher.tick() == 1
    watcher.close()
    assert behind.get(timeout=0) is MISSED
    assert current.get(timeout=0) is None
    assert quiet.get(timeout=0) is None


def test_the_watcher_ticks_by_itself_once_someone_watches(app, broker, visitor):
    watcher = HeadWatcher(app, interval=0.05)
    assert watcher._thread is None  # nothing started before the first reader
    subscription = broker.subscribe([f"conversation:{visitor.id}"])
    with watcher.watching(visitor.id, subscription, lambda: 0):
        post(app, visitor)
        assert subscription.get(timeout=5) is not None  # the broker's own copy
        assert subscription.get(timeout=5) is MISSED  # the watcher's repair
    watcher.close()


def test_a_reader_whose_queue_holds_the_head_is_slow_not_woken(app, broker, start_visitor):
    watcher = HeadWatcher(app, interval=3600)
    ada = start_visitor("Ada")
    post(app, ada)
    settle(broker)
    slow = broker.subscribe([f"conversation:{ada.id}"])
    post(app, ada)  # published to `slow`, which has not read it yet
    settle(broker)
    with watcher.watching(ada.id, slow, lambda: 1):
        assert watcher.tick() == 0
    watcher.close()
    assert slow.get(timeout=5)["message"]["seq"] == 2  # it reads the head from its queue
    assert slow.get(timeout=0) is None  # and nothing else: no database read owed


def test_a_reader_holding_only_older_entries_is_woken(app, broker, start_visitor):
    watcher = HeadWatcher(app, interval=3600)
    ada = start_visitor("Ada")
    post(app, ada)
    post(app, ada)
    settle(broker)
    behind = broker.subscribe([f"conversation:{ada.id}"])
    behind.deliver({"message": {"seq": 1}})  # seq 2's publish was lost
    with watcher.watching(ada.id, behind, lambda: 0):
        assert watcher.tick() == 1
    watcher.close()
    assert behind.get(timeout=0) is MISSED
