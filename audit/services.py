"""Writing the audit trail. Services call ``record`` inside their own transaction."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from prometheus_client import Counter

from audit.models import AuditEntry
from porta.core.context import Actor, current_request_context
from porta.core.db import copy_rows, copy_supported, json_value

_JSON_SCALARS = frozenset({str, bool, int, float})
AUDIT_WRITES = Counter("porta_audit_writes_total", "Audit entries committed", ["event_type"])


def _jsonable(value: Any) -> Any:
    if value is None or type(value) in _JSON_SCALARS:
        return value
    if isinstance(value, datetime.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.date | uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"before": old, "after": new}}`` for the fields whose value changed."""
    return {
        key: {"before": _jsonable(before.get(key)), "after": _jsonable(after.get(key))}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def created_changes(after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``diff({}, after)`` in one pass: every field that is not null, from nothing."""
    return {
        key: {"before": None, "after": _jsonable(value)} for key, value in after.items() if value is not None
    }


def entry(
    *,
    event_type: str,
    actor: Actor,
    target_type: str,
    target_id: Any = "",
    organization_id: uuid.UUID | None = None,
    changes: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> AuditEntry:
    """An unsaved entry, stamped with the current request context (see ``record``)."""
    ctx = current_request_context()
    payload = _payload(changes, metadata)
    return AuditEntry(
        event_type=event_type,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label[:255],
        organization_id=organization_id,
        target_type=target_type,
        target_id=str(target_id or ""),
        metadata=payload,
        ip_address=ctx.ip,
        user_agent=(ctx.user_agent or "")[:512],
        request_id=ctx.request_id[:200],
    )


def _payload(changes: dict[str, Any] | None, metadata: dict[str, Any] | None) -> dict[str, Any]:
    payload = dict(_jsonable(metadata or {}))
    if changes:
        payload["changes"] = _jsonable(changes)
    return payload


def _require_transaction(what: str) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"audit.{what}() must be called inside the transaction of the change")


def record(**fields: Any) -> AuditEntry:
    """Append one entry (``fields`` as for ``entry``). Must run inside the transaction of the
    change it describes, so the change and its entry commit or roll back together."""
    _require_transaction("record")
    new = entry(**fields)
    new.save(force_insert=True)
    transaction.on_commit(lambda: AUDIT_WRITES.labels(event_type=new.event_type).inc())
    return new


def record_many(entries: Iterable[AuditEntry]) -> list[AuditEntry]:
    """Append a batch of entries (from ``entry``) inside the transaction of the changes they
    describe: on PostgreSQL with one ``COPY`` (a bulk job writes a thousand entries per chunk, and
    COPY takes them several times faster than a multi-row INSERT), elsewhere with one INSERT per
    thousand. (As before this helper existed, batch entries are not counted in
    ``porta_audit_writes_total``.)"""
    _require_transaction("record_many")
    entries = list(entries)
    connection = transaction.get_connection()
    if connection.vendor != "postgresql" or not entries:
        return AuditEntry.objects.bulk_create(entries, batch_size=1000)
    fields = AuditEntry._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for new in entries:
            copy.write_row(
                [field.get_db_prep_save(field.pre_save(new, True), connection) for field in fields]
            )
    for new in entries:
        new._state.adding = False
        new._state.db = connection.alias
    return entries


def record_rows(
    *,
    event_type: str,
    actor: Actor,
    target_type: str,
    rows: Iterable[tuple[Any, Any, dict | None, dict | None]],
) -> None:
    """Append one entry per ``(organization_id, target_id, changes, metadata)`` (a batch import's
    rows), the same entries as ``record_many(entry(...) for …)`` writes, with one ``COPY`` and
    no model instance per entry: building one costs more than writing it. ``changes`` come from
    ``diff``, whose values are JSON-ready already."""
    _require_transaction("record_rows")
    if not copy_supported():
        record_many(
            entry(event_type=event_type, actor=actor, target_type=target_type, organization_id=organization,
                  target_id=target, changes=changes, metadata=metadata)
            for organization, target, changes, metadata in rows
        )  # fmt: skip
        return
    ctx = current_request_context()
    shared = {
        "event_type": event_type,
        "actor_type": actor.type,
        "actor_id": actor.id,
        "actor_label": actor.label[:255],
        "target_type": target_type,
        "ip_address": ctx.ip or None,  # as the field saves a blank address
        "user_agent": (ctx.user_agent or "")[:512],
        "request_id": ctx.request_id[:200],
    }
    fields = AuditEntry._meta.concrete_fields
    new_id = AuditEntry._meta.pk.default

    def row(organization: Any, target: Any, changes: dict | None, metadata: dict | None) -> list[Any]:
        values = {
            **shared,
            "id": new_id(),
            "created_at": timezone.now(),  # as auto_now_add stamps it, one clock reading per entry
            "organization_id": organization,
            "target_id": str(target or ""),
            "metadata": json_value(
                {**_jsonable(metadata or {}), **({"changes": changes} if changes else {})}
            ),
        }
        return [values[field.attname] for field in fields]

    copy_rows(AuditEntry, [field.column for field in fields], (row(*values) for values in rows))
