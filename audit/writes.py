"""The audited write: how a model shows in the audit trail, and the one way services lock a row,
snapshot its audited fields, diff them and record the entry (for one row or a batch).

Every service used to hand-write its own ``_audit`` wrapper, ``_AUDITED`` map and ``_locked``
helper; an :class:`Audited` description replaces the three, so each resource says once which
fields its entries carry (under their API names), which organization they belong to and what
metadata every entry names.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model, QuerySet

from audit import services as audit
from audit.models import AuditEntry
from porta.core.context import Actor

M = TypeVar("M", bound=Model)

#: Checks a precondition (the request's If-Match) on the locked row; raises to refuse the write.
Precondition = Callable[[Any], None]


def wire_name(attribute: str) -> str:
    """The API (camelCase) name of a model attribute: ``default_locale`` → ``defaultLocale``.
    Audit metadata uses the names a client reads in the API."""
    return re.sub(r"_([a-z0-9])", lambda match: match.group(1).upper(), attribute)


def wire_fields(*attributes: str, **renamed: str) -> dict[str, str]:
    """``{wire name: attribute}`` for audited fields: each attribute under :func:`wire_name`,
    and ``renamed`` (attribute → wire name) where the API calls a field otherwise."""
    fields = {wire_name(attribute): attribute for attribute in attributes}
    fields.update({wire: attribute for attribute, wire in renamed.items()})
    return fields


def _no_organization(row: Any) -> uuid.UUID | None:
    return None


def _own_id(row: Any) -> Any:
    return row.pk


@dataclass(frozen=True, slots=True)
class Audited:
    """How rows of one kind appear in the audit trail."""

    target_type: str
    #: Audited fields, ``{wire name: attribute}`` (see :func:`wire_fields`); never a secret.
    fields: Mapping[str, str]
    #: The organization an entry belongs to (None: global rows such as applications).
    organization: Callable[[Any], uuid.UUID | None] = _no_organization
    #: The id the entry names (a client secret's entries name its client).
    target_id: Callable[[Any], Any] = _own_id
    #: Metadata every entry about the row carries (a module names its application).
    metadata: Callable[[Any], dict[str, Any]] | None = None

    def snapshot(self, row: Any) -> dict[str, Any]:
        """The audited view of ``row``: its audited fields by wire name."""
        return {wire: getattr(row, attribute) for wire, attribute in self.fields.items()}

    def _metadata(self, row: Any, metadata: Mapping[str, Any] | None) -> dict[str, Any] | None:
        merged = {**(self.metadata(row) if self.metadata else {}), **(metadata or {})}
        return merged or None

    def record(
        self,
        event_type: str,
        *,
        actor: Actor,
        row: Any,
        changes: dict[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Append one entry about ``row`` (inside the transaction of the change)."""
        return audit.record(
            event_type=event_type,
            actor=actor,
            organization_id=self.organization(row),
            target_type=self.target_type,
            target_id=self.target_id(row),
            changes=changes,
            metadata=self._metadata(row, metadata),
        )

    def record_created(
        self, event_type: str, *, actor: Actor, row: Any, metadata: Mapping[str, Any] | None = None
    ) -> AuditEntry:
        """The entry of a new row: every audited field, from nothing."""
        return self.record(
            event_type, actor=actor, row=row, changes=audit.diff({}, self.snapshot(row)), metadata=metadata
        )

    def record_deleted(
        self, event_type: str, *, actor: Actor, row: Any, metadata: Mapping[str, Any] | None = None
    ) -> AuditEntry:
        """The entry of a deleted row: every audited field, to nothing."""
        return self.record(
            event_type, actor=actor, row=row, changes=audit.diff(self.snapshot(row), {}), metadata=metadata
        )

    @contextmanager
    def change(
        self, event_type: str, *, actor: Actor, row: Any, metadata: Mapping[str, Any] | None = None
    ) -> Iterator[Any]:
        """Snapshot ``row``, let the block change and save it, then record what changed.
        Nothing is recorded when the block raises."""
        before = self.snapshot(row)
        yield row
        self.record(
            event_type,
            actor=actor,
            row=row,
            changes=audit.diff(before, self.snapshot(row)),
            metadata=metadata,
        )

    def record_created_many(self, event_type: str, *, actor: Actor, rows: Iterable[Any]) -> None:
        """One creation entry per row, written together (a batch import)."""
        audit.record_rows(
            event_type=event_type,
            actor=actor,
            target_type=self.target_type,
            rows=(
                (self.organization(row), self.target_id(row), audit.created_changes(self.snapshot(row)),
                 self._metadata(row, None))
                for row in rows
            ),
        )  # fmt: skip


def lock(row: M, precondition: Precondition | None = None, *, queryset: QuerySet | None = None) -> M:
    """``row`` read again under a row lock (``queryset`` says how, default: the model's manager),
    then ``precondition`` checked on what was locked, so two writers holding the same ETag
    cannot both succeed."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock() must run inside the transaction of the write")
    # ``__class__``, not ``type()``: a request's user is a lazy proxy of the row.
    rows = queryset if queryset is not None else row.__class__._default_manager.select_for_update()
    locked = rows.get(pk=row.pk)
    if precondition is not None:
        precondition(locked)
    return locked
