"""Deleting audit entries past their retention: the one way entries leave the trail.

The retention period is the caller's to choose (the admin API's ``POST /audit/cleanup`` and the
daily beat task read the live ``audit_retention_days``; the audit app itself reads no config).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import record
from porta.core.context import Actor
from porta.core.invalidation import rows_changed


@dataclass(frozen=True, slots=True)
class CleanupResult:
    dry_run: bool
    retention_days: int
    cutoff: datetime.datetime
    entries_found: int
    deleted: int


def audit_cleanup(*, actor: Actor, retention_days: int, dry_run: bool = False) -> CleanupResult:
    """Delete every entry older than ``retention_days`` days, or (``dry_run``) only count them.

    The deletion and its own ``audit.cleanup`` entry commit together. The rows go in one
    set-based DELETE on the ``created_at`` index: no row is loaded into memory, and model
    signals are not sent (the list totals are invalidated here instead)."""
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    cutoff = timezone.now() - datetime.timedelta(days=retention_days)
    if dry_run:
        found = AuditEntry.objects.filter(created_at__lt=cutoff).count()
        return CleanupResult(True, retention_days, cutoff, found, 0)
    with transaction.atomic():
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(AuditEntry._meta.db_table)
            bound = connection.ops.adapt_datetimefield_value(cutoff)  # as the ORM stores it (SQLite: text)
            cursor.execute(f"DELETE FROM {table} WHERE created_at < %s", [bound])
            deleted = max(cursor.rowcount, 0)
        record(
            event_type="audit.cleanup",
            actor=actor,
            target_type="audit",
            metadata={"retentionDays": retention_days, "cutoffDate": cutoff, "deleted": deleted},
        )
        rows_changed(AuditEntry)
    return CleanupResult(False, retention_days, cutoff, deleted, deleted)
