"""Merged catch-up reads: a reconnect storm costs one query per (conversation, cursor).

Streams are driven as the server runs them (`loop.stream`: subscribe, hello, backlog), each
in a thread of its own, started together. Queries are counted through SQLAlchemy's events.
"""

import threading
import time
import uuid

import pytest
from sqlalchemy import event

from devtone.domain import conversations
from devtone.domain.visitors import Visitor
from devtone.extensions import db
from devtone.feeds import CATCH_UP_KEY, heads_of, loop
from devtone.feeds.catch_up import CatchUp
from devtone.feeds.conversation import ConversationReader
from tests.conftest import settle

STREAMS = 50


def post(app, visitor, body="hi"):
    with app.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), body, str(uuid.uuid4()))


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def catch_up(app, broker, clock):
    """The app's catch-up reads on a clock of the test's; `gather` is what the first asker
    does before its query (set by the test: wait for the others to ask, post meanwhile).
    The head watcher never ticks: a stream must owe all it sends to its catch-up."""
    heads_of(app).interval = 3600
    shared = CatchUp(app, broker, clock=clock, gather=lambda: None)
    app.extensions[CATCH_UP_KEY] = shared
    return shared


@pytest.fixture
def catch_up_queries(app):
    """The statements that read a page of the log, as the database receives them."""
    statements = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and "messages.seq >" in statement:
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield statements
    event.remove(engine, "before_cursor_execute", record)


def once_all_wait(catch_up, conversation_id, others, then=lambda: None):
    """A `gather` that lets the first askers query only once `others` streams wait on them
    (the storm has come in); later askers' queries start at once."""
    came = threading.Event()

    def gather():
        deadline = time.monotonic() + 10
        while not came.is_set() and time.monotonic() < deadline:
            if catch_up.waiting(conversation_id) >= others:
                came.set()
                then()
            time.sleep(0.005)

    return gather


def backlog(app, broker, conversation_id, cursor, head):
    """The seqs a stream resumed at `cursor` sends until `head` or its first ping (it then
    waits on the broker: nothing more comes), or the error it ends with."""
    reader = ConversationReader(app, heads_of(app), conversation_id, cursor, visitor_view=True)
    settings = loop.StreamSettings(heartbeat=0.5, retry_ms=1000)
    frames = loop.stream(reader, broker, settings)
    seqs = []
    try:
        next(frames)  # hello
        while not seqs or seqs[-1] < head:
            text = next(frames).decode()
            if text.startswith("event: ping"):
                break
            if text.startswith("id: "):
                seqs.append(int(text.split("\n", 1)[0][4:]))
    except Exception as error:  # the stream ends with it, as the server would see
        return error
    finally:
        frames.close()
    return seqs


