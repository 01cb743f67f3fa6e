from __future__ import annotations

import uuid_utils.compat as uuid_compat
from django.db import models


def uuid7():
    # Local twin of porta.core.ids.uuid7: the audit app depends on nothing but Django.
    return uuid_compat.uuid7()


class AuditEntry(models.Model):
    """One recorded change. Append-only: rows are written once and never updated.

    Organization and actor are plain UUIDs, not foreign keys, so the trail survives the deletion
    of what it describes (an organization delete keeps its ``org.destroyed`` entry).
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, editable=False)
    event_type = models.CharField(max_length=100, editable=False)
    actor_type = models.CharField(max_length=20, editable=False)
    actor_id = models.UUIDField(null=True, blank=True, editable=False)
    actor_label = models.CharField(max_length=255, blank=True, default="", editable=False)
    organization_id = models.UUIDField(null=True, blank=True, editable=False)
    target_type = models.CharField(max_length=50, editable=False)
    target_id = models.CharField(max_length=255, blank=True, default="", editable=False)
    metadata = models.JSONField(default=dict, blank=True, editable=False)
    ip_address = models.GenericIPAddressField(null=True, blank=True, editable=False)
    user_agent = models.CharField(max_length=512, blank=True, default="", editable=False)
    request_id = models.CharField(max_length=200, blank=True, default="", editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="audit_created_idx"),
            models.Index(fields=["organization_id", "-created_at", "-id"], name="audit_org_created_idx"),
            models.Index(fields=["target_type", "target_id", "-created_at"], name="audit_target_idx"),
            models.Index(fields=["actor_id", "-created_at"], name="audit_actor_idx"),
            models.Index(fields=["event_type", "-created_at"], name="audit_event_idx"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.event_type} {self.target_type}:{self.target_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("Audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Audit entries are append-only; use the retention cleanup")
