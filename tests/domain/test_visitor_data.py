"""A visitor's data on request: the export holds everything of theirs (files byte for
byte), erasure leaves no trace of them in any table, the search index or the file store,
keeps the conversations as shells the statistics still count, and touches no one else;
the retention rule erases only closed conversations older than its days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from devtone.domain import (
    audit,
    conversation_links,
    conversations,
    erasure,
    search,
    snapshots,
    visitor_export,
)
from devtone.domain.models import Conversation, Message, utcnow
from devtone.domain.visitors import MailedVisitor, Visitor
from devtone.errors import Invalid, NotFound
from devtone.extensions import db
from devtone.file_store import files_of
from tests.conftest import settle
from tests.visitor_data_steps import (
    EMAIL,
    NAME,
    TEXT_FILE,
    WORDS,
    exported,
    file_bytes,
    full_history,
    stored_files,
    traces_in_database,
)

ADMIN = audit.Actor("agent", 1, "Ada Admin")


def export_of(app, email=EMAIL, actor=ADMIN) -> dict:
    with app.app_context():
        found = visitor_export.export_visitor(email, actor)
        return exported(found.chunks(files_of(app)))


def erase(app, email=EMAIL, actor=ADMIN) -> dict:
    with app.app_context():
        return erasure.erase_visitor(email, actor, files_of(app))


# -- export ---------------------------------------------------------------------------------


def test_the_export_holds_every_message_note_and_file_of_the_visitor(app, agent):
    history = full_history(app, agent)
    document = export_of(app)
    assert document["format"] == visitor_export.FORMAT
    assert document["visitor"] == {"email": "Zoe.Ribeiro@example.com"}
    [item] = document["conversations"]
    assert item["conversation"]["id"] == history.id
    assert item["conversation"]["visitor"] == {"name": NAME, "email": "Zoe.Ribeiro@example.com"}
    with app.app_context():
        log = conversations.messages_after(history.id, agent.identity, 0).messages
    assert item["messages"] == log  # the whole log as agents read it, notes included
    bodies = [m["body"] for m in item["messages"] if m["kind"] in ("text", "note")]
    assert set(history.bodies) <= set(bodies)
    assert "Por e-mail: quokkarefund" in bodies
    files = {f["id"]: f for f in item["attachments"]}
    assert {i: file_bytes(f) for i, f in files.items()} == history.files
    assert {f["name"] for f in files.values()} == {"passaporte-zoe.pdf", "nota.txt"}
    assert all(f["size"] == len(history.files[i]) and not f["missing"] for i, f in files.items())
    [mail] = item["emails"]
    assert (mail["kind"], mail["recipient"]) == ("transcript", "Zoe.Ribeiro@example.com")
    assert [(r["score"], r["comment"]) for r in item["ratings"]] == [
        (4, "adorouquokka, obrigada Zoë")
    ]


def test_the_address_is_matched_whatever_its_case_and_other_visitors_are_left_out(
    app, agent, start_visitor
):
    first = full_history(app, agent)
    second = full_history(app, agent, email="zoe.ribeiro@EXAMPLE.com", close=False)
    start_visitor("Someone else", "other@example.com")
    document = export_of(app, email="  ZOE.RIBEIRO@example.com ")
    assert [c["conversation"]["id"] for c in document["conversations"]] == [first.id, second.id]


def test_an_export_that_matches_nothing_is_an_empty_list_and_is_audited(app):
    assert export_of(app, email="nobody@example.com")["conversations"] == []
    with app.app_context():
        [entry] = audit.recent()
    assert entry["action"] == "visitor.export"
    assert entry["actor"] == {"kind": "agent", "id": 1, "name": "Ada Admin"}
    assert entry["detail"] == {"conversations": []}


def test_the_audit_entry_of_an_export_names_the_visitor_by_a_keyed_hash_only(app, agent):
    history = full_history(app, agent)
    export_of(app, actor=audit.CLI)
    export_of(app, email=EMAIL.upper(), actor=audit.CLI)
    with app.app_context():
        entries = audit.recent()
    assert [e["detail"] for e in entries] == [{"conversations": [history.id]}] * 2
    assert entries[0]["target"] == entries[1]["target"]  # the same visitor, however typed
    assert entries[0]["target"].startswith("visitor:")
    assert "ribeiro" not in str(entries).lower()


def test_the_export_is_written_a_page_and_a_file_slice_at_a_time(app, agent, monkeypatch):
    monkeypatch.setattr(visitor_export, "MESSAGES_PAGE", 2)
    history = full_history(app, agent)
    with app.app_context():
        found = visitor_export.export_visitor(EMAIL, ADMIN)
        chunks = list(found.chunks(files_of(app)))
    longest = max(len(chunk) for chunk in chunks)
    assert longest <= visitor_export.FILE_SLICE * 4 // 3 + 4096
    [item] = exported(chunks)["conversations"]
    assert [m["seq"] for m in item["messages"]] == list(range(1, len(item["messages"]) + 1))
    assert {f["id"]: file_bytes(f) for f in item["attachments"]} == history.files


def test_a_file_the_store_lost_is_exported_as_missing(app, agent):
    history = full_history(app, agent)
    lost = next(i for i, data in history.files.items() if data == TEXT_FILE)
    files_of(app).delete(f"{history.id}/{lost}")
    [item] = export_of(app)["conversations"]
    missing = next(f for f in item["attachments"] if f["id"] == lost)
    assert (missing["missing"], missing["data_base64"]) == (True, None)


@pytest.mark.parametrize("email", [None, "", "   ", "not an address", 42, "a@b@c"])
def test_an_export_or_erasure_without_a_valid_address_is_refused_and_audits_nothing(app, email):
    with app.app_context():
        with pytest.raises(Invalid) as refused:
            visitor_export.export_visitor(email, ADMIN)
        assert refused.value.field == "email"
        with pytest.raises(Invalid):
            erasure.erase_visitor(email, ADMIN, files_of(app))
        assert audit.recent() == []


# -- erasure --------------------------------------------------------------------------------


def test_after_erasure_no_table_the_search_index_or_the_store_holds_a_trace_of_the_visitor(
    app, agent
):
    first = full_history(app, agent)
    second = full_history(app, agent, close=False)
    assert traces_in_database(app) and len(stored_files(app)) == 4
    assert erase(app) == {"conversations": 2, "files": 4}
    assert traces_in_database(app) == []
    assert stored_files(app) == []
    with app.app_context():
        for word in (*WORDS, "Ribeiro", "zoe.ribeiro@example.com"):
            assert search.search(q=word)["results"] == [], word
        shells = db.session.scalars(select(Conversation).order_by(Conversation.id)).all()
        assert [(c.id, c.visitor_name, c.visitor_email) for c in shells] == [
            (first.id, erasure.ERASED_NAME, None),
            (second.id, erasure.ERASED_NAME, None),
        ]
        assert all(c.erased_at is not None and c.rating_comment is None for c in shells)
        db.session.remove()


def test_an_erased_conversation_is_a_shell_the_statistics_still_count(app, agent):
    history = full_history(app, agent)
    full_history(app, agent, close=False)
    now = utcnow()
    with app.app_context():
        before = snapshots.stats(now)
        shape_before = conversations.get_conversation(history.id, agent.identity)
        log_before = conversations.messages_after(history.id, agent.identity, 0).messages
    erase(app)
    with app.app_context():
        assert snapshots.stats(now) == before
        shell = conversations.get_conversation(history.id, agent.identity)
        log = conversations.messages_after(history.id, agent.identity, 0).messages
    for kept in ("status", "created_at", "closed_at", "last_seq", "agent", "unread", "marks"):
        assert shell[kept] == shape_before[kept], kept
    assert shell["rating"]["score"] == 4 and shell["rating"]["comment"] is None
    assert shell["visitor"] == {"name": erasure.ERASED_NAME, "email": None}
    assert shell["version"] == shape_before["version"] + 1
    # Every entry is still there, in order, without what anyone wrote.
    assert [(m["seq"], m["kind"], m["sender"]) for m in log] == [
        (m["seq"], m["kind"], m["sender"]) for m in log_before
    ]
    assert all(m["body"] == "" and "attachment" not in m for m in log if m["kind"] != "status")
    assert {m["author"]["name"] for m in log if m["sender"] == "visitor"} == {erasure.ERASED_NAME}
    assert {m["author"]["name"] for m in log if m["sender"] == "agent"} == {"Maria"}


def test_the_visitors_token_link_and_reply_address_open_nothing_after_erasure(app, agent):
    history = full_history(app, agent)
    with app.app_context():
        link = conversation_links.reopen_token(history.id)
    erase(app)
    with app.app_context():
        with pytest.raises(NotFound):
            conversations.get_conversation(history.id, Visitor(history.token))
        with pytest.raises(NotFound):
            conversations.post_message(history.id, Visitor(history.token), "still here?")
        with pytest.raises(NotFound):
            conversation_links.reopen(link)
        with pytest.raises(NotFound):
            conversations.post_message(history.id, MailedVisitor(history.id), "by e-mail")
        row = db.session.get(Conversation, history.id)
        assert row.link_token_hash is None
        db.session.remove()


def test_other_visitors_are_untouched_by_an_erasure(app, agent, start_visitor):
    full_history(app, agent)
    other = start_visitor("Ana <i>Souza</i>", "ana@example.com")
    with app.app_context():
        conversations.post_message(other.id, Visitor(other.token), "quokkarefund também 🦘")
        before = conversations.messages_after(other.id, agent.identity, 0)
    erase(app)
    with app.app_context():
        after = conversations.messages_after(other.id, agent.identity, 0)
        assert conversations.get_conversation(other.id, Visitor(other.token))["visitor"] == {
            "name": "Ana <i>Souza</i>",
            "email": "ana@example.com",
        }
        [hit] = search.search(q="quokkarefund")["results"]
    assert after.messages == before.messages
    assert hit["conversation"]["id"] == other.id


def test_erasing_again_finds_nothing_and_both_are_audited(app, agent):
    full_history(app, agent)
    assert erase(app) == {"conversations": 1, "files": 2}
    assert erase(app) == {"conversations": 0, "files": 0}
    assert export_of(app)["conversations"] == []
    with app.app_context():
        entries = audit.recent()
    assert [(e["action"], e["detail"]["conversations"]) for e in entries] == [
        ("visitor.export", []),
        ("visitor.erase", 0),
        ("visitor.erase", 1),
    ]


def test_an_erasure_is_announced_to_the_conversations_readers(app, agent, broker):
    history = full_history(app, agent)
    settle(broker)  # the history's own news (its close, its rating) is not the erasure's
    with app.app_context():
        heard = broker.subscribe([f"conversation:{history.id}"])
    try:
        erase(app)
        change = heard.get(timeout=5)
    finally:
        heard.close()
    assert change["conversation"]["visitor"]["name"] == erasure.ERASED_NAME
    assert "message" not in change


def test_an_erased_conversations_agent_side_entries_are_gone_even_when_quoting_the_visitor(
    app, agent
):
    history = full_history(app, agent)
    erase(app)
    with app.app_context():
        bodies = db.session.scalars(
            select(Message.body).where(Message.conversation_id == history.id)
        ).all()
        db.session.remove()
    assert not any("Zoë" in body or "quokka" in body for body in bodies)


# -- retention ------------------------------------------------------------------------------


def test_retention_erases_only_closed_conversations_closed_more_than_its_days_ago(
    app, agent, clock
):
    clock.now = utcnow() - timedelta(days=40)
    old = full_history(app, agent, email="old@example.com")
    still_open = full_history(app, agent, email="open@example.com", close=False)
    clock.now = utcnow() - timedelta(days=10)
    recent = full_history(app, agent, email="recent@example.com")
    with app.app_context():
        erased = erasure.erase_expired(30, files_of(app))
        again = erasure.erase_expired(30, files_of(app))
        names = dict(db.session.execute(select(Conversation.id, Conversation.visitor_name)).all())
        db.session.remove()
        [entry] = audit.recent()
    assert (erased, again) == ([old.id], [])
    assert names == {old.id: erasure.ERASED_NAME, still_open.id: NAME, recent.id: NAME}
    assert entry["action"] == "retention.erase"
    assert entry["actor"] == {"kind": "system", "id": None, "name": "devtone"}
    assert entry["detail"] == {"days": 30, "conversations": 1, "ids": [old.id]}
    assert len(stored_files(app)) == 4  # the two kept conversations' files


def test_retention_passes_over_a_conversation_reopened_after_it_was_listed(app, agent, clock):
    clock.now = utcnow() - timedelta(days=40)
    old = full_history(app, agent)
    clock.now = utcnow()
    with app.app_context():
        conversations.post_message(old.id, Visitor(old.token), "quokkarefund, de novo")
        cutoff = utcnow() - timedelta(days=30)
        assert erasure.erase_conversation(old.id, files_of(app), closed_before=cutoff) is None
        assert erasure.erase_expired(30, files_of(app)) == []


def test_retention_goes_on_past_a_conversation_it_cannot_erase_now(
    app, agent, clock, monkeypatch, caplog
):
    # The oldest conversation's files cannot be deleted today: it is kept as it was, the
    # ones after it are erased all the same, and tomorrow's run tries it again.
    clock.now = utcnow() - timedelta(days=50)
    stuck = full_history(app, agent, email="stuck@example.com")
    clock.now = utcnow() - timedelta(days=40)
    later = full_history(app, agent, email="later@example.com")
    store = files_of(app)
    monkeypatch.setattr(store, "delete", refusing(store.delete, stuck.id))
    with app.app_context():
        assert erasure.erase_expired(30, store) == [later.id]
        monkeypatch.undo()
        assert erasure.erase_expired(30, store) == [stuck.id]
        db.session.remove()
    assert "not erased" in caplog.text


def refusing(delete, conversation_id):
    """The file store's delete, failing for one conversation's files."""

    def delete_or_fail(key):
        if str(key).startswith(f"{conversation_id}/"):
            raise OSError("the file store is read-only")
        return delete(key)

    return delete_or_fail


def test_an_erasure_that_fails_halfway_still_audits_what_it_erased(app, agent, monkeypatch):
    first = full_history(app, agent)
    second = full_history(app, agent)
    store = files_of(app)
    monkeypatch.setattr(store, "delete", refusing(store.delete, second.id))
    with app.app_context(), pytest.raises(OSError):
        erasure.erase_visitor(EMAIL, audit.CLI, store)
    with app.app_context():
        [entry] = audit.recent()
    assert entry["action"] == "visitor.erase"
    assert entry["detail"]["ids"] == [first.id]
