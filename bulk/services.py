"""Bulk status changes: each item through the single-item service (the ids form), or many rows
at once with set-based SQL in chunks (the filter form, run as a job).

Both apply the same transition table, the same guard and write the same audit entry per changed
item; the set-based path only does it for a thousand rows per statement instead of one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit import services as audit
from audit.models import AuditEntry
from audit.transitions import Change
from bulk.targets import BulkTarget
from porta.core.context import Actor
from porta.core.errors import ApiError
from porta.core.invalidation import principals_changed, rows_changed

#: How many failed items a job's result names (the counts cover all of them).
FAILURES_LISTED = 100


def _item(
    pk: Any, *, previous: str | None, new: str | None = None, error: str | None = None
) -> dict[str, Any]:
    return {
        "id": str(pk),
        "success": error is None,
        "previousStatus": previous,
        "newStatus": new,
        "error": error,
    }


def bulk_change_status(
    *,
    target: BulkTarget,
    actor: Actor,
    rows: QuerySet,
    ids: list[uuid.UUID],
    action: str,
    reason: str | None = None,
) -> dict[str, Any]:
    """Apply ``action`` to each of ``ids`` among ``rows`` (the caller's scope): one transaction
    per item through the single-item service, so partial success is allowed and each item is
    locked, guarded, refused (409) or changed and audited exactly as ``POST …/{id}/{action}``.
    An id outside ``rows`` is a per-item "not found". The item's previous status is read under
    the lock the service then takes again in the same transaction, so it is the status the
    change was made (or refused) from."""
    machine = target.machine
    results = []
    for pk in ids:
        previous = None
        try:
            with transaction.atomic():
                if machine.lock_first is not None:
                    machine.lock_first()
                row = rows.select_for_update(of=("self",)).filter(pk=pk).first()
                if row is None:
                    results.append(_item(pk, previous=None, error=target.not_found))
                    continue
                previous = machine.state(row)
                table_action = target.table_action(action, previous)
                changed = target.apply(actor=actor, row=row, action=table_action, reason=reason)
        except ApiError as exc:
            results.append(_item(pk, previous=previous, error=exc.message))
            continue
        results.append(_item(pk, previous=previous, new=machine.state(changed)))
    succeeded = sum(1 for result in results if result["success"])
    return {"total": len(ids), "succeeded": succeeded, "failed": len(ids) - succeeded, "results": results}


# -- set-based ------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What a set-based run has done so far; kept in the job's checkpoint between chunks."""

    after: str | None = None  # the last id handled: the next chunk starts after it
    done: int = 0
    succeeded: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, state: dict[str, Any] | None) -> Tally:
        return cls(**(state or {}))

    def dump(self) -> dict[str, Any]:
        return {
            "after": self.after,
            "done": self.done,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "errors": dict(self.errors),
            "failures": list(self.failures),
        }

    def fail(self, pk: Any, previous: str, error: str) -> None:
        self.failed += 1
        self.errors[error] = self.errors.get(error, 0) + 1
        if len(self.failures) < FAILURES_LISTED:
            self.failures.append(_item(pk, previous=previous, error=error))

    def result(self, total: int) -> dict[str, Any]:
        return {
            "total": total,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "errors": dict(self.errors),
            "failures": list(self.failures),
        }


@dataclass(frozen=True, slots=True)
class _Step:
    """One row of the table as the set-based UPDATE writes it: the values every row gets."""

    action: str
    values: dict[str, Any]
    change: Change


def _steps(target: BulkTarget, action: str, reason: str | None) -> dict[str, _Step]:
    """For each row of the table ``action`` may mean: the values the single-item engine would
    write (the state, what the machine's ``effect`` writes besides, ``updated_at``). The effect
    runs on a blank row, so an effect must depend on the move and not on the row (true of every
    table bulk serves: a reason, a counter reset)."""
    machine = target.machine
    now = timezone.now()
    steps = {}
    for name in target.candidates(action):
        change = Change(action=name, transition=machine.table[name], reason=reason, now=now)
        row = target.model()
        setattr(row, machine.field, change.transition.target)
        if machine.effect is not None:
            machine.effect(row, change)
        written = [machine.field, *change.save_fields]
        values = {attribute: getattr(row, attribute) for attribute in written}
        values["updated_at"] = now
        steps[name] = _Step(action=name, values=values, change=change)
    return steps


