"""E-mail to visitors at the edge: an e-mailed link reopens its conversation in a browser
that never had it (and only that one, and only for 30 days), the transcript is asked for
from the chat, and the unsubscribe page stops the e-mails only when its button is used."""

import itsdangerous.timed
import pytest
from itsdangerous import URLSafeTimedSerializer

from devtone.access_log import redact
from devtone.domain import agents, conversation_links, conversations
from devtone.domain.agents import AgentIdentity
from devtone.domain.models import Conversation
from devtone.domain.visitors import Visitor
from devtone.extensions import db
from tests.conftest import AgentAccount, AgentClient, app_on


def link_of(app, conversation_id):
    with app.app_context():
        return conversation_links.reopen_token(conversation_id)


def test_a_link_reopens_the_conversation_with_a_token_of_its_own(client, app, visitor):
    with app.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), "Hi")
    answer = client.post("/api/conversations/reopen", json={"link": link_of(app, visitor.id)})
    assert answer.status_code == 200, answer.json
    token = answer.json["token"]
    assert answer.json["conversation"]["id"] == visitor.id and token != visitor.token
    opened = client.get(
        f"/api/conversations/{visitor.id}/messages", headers={"Authorization": f"Bearer {token}"}
    )
    assert [m["body"] for m in opened.json["messages"]] == ["Hi"]
    # The first browser keeps its access.
    assert (
        client.get(f"/api/conversations/{visitor.id}", headers=visitor.headers).status_code == 200
    )


def test_a_link_opens_only_its_own_conversation(client, app, start_visitor):
    mine, other = start_visitor("Ada"), start_visitor("Bob")
    answer = client.post("/api/conversations/reopen", json={"link": link_of(app, mine.id)})
    headers = {"Authorization": f"Bearer {answer.json['token']}"}
    assert client.get(f"/api/conversations/{other.id}", headers=headers).status_code == 404


@pytest.mark.parametrize(
    "link",
    ["", "not-a-link", "x" * 5000, "<script>alert(1)</script>", "ünïcödé", None, 42],
)
def test_a_wrong_link_opens_nothing(client, link):
    answer = client.post("/api/conversations/reopen", json={"link": link})
    assert answer.status_code in (401, 413), answer.json
    if answer.status_code == 401:
        assert answer.json["error"]["code"] == "invalid_link"


def test_a_forged_or_altered_link_opens_nothing(client, app, visitor):
    forged = URLSafeTimedSerializer("another secret", salt="devtone.reopen").dumps(
        {"c": visitor.id}
    )
    genuine = link_of(app, visitor.id)
    altered = genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB")
    unsubscribe = conversation_links_unsubscribe(app, visitor.id)  # signed for another purpose
    for link in (forged, altered, unsubscribe):
        answer = client.post("/api/conversations/reopen", json={"link": link})
        assert answer.status_code == 401


def conversation_links_unsubscribe(app, conversation_id):
    with app.app_context():
        return conversation_links.unsubscribe_token(conversation_id)


def test_a_link_older_than_30_days_opens_nothing(client, app, visitor, monkeypatch):
    link = link_of(app, visitor.id)
    later = conversation_links.LINK_DAYS * 86400 + 60
    real_now = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(
        itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: real_now(self) + later
    )
    answer = client.post("/api/conversations/reopen", json={"link": link})
    assert answer.status_code == 401


def test_a_link_to_a_deleted_conversation_is_not_found(client, app, visitor):
    link = link_of(app, visitor.id)
    with app.app_context():
        db.session.delete(db.session.get(Conversation, visitor.id))
        db.session.commit()
    assert client.post("/api/conversations/reopen", json={"link": link}).status_code == 404


def test_a_visitor_asks_for_the_transcript(client, start_visitor):
    visitor = start_visitor("Ada", "ada@example.com")
    answer = client.post(f"/api/conversations/{visitor.id}/transcript", headers=visitor.headers)
    assert answer.status_code == 202 and answer.json == {"email": "ada@example.com"}


def test_a_conversation_gets_a_few_transcripts_an_hour_not_more(client, start_visitor):
    visitor = start_visitor("Ada", "victim@example.com")
    path = f"/api/conversations/{visitor.id}/transcript"
    statuses = [client.post(path, headers=visitor.headers).status_code for _ in range(4)]
    assert statuses == [202, 202, 202, 429]


def test_a_strangers_refused_tries_do_not_use_up_the_visitors_transcripts(client, start_visitor):
    visitor, stranger = start_visitor("Ada", "ada@example.com"), start_visitor("Eve")
    path = f"/api/conversations/{visitor.id}/transcript"
    refused = [client.post(path, headers=stranger.headers).status_code for _ in range(5)]
    assert refused == [404] * 5
    assert client.post(path, headers=visitor.headers).status_code == 202


