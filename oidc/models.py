from __future__ import annotations

from django.db import models

from porta.ids import uuid7


class RefreshToken(models.Model):
    """A rotating refresh token, stored as a keyed hash. Tokens rotated from one login share a
    family; presenting a spent token revokes the whole family (RFC 9700 §4.14)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    token_hash = models.CharField(max_length=64, unique=True)
    family_id = models.UUIDField(db_index=True)
    user = models.ForeignKey("organizations.User", on_delete=models.CASCADE, related_name="refresh_tokens")
    client = models.ForeignKey("applications.Client", on_delete=models.CASCADE, related_name="refresh_tokens")
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="refresh_tokens"
    )
    scope = models.CharField(max_length=1000, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token {self.id} (family {self.family_id})"
