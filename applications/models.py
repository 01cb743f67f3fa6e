from __future__ import annotations

from django.db import models

from porta.core.db import TimestampedModel
from porta.core.ids import uuid7


class ApplicationStatus(models.TextChoices):
    ACTIVE = "active"
    INACTIVE = "inactive"
    ARCHIVED = "archived"


#: The application Porta itself is administered through: rbac seeds its admin roles and
#: ``admin:*`` permissions in it, and it can be neither archived nor deleted.
ADMIN_APP_SLUG = "porta-admin"


class Application(TimestampedModel):
    """A product that organizations' users sign in to; roles, permissions and claims hang off it."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=255)
    slug = models.CharField(max_length=100, unique=True)
    description = models.TextField(max_length=2000, null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=ApplicationStatus.choices, default=ApplicationStatus.ACTIVE
    )

    class Meta:
        indexes = [models.Index(fields=["created_at", "id"], name="app_created_idx")]

    def __str__(self) -> str:
        return self.slug


class ModuleStatus(models.TextChoices):
    ACTIVE = "active"
    INACTIVE = "inactive"


class Module(TimestampedModel):
    """A part of an application (billing, reporting…); slugs are unique within the application."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="modules")
    name = models.CharField(max_length=255)
    slug = models.CharField(max_length=100)
    description = models.TextField(max_length=2000, null=True, blank=True)
    status = models.CharField(max_length=20, choices=ModuleStatus.choices, default=ModuleStatus.ACTIVE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "slug"], name="module_slug_per_app")]
        indexes = [models.Index(fields=["application", "created_at", "id"], name="module_app_created_idx")]

    def __str__(self) -> str:
        return f"{self.application_id}/{self.slug}"


class ClientStatus(models.TextChoices):
    ACTIVE = "active"
    INACTIVE = "inactive"
    REVOKED = "revoked"


class Client(TimestampedModel):
    """An OIDC client of one application, registered for one organization."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="clients"
    )
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="clients")
    client_id = models.CharField(max_length=100, unique=True)
    client_name = models.CharField(max_length=255)
    client_type = models.CharField(max_length=20)  # confidential | public
    application_type = models.CharField(max_length=20)  # web | native | spa
    redirect_uris = models.JSONField(default=list)
    post_logout_redirect_uris = models.JSONField(default=list)
    grant_types = models.JSONField(default=list)
    response_types = models.JSONField(default=list)
    scope = models.CharField(max_length=1000, default="openid profile email")
    token_endpoint_auth_method = models.CharField(max_length=40, default="none")
    allowed_origins = models.JSONField(default=list)
    require_pkce = models.BooleanField(default=True)
    login_methods = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=ClientStatus.choices, default=ClientStatus.ACTIVE)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "created_at", "id"], name="client_org_created_idx"),
            models.Index(fields=["application", "created_at", "id"], name="client_app_created_idx"),
            models.Index(fields=["created_at", "id"], name="client_created_idx"),
            models.Index(fields=["client_name", "id"], name="client_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.client_name} ({self.client_id})"


class ClientSecretStatus(models.TextChoices):
    ACTIVE = "active"
    REVOKED = "revoked"


class ClientSecret(TimestampedModel):
    """One secret of a confidential client. Several can be active at once, so a secret can be
    rotated without downtime. Only a keyed hash (HMAC-SHA256 with the server pepper) is stored."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="secrets")
    label = models.CharField(max_length=255, blank=True, default="")
    secret_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=20, choices=ClientSecretStatus.choices, default=ClientSecretStatus.ACTIVE
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["client", "status"], name="client_secret_status_idx")]

    def __str__(self) -> str:
        return f"secret {self.id} of {self.client_id} ({self.status})"


class ClaimType(models.TextChoices):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    JSON = "json"


class ClaimDefinition(TimestampedModel):
    """A custom claim of an application; names are unique within the application."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="claims")
    name = models.CharField(max_length=100)
    claim_type = models.CharField(max_length=20, choices=ClaimType.choices)
    description = models.TextField(max_length=1000, null=True, blank=True)
    include_in_id_token = models.BooleanField(default=False)
    include_in_access_token = models.BooleanField(default=False)
    include_in_userinfo = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "name"], name="claim_name_per_app")]
        indexes = [models.Index(fields=["application", "created_at", "id"], name="claim_app_created_idx")]

    def __str__(self) -> str:
        return f"{self.application_id}/{self.name}"


class ClaimValue(TimestampedModel):
    """The value of one custom claim for one user."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    claim = models.ForeignKey(ClaimDefinition, on_delete=models.CASCADE, related_name="values")
    user = models.ForeignKey("organizations.User", on_delete=models.CASCADE, related_name="claim_values")
    value = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["claim", "user"], name="claim_value_per_user")]
        indexes = [models.Index(fields=["user", "claim"], name="claim_value_user_idx")]

    def __str__(self) -> str:
        return f"{self.claim_id}:{self.user_id}"