def test_no_transcript_without_an_address(client, visitor):
    answer = client.post(f"/api/conversations/{visitor.id}/transcript", headers=visitor.headers)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "no_email"


def test_no_transcript_of_another_visitors_conversation(client, start_visitor):
    mine, other = start_visitor("Ada", "ada@example.com"), start_visitor("Bob", "b@example.com")
    answer = client.post(f"/api/conversations/{other.id}/transcript", headers=mine.headers)
    assert answer.status_code == 404


def stopped(app, conversation_id):
    with app.app_context():
        stopped_at = db.session.get(Conversation, conversation_id).email_stopped_at
        db.session.remove()
    return stopped_at is not None


def test_opening_the_unsubscribe_link_stops_nothing_until_the_button(client, app, visitor):
    token = conversation_links_unsubscribe(app, visitor.id)
    page = client.get("/chat/unsubscribe", query_string={"token": token})
    assert page.status_code == 200 and 'data-done="false"' in page.get_data(as_text=True)
    assert not stopped(app, visitor.id)
    done = client.post("/chat/unsubscribe", data={"token": token})
    assert done.status_code == 200 and 'data-done="true"' in done.get_data(as_text=True)
    assert stopped(app, visitor.id)
    assert client.post("/chat/unsubscribe", data={"token": token}).status_code == 200


def test_the_unsubscribe_page_never_hands_its_token_on_as_a_referer(client, app, visitor):
    token = conversation_links_unsubscribe(app, visitor.id)
    page = client.get("/chat/unsubscribe", query_string={"token": token})
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/chat").headers["Referrer-Policy"] == "same-origin"


def test_one_click_unsubscribe_from_a_mail_program(client, app, visitor):
    token = conversation_links_unsubscribe(app, visitor.id)
    answer = client.post(
        "/chat/unsubscribe",
        query_string={"token": token},
        data={"List-Unsubscribe": "One-Click"},
    )
    assert answer.status_code == 200 and stopped(app, visitor.id)


def test_a_wrong_unsubscribe_token_stops_nothing(client, app, visitor):
    answer = client.post("/chat/unsubscribe", data={"token": link_of(app, visitor.id)})
    assert answer.status_code == 400 and not stopped(app, visitor.id)


def test_the_unsubscribe_page_speaks_portuguese(client, app, visitor):
    token = conversation_links_unsubscribe(app, visitor.id)
    page = client.get(
        "/chat/unsubscribe", query_string={"token": token}, headers={"Accept-Language": "pt-BR"}
    )
    assert "Parar os e-mails" in page.get_data(as_text=True)


def test_the_unsubscribe_token_never_reaches_an_access_log(app, visitor):
    token = conversation_links_unsubscribe(app, visitor.id)
    line = f'127.0.0.1 - - "GET /chat/unsubscribe?token={token} HTTP/1.1" 200'
    assert token not in redact(line)


def test_an_admin_is_told_when_e_mail_is_off_and_agents_are_not(app, sign_in, admin, agent):
    assert 'id="email-off"' in sign_in(admin).get("/dashboard").get_data(as_text=True)
    assert 'id="email-off"' not in sign_in(agent).get("/dashboard").get_data(as_text=True)


def test_no_notice_once_e_mail_is_on(database_url, redis_url, redis_channel, mail_server):
    settings = {"SMTP_URL": mail_server.url, "MAIL_FROM": "s@example.com"}
    with app_on(database_url, redis_url, redis_channel, **settings) as on:
        with on.app_context():
            added = agents.create_agent(
                "boss@example.com", "Boss", "correct horse battery", "admin"
            )
        boss = AgentAccount(AgentIdentity(added["id"], added["email"], added["name"], "admin"))
        page = AgentClient(on.test_client(), boss).get("/dashboard").get_data(as_text=True)
        assert 'id="dashboard"' in page and 'id="email-off"' not in page


@pytest.mark.parametrize(
    ("body", "headers", "stored"),
    [
        ({"language": "pt-BR"}, {}, "pt-BR"),
        ({"language": "pt"}, {"Accept-Language": "en"}, "pt-BR"),
        ({}, {"Accept-Language": "pt-PT,pt;q=0.9"}, "pt-BR"),
        ({"language": "klingon"}, {"Accept-Language": "en-US"}, "en"),
        ({"language": 42}, {}, "en"),
    ],
)
def test_a_conversation_keeps_the_visitors_language_for_its_e_mails(
    client, app, body, headers, stored
):
    answer = client.post("/api/conversations", json={"name": "Ada", **body}, headers=headers)
    assert answer.status_code == 201
    with app.app_context():
        conversation = db.session.get(Conversation, answer.json["conversation"]["id"])
        assert conversation.visitor_language == stored