def _audited_values(target: BulkTarget, values: dict[str, Any]) -> dict[str, Any]:
    """``{wire name: value}`` of the audited fields among ``values``."""
    return {wire: values[attr] for wire, attr in target.machine.audited.fields.items() if attr in values}


def apply_chunk(
    *,
    target: BulkTarget,
    actor: Actor,
    rows: QuerySet,
    action: str,
    reason: str | None,
    tally: Tally,
    size: int,
    metadata: dict[str, Any] | None = None,
) -> int:
    """Change the next ``size`` rows of ``rows`` (after ``tally.after``, in id order) that the
    table allows, set-based: lock them, one UPDATE per row of the table (still conditioned on the
    source states, so a replay changes nothing), one INSERT of their audit entries. Must run in
    the caller's transaction, which also stores ``tally`` (the checkpoint): a chunk and the
    record that it is done commit together, so a worker killed mid-job applies no item twice.
    Returns how many rows the chunk read (0: nothing left)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("apply_chunk() must run inside the transaction that stores its checkpoint")
    machine = target.machine
    steps = _steps(target, action, reason)
    audited = set(machine.audited.fields.values())
    written = {attribute for step in steps.values() for attribute in step.values if attribute in audited}
    fields = sorted({"pk", machine.field, target.organization_field, *written})
    chunk = rows.order_by("pk")
    if tally.after is not None:
        chunk = chunk.filter(pk__gt=tally.after)
    # Plain values, not model instances: a chunk reads a thousand rows, and the engine's callables
    # (state, audited organization and target id) read only these attributes.
    locked = [
        SimpleNamespace(**values) for values in chunk.select_for_update(of=("self",)).values(*fields)[:size]
    ]
    if not locked:
        return 0
    guard_refusal = target.guard_refusal(action)
    protected = target.protected_ids() if guard_refusal is not None else frozenset()
    by_step: dict[str, list] = {name: [] for name in steps}
    for row in locked:
        state = machine.state(row)
        if row.pk in protected:
            tally.fail(row.pk, state, guard_refusal)
            continue
        name = next((n for n in steps if state in machine.table[n].source), None)
        if name is None:
            tally.fail(row.pk, state, target.refusal(action, state))
            continue
        by_step[name].append(row)
    entries = []
    for name, changing in by_step.items():
        if not changing:
            continue
        step = steps[name]
        target.model._default_manager.filter(
            pk__in=[row.pk for row in changing], **{f"{machine.field}__in": step.change.transition.source}
        ).update(**step.values)
        entries.extend(_entries(target, actor, step, changing, reason, metadata))
        tally.succeeded += len(changing)
    if entries:
        audit.record_many(entries)
        rows_changed(target.model)
        rows_changed(AuditEntry)
        principals_changed()
    tally.done += len(locked)
    tally.after = str(locked[-1].pk)
    return len(locked)


def _entries(
    target: BulkTarget,
    actor: Actor,
    step: _Step,
    rows: Iterable[Any],
    reason: str | None,
    metadata: dict[str, Any] | None,
) -> list[AuditEntry]:
    """The entry the single-item engine records for each row: the same event, target,
    organization, change of the audited fields and metadata (plus ``metadata``, e.g. the job)."""
    audited = target.machine.audited
    after = _audited_values(target, step.values)
    extra = {
        **(target.audit_metadata(step.action, reason) or {}),
        **step.change.metadata,
        **(metadata or {}),
    }
    return [
        audit.entry(
            event_type=step.change.transition.event_type,
            actor=actor,
            organization_id=audited.organization(row),
            target_type=audited.target_type,
            target_id=audited.target_id(row),
            changes=audit.diff({wire: getattr(row, audited.fields[wire]) for wire in after}, after),
            metadata={**(audited.metadata(row) if audited.metadata else {}), **extra} or None,
        )
        for row in rows
    ]
