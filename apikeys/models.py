"""Admin API keys: long-lived credentials for the admin API, after Ory's project (``porta_pat_``,
one organization) and workspace (``porta_wak_``, every organization) keys."""

from __future__ import annotations

from django.db import models

from porta.core.db import TimestampedModel
from porta.core.ids import uuid7

ORGANIZATION_PREFIX = "porta_pat"
GLOBAL_PREFIX = "porta_wak"
PREFIXES = (ORGANIZATION_PREFIX, GLOBAL_PREFIX)


class AdminApiKey(TimestampedModel):
    """The secret itself is never stored: only its keyed hash (the lookup key) and last four
    characters (to tell keys apart in a list)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=200)
    #: None: a global (workspace) key that may act on every organization.
    organization = models.ForeignKey(
        "organizations.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    roles = models.JSONField(default=list)  # porta-* role slugs of the porta-admin application
    prefix = models.CharField(max_length=16, editable=False)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    last_four = models.CharField(max_length=4, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: The admin who minted it. The key never holds more than its creator holds now, and stops
    #: working if the creator is removed or deactivated.
    created_by = models.ForeignKey(
        "organizations.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "admin API key"
        indexes = [models.Index(fields=["created_at", "id"], name="apikey_created_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}_…{self.last_four})"
