from __future__ import annotations

from django.contrib import auth
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import _user_has_perm
from django.db import models
from django.db.models.functions import Lower

from porta.core.db import TimestampedModel
from porta.core.ids import uuid7
from porta.core.onetime import OneTimeToken


class OrganizationStatus(models.TextChoices):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ARCHIVED = "archived"


#: How a user may sign in; organizations set a default, clients may narrow it.
LOGIN_METHODS = ("password", "magic_link")


def default_login_methods() -> list[str]:
    return list(LOGIN_METHODS)


class Organization(TimestampedModel):
    """A tenant. Exactly one organization is the super-admin organization holding Porta's admins."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=255)
    slug = models.CharField(max_length=100, unique=True)
    status = models.CharField(
        max_length=20, choices=OrganizationStatus.choices, default=OrganizationStatus.ACTIVE
    )
    is_super_admin = models.BooleanField(default=False, editable=False)
    default_locale = models.CharField(max_length=10, default="en")
    default_login_methods = models.JSONField(default=default_login_methods)
    two_factor_policy = models.CharField(max_length=20, default="optional")
    branding_logo_url = models.URLField(max_length=2048, null=True, blank=True)
    branding_favicon_url = models.URLField(max_length=2048, null=True, blank=True)
    branding_primary_color = models.CharField(max_length=7, null=True, blank=True)
    branding_company_name = models.CharField(max_length=255, null=True, blank=True)
    branding_custom_css = models.TextField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_super_admin"],
                condition=models.Q(is_super_admin=True),
                name="org_single_super_admin",
            ),
        ]
        indexes = [
            # Keyset orders for the list endpoint: (sort column, id).
            models.Index(fields=["created_at", "id"], name="org_created_idx"),
            models.Index(fields=["updated_at", "id"], name="org_updated_idx"),
            models.Index(fields=["name", "id"], name="org_name_idx"),
            models.Index(fields=["status", "created_at", "id"], name="org_status_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"


class UserStatus(models.TextChoices):
    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"
    LOCKED = "locked"


class UserManager(BaseUserManager):
    use_in_migrations = True


class User(AbstractBaseUser, TimestampedModel):
    """A user of one organization. Porta's admins are users of the super-admin organization."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="users")
    email = models.CharField(max_length=255)
    email_verified = models.BooleanField(default=False)
    given_name = models.CharField(max_length=255, blank=True, default="")
    family_name = models.CharField(max_length=255, blank=True, default="")
    # The remaining OIDC standard claims (OpenID Connect Core §5.1).
    middle_name = models.CharField(max_length=255, null=True, blank=True)
    nickname = models.CharField(max_length=255, null=True, blank=True)
    preferred_username = models.CharField(max_length=255, null=True, blank=True)
    profile_url = models.URLField(max_length=2048, null=True, blank=True)
    picture_url = models.URLField(max_length=2048, null=True, blank=True)
    website_url = models.URLField(max_length=2048, null=True, blank=True)
    gender = models.CharField(max_length=50, null=True, blank=True)
    birthdate = models.DateField(null=True, blank=True)
    zoneinfo = models.CharField(max_length=64, null=True, blank=True)
    locale = models.CharField(max_length=10, null=True, blank=True)
    phone_number = models.CharField(max_length=32, null=True, blank=True)
    phone_number_verified = models.BooleanField(default=False)
    address = models.JSONField(null=True, blank=True)
    external_id = models.CharField(max_length=255, null=True, blank=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=UserStatus.choices, default=UserStatus.ACTIVE)
    status_reason = models.CharField(max_length=500, blank=True, default="")
    failed_login_count = models.PositiveIntegerField(default=0)
    #: When the account was locked (null unless locked): an automatic lock ends after the live
    #: ``lockout_duration`` from here.
    locked_at = models.DateTimeField(null=True, blank=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), "organization", name="user_email_per_org_ci"),
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="user_external_id_per_org",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "created_at", "id"], name="user_org_created_idx"),
            models.Index(fields=["organization", "updated_at", "id"], name="user_org_updated_idx"),
            models.Index(fields=["organization", "email", "id"], name="user_org_email_idx"),
            # The prefix-search indexes (organization, UPPER(col) text_pattern_ops) for email and
            # names are PostgreSQL-only and created by migration 0003 (RunPython on PostgreSQL).
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_active(self) -> bool:  # Django auth reads this to refuse inactive accounts.
        return self.status == UserStatus.ACTIVE

    @property
    def is_staff(self) -> bool:
        """May use the Django admin: an active admin of the super-admin organization."""
        if not self.is_active or not self.organization.is_super_admin:
            return False
        return _backends_answer(self, "holds_admin_role")

    @property
    def is_superuser(self) -> bool:
        return self.is_staff and _backends_answer(self, "holds_super_admin_role")

    def has_perm(self, perm: str, obj=None) -> bool:
        return self.is_staff and _user_has_perm(self, perm, obj)

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_staff


def _backends_answer(user: User, question: str) -> bool:
    """What the authentication backends say about ``user`` (rbac's answers from the user's admin
    roles: see rbac.auth_backends); organizations knows no roles itself."""
    return any(
        getattr(backend, question)(user) for backend in auth.get_backends() if hasattr(backend, question)
    )


class Invitation(OneTimeToken):
    """An invitation to join an organization: a one-time token (porta.core.onetime: keyed hash, single
    use) valid for 7 days. Issuing a new one marks the user's earlier unused invitations as used."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    created_at = models.DateTimeField(auto_now_add=True)
    #: Roles and claim values the inviter chose, checked when invited and applied on acceptance:
    #: ``{"roleIds": [...], "claims": [{"claimId": ..., "value": ...}]}``.
    pre_assignments = models.JSONField(default=dict, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "used_at"], name="invitation_user_open_idx")]

    def __str__(self) -> str:
        return f"Invitation {self.id} for user {self.user_id}"
