"""Reads of the audit trail."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from audit.models import AuditEntry


def audit_entries() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.all()


def history_of(target_type: str, target_id: uuid.UUID | str) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(target_type=target_type, target_id=str(target_id))
