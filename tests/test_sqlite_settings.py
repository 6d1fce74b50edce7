"""The embedded store's settings: what a post costs and what a crash can take back."""

from sqlalchemy import text

from devtone import connections, create_app
from devtone.extensions import db


def test_sqlite_connections_use_wal_and_sync_only_at_checkpoints(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'chat.db'}"})
    with app.app_context():
        pragma = db.session.execute
        assert pragma(text("PRAGMA journal_mode")).scalar() == "wal"
        # 1 = NORMAL: no fsync per commit (it stalled the whole gevent worker).
        assert pragma(text("PRAGMA synchronous")).scalar() == 1
        db.session.remove()
        db.engine.dispose()


def test_only_a_networked_database_is_pinged_at_checkout():
    sqlite = connections.engine_options("sqlite:////tmp/chat.db", 5, 10)
    postgres = connections.engine_options("postgresql://db/devtone", 5, 10)
    assert sqlite["pool_pre_ping"] is False
    assert postgres["pool_pre_ping"] is True
