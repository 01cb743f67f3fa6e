from __future__ import annotations

import datetime

from django.db import models

from porta.core import liveconfig
from porta.core.ids import uuid7

#: Clock skew tolerated when checking ``exp``/``nbf``; a retired key outlives its last token by it.
VERIFICATION_LEEWAY_SECONDS = 60


def retired_key_retention() -> datetime.timedelta:
    """How long a retired key keeps verifying: the longest access-token lifetime plus the leeway,
    so every token it signed has expired before it leaves the JWKS. The lifetime is the live
    ``access_token_ttl``: after lowering it, tokens issued under the longer one may stop verifying
    early (a retired key leaves sooner), never later."""
    return datetime.timedelta(seconds=liveconfig.get("access_token_ttl") + VERIFICATION_LEEWAY_SECONDS)


class SigningKeyStatus(models.TextChoices):
    NEXT = "next"  # published in JWKS, not yet signing
    ACTIVE = "active"  # signs new tokens
    RETIRED = "retired"  # verifies tokens it signed until they expire
    REVOKED = "revoked"  # gone: its tokens fail at once


class SigningKey(models.Model):
    """An ES256 (P-256) key pair. The private key is stored only encrypted (AES-GCM under a KEK)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    kid = models.CharField(max_length=64, unique=True)
    algorithm = models.CharField(max_length=10, default="ES256")
    status = models.CharField(
        max_length=10, choices=SigningKeyStatus.choices, default=SigningKeyStatus.ACTIVE
    )
    public_key_pem = models.TextField()
    private_key_ciphertext = models.BinaryField()
    kek_id = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kid} ({self.status})"

    @property
    def published_until(self) -> datetime.datetime | None:
        """When a retired key drops out of the JWKS and verification (None: no end planned)."""
        if self.status != SigningKeyStatus.RETIRED or self.retired_at is None:
            return None
        return self.retired_at + retired_key_retention()
