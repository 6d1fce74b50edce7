"""The Alembic revisions build exactly the models' schema (what `flask db upgrade` runs)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect

from devtone import create_app
from devtone.domain import search_index
from devtone.extensions import db


def test_migrations_produce_exactly_the_models_schema(database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            # The search index is made by hand (revision 0013), as env.py tells autogenerate.
            context = MigrationContext.configure(
                connection, opts={"include_object": search_index.in_models}
            )
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []


def test_migrations_downgrade_to_an_empty_database(database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        db.engine.dispose()
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_revision_0002_derives_the_counters_of_existing_conversations(database_url):
    from sqlalchemy import text

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        upgrade(revision="0001")
        db.session.execute(
            text(
                "INSERT INTO conversations (id, status, visitor_name, visitor_token_hash,"
                " last_seq, agent_read_seq, created_at, updated_at)"
                " VALUES (1, 'waiting', 'Ada', 'h', 4, 2, '2026-01-01', '2026-01-01')"
            )
        )
        for seq, kind, sender in [
            (1, "text", "visitor"),
            (2, "text", "visitor"),
            (3, "status", "system"),
            (4, "text", "visitor"),
        ]:
            db.session.execute(
                text(
                    "INSERT INTO messages (conversation_id, seq, kind, sender, author_name,"
                    " body, created_at) VALUES (1, :seq, :kind, :sender, 'Ada', 'x',"
                    " '2026-01-01')"
                ),
                {"seq": seq, "kind": kind, "sender": sender},
            )
        db.session.commit()
        upgrade()
        row = db.session.execute(
            text(
                "SELECT version, last_text_seq, visitor_messages, agent_read_messages"
                " FROM conversations WHERE id = 1"
            )
        ).one()
        db.session.remove()
        db.engine.dispose()
    # unread = 3 visitor texts - 2 read (seq <= 2); newest text is seq 4.
    assert tuple(row) == (5, 4, 3, 2)


def test_revision_0003_downgrades_past_equal_client_ids_of_two_senders(database_url):
    from sqlalchemy import text

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        upgrade(revision="0003")  # the rows as 0003 knew them
        db.session.execute(
            text(
                "INSERT INTO conversations (id, status, visitor_name, visitor_token_hash,"
                " last_seq, agent_read_seq, version, last_text_seq, visitor_messages,"
                " agent_read_messages, visitor_read_seq, created_at, updated_at)"
                " VALUES (1, 'active', 'Ada', 'h', 2, 0, 3, 2, 1, 0, 0,"
                " '2026-01-01', '2026-01-01')"
            )
        )
        for seq, sender in [(1, "visitor"), (2, "agent")]:
            db.session.execute(
                text(
                    "INSERT INTO messages (conversation_id, seq, kind, sender, author_name,"
                    " body, client_id, created_at) VALUES (1, :seq, 'text', :sender, 'x',"
                    " 'x', 'same', '2026-01-01')"
                ),
                {"seq": seq, "sender": sender},
            )
        db.session.commit()
        downgrade(revision="0002")
        kept = db.session.execute(text("SELECT sender, client_id FROM messages ORDER BY seq")).all()
        db.session.remove()
        db.engine.dispose()
    assert [tuple(row) for row in kept] == [("visitor", "same"), ("agent", None)]


def test_revision_0007_counts_what_each_side_has_seen_as_delivered(database_url):
    from sqlalchemy import text

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        upgrade(revision="0006")
        db.session.execute(
            text(
                "INSERT INTO conversations (id, status, visitor_name, visitor_token_hash,"
                " last_seq, agent_read_seq, version, last_text_seq, visitor_messages,"
                " agent_read_messages, visitor_read_seq, created_at, updated_at)"
                " VALUES (1, 'active', 'Ada', 'h', 5, 3, 6, 5, 2, 1, 4,"
                " '2026-01-01', '2026-01-01')"
            )
        )
        db.session.commit()
        upgrade()
        row = db.session.execute(
            text(
                "SELECT agent_delivered_seq, visitor_delivered_seq FROM conversations WHERE id = 1"
            )
        ).one()
        db.session.remove()
        db.engine.dispose()
    assert tuple(row) == (3, 4)  # seen implies delivered