def storm(app, broker, conversation_id, cursors, head):
    """One stream per cursor in `cursors`, all started together; what each one sent."""
    results = [None] * len(cursors)

    def run(index, cursor):
        results[index] = backlog(app, broker, conversation_id, cursor, head)

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(cursors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a stream never came back"
    return results


def test_streams_resumed_at_one_cursor_together_cost_one_query(
    app, broker, visitor, catch_up, catch_up_queries
):
    for n in range(3):
        post(app, visitor, f"m{n}")
    catch_up.gather = once_all_wait(catch_up, visitor.id, STREAMS - 1)
    sent = storm(app, broker, visitor.id, [0] * STREAMS, head=3)
    assert sent == [[1, 2, 3]] * STREAMS
    assert len(catch_up_queries) == 1


def test_two_cursors_cost_two_queries(app, broker, visitor, catch_up, catch_up_queries):
    for n in range(4):
        post(app, visitor, f"m{n}")
    # Half resume from the start, half after seq 2; the first asker of each waits for both.
    catch_up.gather = once_all_wait(catch_up, visitor.id, STREAMS - 2)
    cursors = [0, 2] * (STREAMS // 2)
    sent = storm(app, broker, visitor.id, cursors, head=4)
    assert sent == [[1, 2, 3, 4], [3, 4]] * (STREAMS // 2)
    assert len(catch_up_queries) == 2


def test_an_entry_committed_while_the_others_gather_reaches_every_stream(
    app, broker, visitor, catch_up, catch_up_queries
):
    post(app, visitor, "before")
    # Everyone asked before the shared query starts: it sees the entry posted meanwhile,
    # and every stream, subscribed already, hears it too (the repeat is dropped).
    catch_up.gather = once_all_wait(catch_up, visitor.id, STREAMS - 1, lambda: post(app, visitor))
    sent = storm(app, broker, visitor.id, [0] * STREAMS, head=2)
    assert sent == [[1, 2]] * STREAMS
    assert len(catch_up_queries) == 1


def test_a_stream_asking_after_the_query_reuses_its_page_while_nothing_was_heard(
    app, broker, visitor, catch_up, catch_up_queries, clock
):
    post(app, visitor)
    settle(broker)
    assert backlog(app, broker, visitor.id, 0, head=1) == [1]
    clock.now += 0.5
    assert backlog(app, broker, visitor.id, 0, head=1) == [1]
    assert len(catch_up_queries) == 1


def test_a_publish_after_a_stored_read_makes_the_next_stream_read_itself(
    app, broker, visitor, catch_up, catch_up_queries
):
    post(app, visitor, "one")
    settle(broker)
    assert backlog(app, broker, visitor.id, 0, head=1) == [1]
    assert backlog(app, broker, visitor.id, 0, head=1) == [1]  # reused: nothing heard
    post(app, visitor, "two")  # committed after the stored read, heard before the next look
    settle(broker)
    # The stream subscribes after "two" was published: only its own query can give it.
    assert backlog(app, broker, visitor.id, 0, head=2) == [1, 2]
    assert len(catch_up_queries) == 2


def test_a_stored_page_serves_no_stream_once_it_is_older_than_the_window(
    app, broker, visitor, catch_up, catch_up_queries, clock
):
    post(app, visitor)
    settle(broker)
    backlog(app, broker, visitor.id, 0, head=1)
    clock.now += catch_up.reuse_for + 0.1
    assert backlog(app, broker, visitor.id, 0, head=1) == [1]
    assert len(catch_up_queries) == 2
    assert catch_up.waiting(visitor.id) == 0


def test_no_stored_page_serves_a_stream_after_the_broker_may_have_lost_something(
    app, broker, visitor, catch_up, catch_up_queries, monkeypatch
):
    post(app, visitor)
    settle(broker)
    backlog(app, broker, visitor.id, 0, head=1)
    losses = broker.losses()
    monkeypatch.setattr(broker, "losses", lambda: losses + 1)  # a reconnect, a dropped publish
    assert backlog(app, broker, visitor.id, 0, head=1) == [1]
    assert len(catch_up_queries) == 2


def test_a_failing_shared_query_ends_every_waiting_stream_with_its_error(
    app, broker, visitor, catch_up, monkeypatch
):
    post(app, visitor)
    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        raise ConnectionError("the database went away")

    monkeypatch.setattr(conversations, "messages_after", failing)
    catch_up.gather = once_all_wait(catch_up, visitor.id, STREAMS - 1)
    ended = storm(app, broker, visitor.id, [0] * STREAMS, head=1)
    assert [type(error) for error in ended] == [ConnectionError] * STREAMS
    assert {str(error) for error in ended} == {"the database went away"}
    assert len(calls) == 1
    # Nothing failed is kept: the next stream queries again.
    monkeypatch.undo()
    assert backlog(app, broker, visitor.id, 0, head=1) == [1]


def test_the_monitor_shows_catch_up_queries_beside_reads(app, broker, visitor, catch_up):
    from devtone.feeds import monitor_history_of
    from devtone.feeds.monitor import take_snapshot

    history = monitor_history_of(app)
    post(app, visitor)
    before = take_snapshot(history)["figures"]
    catch_up.gather = once_all_wait(catch_up, visitor.id, 2)
    storm(app, broker, visitor.id, [0, 0, 0], head=1)
    after = take_snapshot(history)["figures"]
    assert after["catch_up_reads"] - before["catch_up_reads"] == 3
    assert after["catch_up_queries"] - before["catch_up_queries"] == 1
