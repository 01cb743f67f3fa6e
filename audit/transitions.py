"""The transition engine: each status field has one transition table, and one function applies
a row of it — lock the row, check the precondition (If-Match) and the guards (protected
principals), refuse a move the table does not allow (409), change the state and record the audit
entry, in one transaction. The API's actions, the Django admin actions and bulk jobs all call the
service that calls this, so they cannot disagree about what is allowed.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from audit import services as audit
from audit.writes import Audited, Precondition, lock
from porta.core.context import Actor
from porta.core.errors import InvalidTransition

M = TypeVar("M", bound=Model)


class Transition(NamedTuple):
    """One row of a transition table: ``action → (allowed from, leads to, audit event)``."""

    source: frozenset[str]
    target: str
    event_type: str


@dataclass(slots=True)
class Change:
    """What one application of a transition is doing; handed to a machine's ``effect`` so it can
    write more than the state (a reason, a timestamp) and add to the audit entry."""

    action: str
    transition: Transition
    reason: str | None
    now: datetime.datetime
    #: Fields to save besides the state field (``updated_at`` follows on timestamped models).
    save_fields: list[str] = field(default_factory=list)
    #: Metadata the audit entry carries besides the caller's.
    metadata: dict[str, Any] = field(default_factory=dict)


def _status(row: Any) -> str:
    return row.status


def _no_guard(row: Any, action: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class StateMachine:
    """A status field and its transition table, and how the engine handles a row of that kind."""

    #: What the refusal calls the row: "Cannot suspend organization from status 'archived'".
    noun: str
    table: Mapping[str, Transition]
    audited: Audited
    #: The model field the engine sets to the target state; None for a state derived from other
    #: fields (a revocation timestamp), which ``effect`` then writes.
    field: str | None = "status"
    #: Reads the current state of a row.
    state: Callable[[Any], str] = _status
    #: Raises (403) to refuse an action on a protected row (the super-admin organization…).
    guard: Callable[[Any, str], None] = _no_guard
    #: Locks the row (default: ``SELECT … FOR UPDATE`` of the row alone).
    locking: Callable[[], QuerySet] | None = None
    #: Locks what must be locked before the row, in the order every writer takes them.
    lock_first: Callable[[], object] | None = None
    #: Writes what a move changes besides the state field (see :class:`Change`).
    effect: Callable[[Any, Change], None] | None = None
    #: A move to the state the row is already in changes nothing and is not an error.
    idempotent: bool = False
    #: The 409 message, formatted with ``action``, ``noun`` and ``state``.
    refusal: str = "Cannot {action} {noun} from status '{state}'"


@transaction.atomic
def transition(
    machine: StateMachine,
    row: M,
    action: str,
    *,
    actor: Actor,
    precondition: Precondition | None = None,
    reason: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> M:
    """Apply ``machine.table[action]`` to ``row``; anything the table does not allow is a 409 and
    changes nothing. Returns the row as changed (a fresh, locked instance)."""
    step = machine.table[action]
    if machine.lock_first is not None:
        machine.lock_first()
    row = lock(row, precondition, queryset=machine.locking() if machine.locking is not None else None)
    machine.guard(row, action)
    state = machine.state(row)
    if machine.idempotent and state == step.target:
        return row
    if state not in step.source:
        raise InvalidTransition(machine.refusal.format(action=action, noun=machine.noun, state=state))
    before = machine.audited.snapshot(row)
    change = Change(action=action, transition=step, reason=reason, now=timezone.now())
    if machine.field is not None:
        setattr(row, machine.field, step.target)
    if machine.effect is not None:
        machine.effect(row, change)
    fields = ([machine.field] if machine.field is not None else []) + change.save_fields
    if fields:
        row.save(update_fields=fields)
    machine.audited.record(
        step.event_type,
        actor=actor,
        row=row,
        changes=audit.diff(before, machine.audited.snapshot(row)),
        metadata={**(metadata or {}), **change.metadata} or None,
    )
    return row
