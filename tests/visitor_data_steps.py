"""A visitor with a bit of everything (messages both ways, a note, files, a reply by
e-mail, an e-mail sent, a rating), made through the domain, and the checks that find any
trace of them in the database or the file store."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import inspect, text

from devtone.domain import attachments, conversations, ratings, reply_mail
from devtone.domain.visitors import MailedVisitor, Visitor
from devtone.extensions import db
from devtone.file_store import files_of

NAME = "Zoë <b>Ribeiro</b> & Cia"
#: As typed: clean_email keeps the local part's case and lowers the domain's.
EMAIL = "Zoe.Ribeiro@Example.COM"
#: Words only this visitor's conversations hold, each findable by search.
WORDS = ("quokkarefund", "zebrapassport", "adorouquokka")
#: What else names them: parts of their name, their address, a file's name.
TRACES = ("Zoë", "Ribeiro", "zoe.ribeiro", "passaporte")
#: A PDF larger than three of the export's file slices, so its base64 is joined from many.
BIG_PDF = b"%PDF-1.4\n" + bytes(range(256)) * 600 + b"\n%%EOF\n"
TEXT_FILE = "Olá, quokkarefund ✓\n<b>não é HTML</b>\n".encode()
LIMIT = 10 * 1024 * 1024


@dataclass
class History:
    """One of the visitor's conversations, what it holds, and the credentials to it."""

    id: int
    token: str
    files: dict[str, bytes] = field(default_factory=dict)  # attachment id -> bytes sent
    bodies: list[str] = field(default_factory=list)


def full_history(app, agent, email: str = EMAIL, close: bool = True) -> History:
    """A conversation of the visitor with everything the export and erasure cover."""
    store = files_of(app)
    with app.app_context():
        started, token = conversations.start_conversation(NAME, email, "pt-BR")
        cid, me = started["id"], Visitor(token)
        history = History(cid, token)
        for caller, body, kind in (
            (me, "Olá! quokkarefund <script>alert('x')</script> 🦘", None),
            (agent.identity, "Sobre o quokkarefund, Zoë Ribeiro: já vejo.", None),
            (agent.identity, "@Maria zebrapassport parece falso", "note"),
        ):
            message, _ = conversations.post_message(cid, caller, body, kind=kind)
            history.bodies.append(message["body"])
        for data, name in ((BIG_PDF, "passaporte-zoe.pdf"), (TEXT_FILE, "nota.txt")):
            message, _ = attachments.attach_file(cid, me, data, name, None, store, LIMIT)
            history.files[message["attachment"]["id"]] = data
        # A reply by e-mail is stored as the visitor's message (mailed_replies.py).
        conversations.post_message(cid, MailedVisitor(cid), "Por e-mail: quokkarefund", "mail-1")
        reply_mail.queue_transcript(cid, agent.identity)
        if close:
            conversations.close_conversation(cid, agent.identity)
            ratings.rate_conversation(cid, me, 4, "adorouquokka, obrigada Zoë")
    return history


def traces_in_database(app) -> list[str]:
    """Every `table: row` of the database that holds one of WORDS or TRACES (search
    vectors included); FTS5's own tables are binary, searched by MATCH instead."""
    needles = [needle.casefold() for needle in (*WORDS, *TRACES)]
    found = []
    with app.app_context():
        engine = db.engine
        for table in inspect(engine).get_table_names():
            if table.startswith("messages_fts"):
                continue
            for row in db.session.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
                shown = str(tuple(row)).casefold()
                if any(needle in shown for needle in needles):
                    found.append(f"{table}: {shown[:300]}")
        if engine.dialect.name == "sqlite":
            for word in WORDS:
                hits = db.session.execute(
                    text("SELECT rowid FROM messages_fts WHERE messages_fts MATCH :word"),
                    {"word": word},
                ).all()
                found += [f"messages_fts: {word} in message {hit[0]}" for hit in hits]
        db.session.remove()
    return found


def stored_files(app) -> list[Path]:
    """The files in the app's store."""
    return sorted(path for path in files_of(app).folder.rglob("*") if path.is_file())


def exported(chunks) -> dict:
    """The export document the chunks make (it must be one valid JSON document)."""
    return json.loads("".join(chunks))


def file_bytes(attachment: dict) -> bytes:
    """An exported file's bytes."""
    return base64.b64decode(attachment["data_base64"], validate=True)
