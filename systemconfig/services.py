"""Writes to the live settings, audited, and the audit retention that reads them."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.retention import CleanupResult, audit_cleanup
from audit.writes import Audited, Precondition, lock
from porta.core import liveconfig
from porta.core.context import Actor
from porta.core.errors import NotFound, ValidationFailed
from systemconfig.models import ConfigEntry

AUDITED = Audited(target_type="config", fields={"value": "audited_value"})


def config_ensure_rows(**_: Any) -> None:
    """A row (unset) for every defined key that has none; existing values are kept."""
    ConfigEntry.objects.bulk_create(
        [ConfigEntry(key=key) for key in liveconfig.DEFINITIONS], ignore_conflicts=True
    )


def _definition(key: str) -> liveconfig.Definition:
    spec = liveconfig.definition(key)
    if spec is None:
        raise NotFound(f"Config key not found: {key}")
    return spec


@transaction.atomic
def config_set(
    *, actor: Actor, key: str, value: Any, precondition: Precondition | None = None
) -> ConfigEntry:
    """Set ``key`` to ``value`` (typed JSON, within the key's bounds), or back to its default
    with ``None``. Every process uses the new value within PORTA_CONFIG_CHECK_INTERVAL seconds."""
    spec = _definition(key)
    problem = spec.problem(value) if value is not None else None
    if problem is not None:
        raise ValidationFailed(f"Invalid value for {key}: {problem}", details={"value": [problem]})
    entry, _ = ConfigEntry.objects.get_or_create(key=key)
    entry = lock(entry, precondition)
    with AUDITED.change("config.updated", actor=actor, row=entry):
        entry.value = value
        entry.updated_at = timezone.now()
        entry.save(update_fields=["value", "updated_at"])
    liveconfig.changed()
    return entry


def audit_retention_days() -> int:
    return liveconfig.get("audit_retention_days")


def audit_retention_run(
    *, actor: Actor, retention_days: int | None = None, dry_run: bool = False
) -> CleanupResult:
    """Delete (or count) the audit entries older than ``retention_days``, by default the live
    ``audit_retention_days``."""
    days = retention_days if retention_days is not None else audit_retention_days()
    return audit_cleanup(actor=actor, retention_days=days, dry_run=dry_run)
