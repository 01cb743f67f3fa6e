from __future__ import annotations

from django.db import models

from porta.core.db import TimestampedModel
from porta.core.ids import uuid7


class Permission(TimestampedModel):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    application = models.ForeignKey(
        "applications.Application", on_delete=models.CASCADE, related_name="permissions"
    )
    name = models.CharField(max_length=255)
    slug = models.CharField(max_length=150)
    description = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "slug"], name="permission_slug_per_app")
        ]

    def __str__(self) -> str:
        return self.slug


class Role(TimestampedModel):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    application = models.ForeignKey(
        "applications.Application", on_delete=models.CASCADE, related_name="roles"
    )
    name = models.CharField(max_length=255)
    slug = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    is_system = models.BooleanField(default=False)
    permissions = models.ManyToManyField(Permission, through="RolePermission", related_name="roles")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "slug"], name="role_slug_per_app")]

    def __str__(self) -> str:
        return self.slug


class RolePermission(models.Model):
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="role_permissions")
    permission = models.ForeignKey(Permission, on_delete=models.CASCADE, related_name="role_permissions")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["role", "permission"], name="role_permission_unique")]

    def __str__(self) -> str:
        return f"{self.role_id} → {self.permission_id}"


class UserRole(models.Model):
    user = models.ForeignKey("organizations.User", on_delete=models.CASCADE, related_name="user_roles")
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="user_roles")
    assigned_by = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="user_role_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.role_id}"
