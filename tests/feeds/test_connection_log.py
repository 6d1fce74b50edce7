"""Connection logs: one JSON line per stream or long-poll open and close, never a token."""

import json
import logging
import uuid

import pytest

from devtone.domain import conversations
from devtone.domain.visitors import Visitor
from devtone.feeds import end_streams
from devtone.realtime import stream_slots_of
from tests.feeds.test_conversation_feed import Stream


class Lines(logging.Handler):
    """The connection log's lines, parsed."""

    def __init__(self):
        super().__init__()
        self.lines: list[dict] = []

    def emit(self, record):
        self.lines.append(json.loads(record.getMessage()))

    def of(self, event, **fields):
        return [
            line
            for line in self.lines
            if line["event"] == event and all(line.get(k) == v for k, v in fields.items())
        ]


@pytest.fixture
def connection_lines(app):
    handler = Lines()
    logger = logging.getLogger("devtone.connections")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def post(app, visitor, body="hi"):
    with app.app_context():
        return conversations.post_message(
            visitor.id, Visitor(visitor.token), body, str(uuid.uuid4())
        )[0]


def test_an_sse_stream_logs_its_open_and_a_client_gone_close_with_what_it_delivered(
    app, client, visitor, connection_lines
):
    stream = Stream(client, visitor)
    assert stream.next()["event"] == "hello"
    (opened,) = connection_lines.of("open", tier="sse")
    assert opened["kind"] == "conversation"
    assert opened["conversation_id"] == visitor.id
    assert opened["caller"] == "visitor"
    assert not connection_lines.of("close")

    post(app, visitor)
    stream.until_seq(1)
    stream.close()

    (closed,) = connection_lines.of("close", tier="sse")
    assert closed["connection"] == opened["connection"]
    assert closed["reason"] == "client_gone"
    assert closed["delivered"] == 1
    assert isinstance(closed["duration_ms"], int) and closed["duration_ms"] >= 0
    assert {"kind", "conversation_id", "caller", "time"} <= closed.keys()


def test_a_stream_ended_by_shutdown_says_server_shutdown(app, client, visitor, connection_lines):
    post(app, visitor)
    stream = Stream(client, visitor)
    stream.until_seq(1)
    end_streams(app)
    with pytest.raises(StopIteration):
        stream.next()
    (closed,) = connection_lines.of("close", tier="sse")
    assert closed["reason"] == "server_shutdown"
    assert closed["delivered"] == 1  # the backlog counts


def test_an_agents_dashboard_stream_names_the_agent_by_id(sign_in, agent, connection_lines):
    desk = sign_in(agent)
    response = desk.get("/api/dashboard/events", buffered=False)
    frames = iter(response.response)
    next(frames)  # hello
    next(frames)  # snapshot
    response.close()
    opened = connection_lines.of("open", kind="dashboard", tier="sse")
    closed = connection_lines.of("close", kind="dashboard", tier="sse")
    assert [line["caller"] for line in opened] == ["agent"]
    assert opened[0]["agent_id"] == agent.id
    assert opened[0]["conversation_id"] is None
    assert closed[0]["reason"] == "client_gone"
    assert closed[0]["delivered"] == 1  # the snapshot


def test_a_long_poll_that_finds_entries_logs_answered_and_their_count(
    app, client, visitor, connection_lines
):
    post(app, visitor, "one")
    post(app, visitor, "two")
    answer = client.get(
        f"/api/conversations/{visitor.id}/messages?after=0&wait=5", headers=visitor.headers
    )
    assert [m["seq"] for m in answer.json["messages"]] == [1, 2]
    (opened,) = connection_lines.of("open", tier="longpoll")
    (closed,) = connection_lines.of("close", tier="longpoll")
    assert opened["conversation_id"] == visitor.id and opened["caller"] == "visitor"
    assert closed["reason"] == "answered"
    assert closed["delivered"] == 2


