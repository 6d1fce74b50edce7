"""The audit log: entries in the act's own transaction, newest first, nothing secret."""

import pytest

from devtone.domain import audit
from devtone.extensions import db


def test_an_entry_reads_back_with_who_what_and_when(app):
    with app.app_context():
        audit.record(audit.Actor("token", 7, "CRM sync"), "api.call", "GET /api/conversations")
        audit.record(audit.CLI, "visitor.erase", "email:ana@example.com", {"conversations": 2})
        entries = audit.recent()
    assert [e["action"] for e in entries] == ["visitor.erase", "api.call"]
    assert entries[0]["actor"] == {"kind": "cli", "id": None, "name": "command line"}
    assert entries[0]["detail"] == {"conversations": 2}
    assert entries[1]["actor"] == {"kind": "token", "id": 7, "name": "CRM sync"}
    assert entries[1]["at"].endswith("Z")


def test_an_entry_added_to_a_transaction_that_rolls_back_is_not_kept(app):
    with app.app_context():
        audit.add(audit.SYSTEM, "retention.erase", "conversation:1")
        db.session.rollback()
        db.session.close()
        assert audit.recent() == []


def test_pages_go_back_from_an_id_and_long_unicode_text_is_cut_not_refused(app):
    with app.app_context():
        for n in range(5):
            audit.record(audit.Actor("agent", 1, "Joâo " * 40), "visitor.export", f"n:{n}" * 200)
        first = audit.recent(limit=2)
        older = audit.recent(limit=2, before_id=first[-1]["id"])
    assert [e["target"][:3] for e in first + older] == ["n:4", "n:3", "n:2", "n:1"]
    assert len(first[0]["actor"]["name"]) == 80 and len(first[0]["target"]) == 300


def test_an_unknown_kind_of_actor_is_a_programming_error():
    with pytest.raises(ValueError):
        audit.Actor("visitor", None, "someone")
