"""Visitor tokens are credentials: stored only as hashes, compared in constant time."""

import hashlib

from sqlalchemy import select

from devtone.domain import visitors
from devtone.extensions import db


def _every_stored_value(app) -> list[str]:
    with app.app_context():
        values = []
        for table in db.metadata.sorted_tables:
            rows = db.session.execute(select(table)).all()
            values += [str(value) for row in rows for value in row]
        db.session.remove()
    return values


def test_the_database_never_holds_a_plain_visitor_token(app, client):
    answer = client.post("/api/conversations", json={"name": "Ada"})
    assert answer.status_code == 201
    token, conversation_id = answer.json["token"], answer.json["conversation"]["id"]
    # Use it, so every path that sees it (posting, reading, read marks) has had its chance.
    headers = {"Authorization": f"Bearer {token}"}
    posted = client.post(
        f"/api/conversations/{conversation_id}/messages",
        json={"body": "hello", "client_id": "c-1"},
        headers=headers,
    )
    assert posted.status_code == 201
    read = client.get(f"/api/conversations/{conversation_id}/messages?token={token}")
    assert read.status_code == 200

    stored = _every_stored_value(app)
    assert not any(token in value for value in stored)
    assert hashlib.sha256(token.encode()).hexdigest() in stored


def test_tokens_are_compared_in_constant_time(monkeypatch):
    token, token_hash = visitors.issue_token()
    compared = []

    def compare_digest(a, b):
        compared.append((a, b))
        return a == b

    monkeypatch.setattr(visitors.hmac, "compare_digest", compare_digest)
    assert visitors.may_access(visitors.Visitor(token), token_hash)
    assert compared == [(token_hash, token_hash)]
    other, _ = visitors.issue_token()
    assert not visitors.may_access(visitors.Visitor(other), token_hash)
