"""Issued API keys and each organization's settings for them.

A key's plaintext is never stored: only the HMAC-SHA256 of the credential under a server pepper
(``issuedkeys.credentials``), a fingerprint of that pepper (peppers rotate) and the last four
characters, to tell keys apart in a list.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q

from porta.core.db import TimestampedModel
from porta.core.durations import format_duration
from porta.core.ids import uuid7

DEFAULT_PREFIX = "porta_ak"
DEFAULT_TTL = datetime.timedelta(hours=168)
DEFAULT_MAX_TTL = datetime.timedelta(hours=17520)


class IssuedApiKey(TimestampedModel):
    """The stored status is ``active`` or ``revoked`` (changed only through the transition engine);
    ``expired`` is derived: an active key whose ``expires_at`` has passed."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        REVOKED = "revoked"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)  # the wire's keyId
    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255)
    #: Whom the organization issued the key to: an opaque id of its own (a user, a service), as
    #: Ory's ``actor_id``; not a foreign key, since the holder need not be a Porta user.
    actor_id = models.CharField(max_length=255, null=True, blank=True)
    scopes = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)  # ≤ 4 KB as compact JSON
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    #: The organization's prefix when the key was minted (a later settings change keeps it).
    prefix = models.CharField(max_length=16, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    #: Fingerprint of the pepper that minted the key: which keys still need an old pepper before
    #: it is retired (verification itself finds the pepper from the key's checksum).
    pepper_id = models.CharField(max_length=16, editable=False)
    last_four = models.CharField(max_length=4, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revocation_reason = models.CharField(max_length=500, null=True, blank=True, editable=False)
    #: The key this one replaced (rotation).
    rotated_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rotated_to", editable=False
    )

    class Meta:
        verbose_name = "issued API key"
        indexes = [
            # Lists (page and cursor mode) and the quota count of non-revoked keys.
            models.Index(fields=["organization", "created_at", "id"], name="issuedkey_org_created_idx"),
            models.Index(
                fields=["organization"], condition=Q(status="active"), name="issuedkey_org_active_idx"
            ),
            models.Index(fields=["organization", "actor_id"], name="issuedkey_org_actor_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "revoked"]), name="issuedkey_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="revoked", revoked_at__isnull=False)
                | Q(status="active", revoked_at__isnull=True),
                name="issuedkey_revoked_at_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}_…{self.last_four})"


class IssuedApiKeySettings(TimestampedModel):
    """Per-organization settings; an organization without a row has the defaults. The row is also
    what issuing locks (``SELECT … FOR UPDATE``), so two issues cannot both take the last slot
    of the quota."""

    organization = models.OneToOneField(
        "organizations.Organization", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    prefix = models.CharField(max_length=16, default=DEFAULT_PREFIX)
    default_ttl = models.DurationField(default=DEFAULT_TTL)
    max_ttl = models.DurationField(default=DEFAULT_MAX_TTL)
    #: Most non-revoked keys the organization may hold; None: unlimited, 0: no new keys.
    quota = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "API key settings"
        verbose_name_plural = "API key settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(default_ttl__lte=models.F("max_ttl")), name="issuedkey_ttl_within_max"
            ),
        ]

    def __str__(self) -> str:
        return f"API key settings of {self.organization_id}"

    @property
    def default_ttl_wire(self) -> str:
        return format_duration(self.default_ttl)

    @property
    def max_ttl_wire(self) -> str:
        return format_duration(self.max_ttl)