def test_a_long_poll_that_waits_in_vain_logs_timeout(app, client, visitor, connection_lines):
    answer = client.get(
        f"/api/conversations/{visitor.id}/messages?after=0&wait=1", headers=visitor.headers
    )
    assert answer.json["messages"] == []
    (closed,) = connection_lines.of("close", tier="longpoll")
    assert closed["reason"] == "timeout"
    assert closed["delivered"] == 0
    assert closed["duration_ms"] >= 900


def test_a_plain_poll_is_not_a_connection(app, client, visitor, connection_lines):
    client.get(f"/api/conversations/{visitor.id}/messages?after=0", headers=visitor.headers)
    assert connection_lines.lines == []


def test_a_dashboard_long_poll_logs_answered_or_timeout(sign_in, agent, connection_lines):
    desk = sign_in(agent)
    etag = desk.get("/api/dashboard/snapshot").json["etag"]
    desk.get(f"/api/dashboard/snapshot?etag={etag}&wait=1")
    desk.get("/api/dashboard/snapshot?etag=stale&wait=1")
    closes = connection_lines.of("close", kind="dashboard", tier="longpoll")
    assert [(c["reason"], c["delivered"]) for c in closes] == [("timeout", 0), ("answered", 1)]
    assert {c["agent_id"] for c in closes} == {agent.id}


def test_a_tier_report_is_logged_as_a_tier_change(client, connection_lines):
    answer = client.post(
        "/api/realtime/report", json={"from": "sse", "to": "longpoll", "reason": "timeout"}
    )
    assert answer.status_code == 204
    (line,) = connection_lines.of("tier_change")
    assert (line["from"], line["to"], line["reason"], line["caller"]) == (
        "sse",
        "longpoll",
        "timeout",
        "visitor",
    )


def test_lines_go_to_stderr_one_json_object_each(app, client, visitor, capsys):
    client.get(f"/api/conversations/{visitor.id}/messages?after=0&wait=1", headers=visitor.headers)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["event"] for line in lines] == ["open", "close"]


def test_no_log_line_ever_contains_the_visitors_token(
    app, client, visitor, connection_lines, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    stream = Stream(client, visitor)  # ?token= in the URL
    stream.next()
    client.post(
        f"/api/conversations/{visitor.id}/messages",
        json={"body": "hello", "client_id": str(uuid.uuid4())},
        headers=visitor.headers,
    )
    stream.until_seq(1)
    stream.close()
    client.get(f"/api/conversations/{visitor.id}/messages?after=0&wait=1&token={visitor.token}")
    client.get(f"/api/conversations/{visitor.id}/messages?after=1&wait=1", headers=visitor.headers)
    client.post(
        "/api/realtime/report",
        json={"from": "sse", "to": "poll", "reason": "failed"},
        headers=visitor.headers,
    )

    written = capsys.readouterr()
    logged = "\n".join(
        [json.dumps(line) for line in connection_lines.lines]
        + [caplog.text, written.err, written.out]
    )
    assert len(connection_lines.lines) >= 7  # the lines were there to search
    assert visitor.token not in logged
    assert visitor.token[:12] not in logged


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/api/dashboard/events", "dashboard"), ("/api/monitor/events", "monitor")],
)
def test_every_agent_feed_takes_a_stream_slot_and_logs_its_open_and_close(
    app, sign_in, admin, connection_lines, path, kind
):
    """The dashboard and the monitor run the conversation stream's loop: same slot, same
    log line, same end."""
    slots = stream_slots_of(app)
    agent_client = sign_in(admin)
    response = agent_client.get(path, buffered=False)
    frames = iter(response.response)
    assert b"event: hello" in next(frames)
    assert slots.open == 1
    (opened,) = connection_lines.of("open", kind=kind)
    assert (opened["tier"], opened["caller"], opened["agent_id"]) == ("sse", "agent", admin.id)

    response.close()
    assert slots.open == 0
    (closed,) = connection_lines.of("close", kind=kind)
    assert closed["reason"] == "client_gone"
