from __future__ import annotations

from django.db import models
from django.utils import timezone

from porta.core.ids import uuid7


class Session(models.Model):
    """One login: what a user started at a token endpoint with one client. Its refresh tokens
    belong to it and its access tokens carry its id (``sid``), so revoking it ends them all."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey("organizations.User", on_delete=models.CASCADE, related_name="sessions")
    client = models.ForeignKey("applications.Client", on_delete=models.CASCADE, related_name="sessions")
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="sessions"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Keyset pagination on (created_at, id), overall and within an organization or user.
            models.Index(fields=["created_at", "id"], name="oidc_session_created"),
            models.Index(fields=["organization", "created_at", "id"], name="oidc_session_org_created"),
            models.Index(fields=["user", "created_at", "id"], name="oidc_session_user_created"),
            models.Index(fields=["expires_at"], name="oidc_session_expires"),
        ]

    def __str__(self) -> str:
        return f"session {self.id}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


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
    # Null only for tokens issued before sessions existed.
    session = models.ForeignKey(
        Session, on_delete=models.CASCADE, null=True, blank=True, related_name="refresh_tokens"
    )
    scope = models.CharField(max_length=1000, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token {self.id} (family {self.family_id})"


class AuthorizationCode(models.Model):
    """A one-time code from ``/auth/authorize``, stored as a keyed hash. It is bound to its client,
    redirect URI, PKCE challenge and the session the login started; spending it twice revokes the
    refresh-token family it was exchanged for (RFC 6749 §4.1.2)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    code_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(
        "applications.Client", on_delete=models.CASCADE, related_name="authorization_codes"
    )
    user = models.ForeignKey(
        "organizations.User", on_delete=models.CASCADE, related_name="authorization_codes"
    )
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="authorization_codes"
    )
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="authorization_codes")
    redirect_uri = models.CharField(max_length=2048)
    scope = models.CharField(max_length=1000, blank=True, default="")
    nonce = models.CharField(max_length=512, blank=True, default="")
    code_challenge = models.CharField(max_length=128, blank=True, default="")
    code_challenge_method = models.CharField(max_length=10, blank=True, default="")
    auth_time = models.DateTimeField()
    family_id = models.UUIDField(default=uuid7)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="oidc_authcode_expires")]

    def __str__(self) -> str:
        return f"authorization code {self.id}"

    # authlib's AuthorizationCodeMixin
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce or None

    def get_auth_time(self) -> int:
        return int(self.auth_time.timestamp())
