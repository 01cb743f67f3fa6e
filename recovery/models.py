"""One-time, expiring account-recovery links and codes, stored only as keyed hashes (porta.core.onetime)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from organizations.models import User
from porta.core.ids import uuid7
from porta.core.onetime import OneTimeToken


class RecoveryKind(models.TextChoices):
    LINK = "link"
    CODE = "code"


class RecoveryToken(OneTimeToken):
    """A recovery link (or the link of a code's page): a one-time token (porta.core.onetime)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_tokens")
    kind = models.CharField(max_length=10, choices=RecoveryKind.choices)
    #: For codes: the keyed hash of the short numeric code entered on the recovery page.
    code_hash = models.CharField(max_length=64, blank=True, default="")
    #: Wrong codes entered so far; the row stops working at recovery.services.MAX_CODE_ATTEMPTS.
    failed_attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"
