"""Webhook endpoints, as administrators keep them: register (the secret is shown once),
list (with why one is disabled), delete, the recent deliveries of one, and a redelivery.

The sending itself is webhook_deliveries.py's (the queue) and webhooks_out.py's (HTTP).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from devtone.domain import webhook_events, webhook_urls
from devtone.domain.agents import AgentIdentity
from devtone.domain.models import (
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    isoformat,
    utcnow,
)
from devtone.errors import BadRequest, Conflict, Forbidden, Invalid, NotFound
from devtone.extensions import db

#: Endpoints a deployment may register: each is a request per event.
ENDPOINTS_MAX = 20
#: Deliveries one listing shows, newest first.
RECENT = 50


def require_admin(caller: object) -> AgentIdentity:
    """The caller, if an administrator; Forbidden otherwise."""
    if not isinstance(caller, AgentIdentity) or not caller.is_admin:
        raise Forbidden("Only an administrator can manage webhooks.", code="admins_only")
    return caller


def register_endpoint(caller: object, raw: dict[str, Any]) -> dict[str, Any]:
    """Register an endpoint `{url, events, include_notes?}`; return it with its secret
    (the only time it is shown). A private or loopback URL is refused (webhook_urls.py)."""
    require_admin(caller)
    target = webhook_urls.check(raw.get("url"), current_app.config["WEBHOOK_ALLOW_PRIVATE"])
    events = clean_events(raw.get("events"))
    include_notes = raw.get("include_notes", False)
    if not isinstance(include_notes, bool):
        raise BadRequest(
            "include_notes must be true or false.", field="include_notes", code="invalid_flag"
        )
    try:
        if db.session.scalar(select(db.func.count()).select_from(WebhookEndpoint)) >= ENDPOINTS_MAX:
            raise Conflict(
                "A deployment keeps at most {count} endpoints.", code="too_many_endpoints",
                count=ENDPOINTS_MAX,
            )  # fmt: skip
        endpoint = WebhookEndpoint(
            url=target.url,
            events=json.dumps(events),
            include_notes=include_notes,
            secret=f"whsec_{secrets.token_hex(24)}",
            created_at=utcnow(),
        )
        db.session.add(endpoint)
        db.session.commit()
        shown = {**endpoint_json(endpoint), "secret": endpoint.secret}
    finally:
        db.session.close()
    webhook_events.endpoints_known().refresh()  # this process writes events from now on
    return shown


def clean_events(raw: object) -> list[str]:
    """A non-empty list of known event types, sorted, each once."""
    if not isinstance(raw, list) or not raw or not all(isinstance(t, str) for t in raw):
        raise Invalid(
            "events must be a list of event types.", field="events", code="invalid_events"
        )
    unknown = [name for name in raw if name not in webhook_events.TYPES]
    if unknown:
        raise Invalid(
            "Unknown event type: {name}.", field="events", code="invalid_events",
            name=unknown[0][:60],
        )  # fmt: skip
    return sorted(set(raw))


def list_endpoints(caller: object) -> list[dict[str, Any]]:
    """Every endpoint, oldest first, without secrets."""
    require_admin(caller)
    try:
        rows = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
        return [endpoint_json(row) for row in rows]
    finally:
        db.session.close()


def delete_endpoint(caller: object, endpoint_id: int) -> None:
    """Delete an endpoint and its deliveries (its events stay for the others)."""
    require_admin(caller)
    try:
        endpoint = _endpoint(endpoint_id)
        db.session.execute(
            WebhookDelivery.__table__.delete().where(WebhookDelivery.endpoint_id == endpoint.id)
        )
        db.session.delete(endpoint)
        db.session.commit()
    finally:
        db.session.close()
    webhook_events.endpoints_known().refresh()


def recent_deliveries(caller: object, endpoint_id: int) -> list[dict[str, Any]]:
    """The endpoint's RECENT newest deliveries, newest first."""
    require_admin(caller)
    try:
        _endpoint(endpoint_id)
        rows = db.session.execute(
            select(WebhookDelivery, WebhookEvent.public_id, WebhookEvent.type)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.event_id.desc())
            .limit(RECENT)
        ).all()
        return [delivery_json(row, public_id, type_) for row, public_id, type_ in rows]
    finally:
        db.session.close()


def redeliver(caller: object, endpoint_id: int, delivery_id: int) -> dict[str, Any]:
    """Queue a delivery again, now, with the same event (same id, same body).

    A disabled endpoint is enabled again: an administrator asking for a delivery says
    the receiver works again, and a delivery to a disabled endpoint would never go.
    In order per conversation, so later events of its conversation wait for it.
    """
    require_admin(caller)
    try:
        endpoint = _endpoint(endpoint_id)
        delivery = db.session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.endpoint_id != endpoint.id:
            raise NotFound("No such delivery.")
        delivery.delivered_at = None
        delivery.given_up_at = None
        delivery.next_attempt_at = utcnow()
        if endpoint.disabled_at is not None:
            db.session.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id == endpoint.id)
                .values(disabled_at=None, disabled_reason=None, failing_since=None)
            )
        db.session.commit()
        event = db.session.get(WebhookEvent, delivery.event_id)
        shown = delivery_json(delivery, event.public_id, event.type)
    finally:
        db.session.close()
    webhook_events.endpoints_known().refresh()
    return shown


def endpoint_json(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """An endpoint as the API shows it (never its secret)."""
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": json.loads(endpoint.events),
        "include_notes": endpoint.include_notes,
        "created_at": isoformat(endpoint.created_at),
        "enabled": endpoint.disabled_at is None,
        "disabled_at": isoformat(endpoint.disabled_at),
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": isoformat(endpoint.failing_since),
    }


def delivery_json(delivery: WebhookDelivery, public_id: str, type_: str) -> dict[str, Any]:
    """A delivery: its event, where it stands (pending, delivered, failed), the tries."""
    if delivery.delivered_at is not None:
        status = "delivered"
    elif delivery.given_up_at is not None:
        status = "failed"
    else:
        status = "pending"
    return {
        "id": delivery.id,
        "event_id": public_id,
        "type": type_,
        "status": status,
        "attempts": delivery.attempts,
        "response_code": delivery.last_status,
        "error": delivery.last_error,
        "created_at": isoformat(delivery.created_at),
        "last_attempt_at": isoformat(delivery.last_attempt_at),
        "next_attempt_at": None if status != "pending" else isoformat(delivery.next_attempt_at),
        "delivered_at": isoformat(delivery.delivered_at),
    }


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint
