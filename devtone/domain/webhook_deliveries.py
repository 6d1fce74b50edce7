"""The webhooks' outbox: events become deliveries (one per endpoint that wants them),
taken by the one elected sender (webhooks_out.py) in order per conversation, marked
delivered only after the receiver answered 2xx, and retried with a growing wait while
it does not. At least once: a sender that dies mid-delivery leaves it undelivered, and
the next one sends it again, with the same event id and body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, insert, select, update
from sqlalchemy.orm import aliased

from devtone.domain.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, utcnow
from devtone.extensions import db

#: The longest wait between two tries of one delivery.
RETRY_MAX_SECONDS = 3600.0
#: Events fanned out, and deliveries taken, in one round.
BATCH = 100
#: Events (and their deliveries) are kept this long, for the admins' list of recent
#: deliveries and for redelivery; every try of them ended long before (24 h).
KEEP = timedelta(days=7)


@dataclass(frozen=True)
class Parcel:
    """A delivery due: where it goes, how it is signed, and the event's body."""

    id: int
    endpoint_id: int
    url: str
    secret: str
    event_id: str
    body: str
    attempts: int
    event_created_at: datetime


def fan_out(limit: int = BATCH) -> int:
    """Give the events not fanned out yet a delivery to each enabled endpoint that wants
    them (registered before the event; a note only where notes are asked for); return
    how many events were fanned out. One transaction: none is fanned out twice."""
    try:
        events = db.session.scalars(
            select(WebhookEvent)
            .where(WebhookEvent.fanned_out_at.is_(None))
            .order_by(WebhookEvent.id)
            .limit(limit)
        ).all()
        if not events:
            return 0
        endpoints = db.session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.disabled_at.is_(None))
        ).all()
        wanted = [(endpoint, set(json.loads(endpoint.events))) for endpoint in endpoints]
        now = utcnow()
        rows = [
            {
                "endpoint_id": endpoint.id,
                "event_id": event.id,
                "conversation_id": event.conversation_id,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for event in events
            for endpoint, types in wanted
            if event.type in types
            and (endpoint.include_notes or not event.note)
            and endpoint.created_at <= event.created_at
        ]
        if rows:
            db.session.execute(insert(WebhookDelivery), rows)
        db.session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.id.in_([event.id for event in events]))
            .values(fanned_out_at=now)
        )
        db.session.commit()
        return len(events)
    finally:
        db.session.close()


def due(now: datetime | None = None, limit: int = BATCH) -> list[Parcel]:
    """The deliveries whose turn has come, oldest event first: to enabled endpoints, and
    each the first undelivered one of its conversation to its endpoint (order per
    conversation: a later event waits while an earlier one is not delivered)."""
    now = now or utcnow()
    earlier = aliased(WebhookDelivery)
    pending = and_(WebhookDelivery.delivered_at.is_(None), WebhookDelivery.given_up_at.is_(None))
    blocked = exists().where(
        earlier.endpoint_id == WebhookDelivery.endpoint_id,
        earlier.conversation_id == WebhookDelivery.conversation_id,
        earlier.event_id < WebhookDelivery.event_id,
        earlier.delivered_at.is_(None),
        earlier.given_up_at.is_(None),
    )
    try:
        rows = db.session.execute(
            select(WebhookDelivery, WebhookEndpoint, WebhookEvent)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(
                pending,
                WebhookDelivery.next_attempt_at <= now,
                WebhookEndpoint.disabled_at.is_(None),
                ~blocked,
            )
            .order_by(WebhookDelivery.event_id, WebhookDelivery.id)
            .limit(limit)
        ).all()
        return [
            Parcel(
                delivery.id,
                endpoint.id,
                endpoint.url,
                endpoint.secret,
                event.public_id,
                event.body,
                delivery.attempts,
                event.created_at,
            )
            for delivery, endpoint, event in rows
        ]
    finally:
        db.session.close()


def delivered(parcel: Parcel, status: int) -> None:
    """The receiver took it (2xx): never send it again; its endpoint works."""
    now = utcnow()
    try:
        db.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == parcel.id)
            .values(
                attempts=WebhookDelivery.attempts + 1,
                last_attempt_at=now,
                delivered_at=now,
                last_status=status,
                last_error=None,
            )
        )
        db.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == parcel.endpoint_id)
            .values(failing_since=None)
        )
        db.session.commit()
    finally:
        db.session.close()


def not_delivered(
    parcel: Parcel, status: int | None, error: str, first_wait: float, give_up_after: float
) -> None:
    """It did not go: try again after a wait that doubles with each try (from
    `first_wait` seconds up to RETRY_MAX_SECONDS); give it up once its event is
    `give_up_after` seconds old, and disable the endpoint once it has failed that long
    without a success in between (the reason kept for the admin)."""
    now = utcnow()
    wait = min(first_wait * 2**parcel.attempts, RETRY_MAX_SECONDS)
    too_old = now - parcel.event_created_at >= timedelta(seconds=give_up_after)
    try:
        db.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == parcel.id)
            .values(
                attempts=WebhookDelivery.attempts + 1,
                last_attempt_at=now,
                next_attempt_at=now + timedelta(seconds=wait),
                last_status=status,
                last_error=error[:200],
                **({"given_up_at": now} if too_old else {}),
            )
        )
        endpoint = db.session.get(WebhookEndpoint, parcel.endpoint_id)
        if endpoint is not None:
            if endpoint.failing_since is None:
                endpoint.failing_since = now
            elif now - endpoint.failing_since >= timedelta(seconds=give_up_after):
                endpoint.disabled_at = now
                endpoint.disabled_reason = (
                    f"No delivery succeeded since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC;"
                    f" the last failed with: {error}"
                )[:300]
        db.session.commit()
    finally:
        db.session.close()


def prune(now: datetime | None = None) -> int:
    """Delete the events older than KEEP, with their deliveries; return how many."""
    before = (now or utcnow()) - KEEP
    try:
        old = select(WebhookEvent.id).where(WebhookEvent.created_at < before)
        # Deliveries first: SQLite enforces no ON DELETE CASCADE without its pragma.
        db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(old)))
        pruned = db.session.execute(
            delete(WebhookEvent).where(WebhookEvent.created_at < before)
        ).rowcount
        db.session.commit()
        return pruned
    finally:
        db.session.close()
