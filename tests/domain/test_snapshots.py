"""The dashboard's snapshot and statistics, on a fixture with known timestamps."""

from datetime import timedelta

from devtone.domain import conversations, presence, snapshots
from devtone.domain.visitors import Visitor
from tests.conftest import CLOCK_START as NOW

YESTERDAY = NOW - timedelta(days=1)


#: The statistics' ratings before anyone rated (tests/domain/test_ratings.py has the rest).
NO_RATINGS = {
    "today": {"count": 0, "average": None},
    "week": {"count": 0, "average": None},
    "agents": [],
}


def _visitor_says(visitor, body):
    conversations.post_message(visitor["id"], Visitor(visitor["token"]), body)


def _start(name):
    conversation, token = conversations.start_conversation(name)
    return {"id": conversation["id"], "token": token}


def test_statistics_match_hand_computed_values(app, clock, agent):
    me = agent.identity
    with app.app_context():
        # Yesterday: a conversation answered and closed yesterday, one only answered today.
        clock.at(20, day=YESTERDAY)
        old = _start("Old")
        _visitor_says(old, "yesterday's question")  # not today: not counted
        clock.at(20, 5, day=YESTERDAY)
        conversations.post_message(old["id"], me, "yesterday's answer")
        clock.at(21, day=YESTERDAY)
        conversations.close_conversation(old["id"], me)

        clock.at(23, day=YESTERDAY)
        late = _start("Late")
        clock.at(0, 30)
        conversations.post_message(late["id"], me, "sorry for the wait")  # waited 5400 s

        clock.at(9)
        quick = _start("Quick")
        _visitor_says(quick, "hi")
        clock.at(9, 2)
        conversations.post_message(quick["id"], me, "hello!")  # waited 120 s
        clock.at(10)
        conversations.close_conversation(quick["id"], me)  # closed today

        clock.at(11)
        slow = _start("Slow")
        _visitor_says(slow, "anyone?")
        _visitor_says(slow, "hello??")
        clock.at(11, 10)
        conversations.post_message(slow["id"], me, "here now")  # waited 600 s

        clock.at(12)
        waiting = _start("Waiting")
        _visitor_says(waiting, "please help")

        figures = snapshots.stats(NOW)
    assert figures == {
        "day": "2026-03-10",
        "waiting": 1,  # Waiting
        "active": 2,  # Late, Slow
        "closed_today": 1,  # Quick (Old closed yesterday)
        # Today's text: Late 1, Quick 2, Slow 3, Waiting 1 (status entries do not count).
        "messages_today": 7,
        # First replies today: 120, 600, 5400 s (Old's was yesterday) → median 600 s.
        "median_first_reply_seconds": 600.0,
        "ratings": NO_RATINGS,
    }


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two(app, clock, agent):
    with app.app_context():
        for minutes in (1, 2, 10, 90):
            clock.at(8)
            started = _start(f"Wait {minutes}")
            clock.now = clock.now + timedelta(minutes=minutes)
            conversations.post_message(started["id"], agent.identity, "hi")
        figures = snapshots.stats(NOW)
    assert figures["median_first_reply_seconds"] == (120 + 600) / 2


def test_the_typical_first_reply_is_the_median_of_the_last_seven_days(app, clock, agent):
    with app.app_context():
        assert snapshots.typical_first_reply_seconds(NOW) is None  # nobody answered yet
        for days_ago, minutes in ((8, 1), (6, 4), (2, 20), (0, 6)):
            clock.at(8, day=NOW - timedelta(days=days_ago))
            started = _start(f"{days_ago} days ago")
            clock.now = clock.now + timedelta(minutes=minutes)
            conversations.post_message(started["id"], agent.identity, "hi")
        typical = snapshots.typical_first_reply_seconds(NOW)
        today = snapshots.stats(NOW)["median_first_reply_seconds"]
    # 4, 6 and 20 minutes; eight days ago (1 minute) is out of the week.
    assert typical == 6 * 60
    assert today == 6 * 60  # today's statistic stays today's


def test_a_first_reply_after_a_month_is_counted_not_refused(app, clock, agent):
    # 40 days in milliseconds is past a 32-bit column (24.8 days): PostgreSQL refused it.
    with app.app_context():
        clock.at(8, day=NOW - timedelta(days=40))
        started = _start("Forgotten")
        _visitor_says(started, "Anyone there?")
        clock.at(8)
        conversations.post_message(started["id"], agent.identity, "Sorry for the wait!")
        figures = snapshots.stats(NOW)
    assert figures["median_first_reply_seconds"] == 40 * 24 * 3600


def test_statistics_on_an_empty_day(app):
    with app.app_context():
        figures = snapshots.stats(NOW)
    assert figures == {
        "day": "2026-03-10",
        "waiting": 0,
        "active": 0,
        "closed_today": 0,
        "messages_today": 0,
        "median_first_reply_seconds": None,
        "ratings": NO_RATINGS,
    }


def test_the_snapshot_lists_open_conversations_newest_first_with_recent_closed(app, clock, agent):
    with app.app_context():
        clock.at(9)
        first = _start("First")
        _visitor_says(first, "hello")
        clock.at(10)
        _visitor_says(_start("Second"), "hi")
        _start("Never wrote")  # started, left empty: not anyone's work
        clock.at(11)
        _visitor_says(first, "still there?")  # newest activity now
        clock.at(12)
        done = _start("Done")
        _visitor_says(done, "thanks, bye")
        conversations.close_conversation(done["id"], agent.identity)
        snapshot = snapshots.take_snapshot(NOW)
    listed = [(c["visitor"]["name"], c["status"]) for c in snapshot.conversations]
    assert listed == [("First", "waiting"), ("Second", "waiting"), ("Done", "closed")]
    first_shown = snapshot.conversations[0]
    assert first_shown["last_message"]["body"] == "still there?"
    assert first_shown["unread"] == 2
    assert snapshot.stats["waiting"] == 2


def test_the_etag_changes_with_any_change_and_only_then(app, visitor, agent):
    with app.app_context():
        before = snapshots.take_snapshot().etag
        same = snapshots.take_snapshot().etag
        presence.mark_read(visitor.id, agent.identity, 0)  # nothing to read: no change
        unchanged = snapshots.take_snapshot().etag
        conversations.post_message(visitor.id, Visitor(visitor.token), "hi")
        after_post = snapshots.take_snapshot().etag
        presence.mark_read(visitor.id, agent.identity, 1)
        after_read = snapshots.take_snapshot().etag
    assert before == same == unchanged
    assert len({before, after_post, after_read}) == 3


def test_a_conversation_reaches_agents_with_its_first_message_not_before(app, broker):
    from devtone.domain import announce

    with app.app_context():
        subscription = broker.subscribe([announce.conversation_channel(1)])
        try:
            started = _start("Ada")
            assert subscription.get(timeout=0.2) is None  # no upsert, no beep, no tab count
            assert snapshots.take_snapshot().conversations == []
            assert snapshots.stats()["waiting"] == 0
            _visitor_says(started, "Olá, preciso de ajuda")
            assert subscription.get(timeout=1)["conversation"]["last_seq"] == 1
        finally:
            subscription.close()
        listed = snapshots.take_snapshot().conversations
    assert [c["id"] for c in listed] == [started["id"]]
