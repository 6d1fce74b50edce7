"""Leases: a job that one process at a time may do, elected through the database.

A lease is one row. Taking it is one conditional UPDATE (`WHERE holder = me OR it
expired`), which PostgreSQL and SQLite both run atomically: of the processes that try at
once, exactly one sees its row updated. The holder renews it while it works; a process
that dies lets it expire, and the next one to try takes it over.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from devtone.domain.models import Lease, utcnow
from devtone.extensions import db


def hold(name: str, holder: str, seconds: float) -> bool:
    """Take or renew the lease `name` for `holder` for `seconds`; whether it is held."""
    now = utcnow()
    try:
        taken = db.session.execute(
            update(Lease)
            .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
            .values(holder=holder, expires_at=now + timedelta(seconds=seconds))
        ).rowcount
        if not taken and db.session.get(Lease, name) is None:
            db.session.add(
                Lease(name=name, holder=holder, expires_at=now + timedelta(seconds=seconds))
            )
            db.session.flush()
            taken = 1
        db.session.commit()
        return bool(taken)
    except IntegrityError:  # another process made the row first: it holds the lease
        db.session.rollback()
        return False
    finally:
        db.session.close()


def release(name: str, holder: str) -> None:
    """Give the lease up at once (a clean stop), if `holder` has it."""
    try:
        db.session.execute(
            update(Lease)
            .where(Lease.name == name, Lease.holder == holder)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    finally:
        db.session.close()
