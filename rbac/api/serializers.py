from __future__ import annotations

from rest_framework import serializers

from porta.api.serializers import ReadSerializer, StrictSerializer, TimestampField


class PermissionSerializer(ReadSerializer):
    """The wire representation of a permission of an application."""

    id = serializers.UUIDField()
    applicationId = serializers.UUIDField(source="application_id")
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")


class PermissionCreateSerializer(StrictSerializer):
    ignored_fields = frozenset({"id", "createdAt", "updatedAt", "applicationId"})

    name = serializers.CharField(min_length=1, max_length=255)
    slug = serializers.CharField(min_length=1, max_length=150)
    description = serializers.CharField(max_length=1000, allow_null=True, allow_blank=True, required=False)


class PermissionUpdateSerializer(PermissionCreateSerializer):
    name = serializers.CharField(min_length=1, max_length=255, required=False)
    slug = serializers.CharField(max_length=150, required=False)


class RoleSerializer(ReadSerializer):
    """The wire representation of a role of an application."""

    id = serializers.UUIDField()
    applicationId = serializers.UUIDField(source="application_id")
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    isSystem = serializers.BooleanField(source="is_system")
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")


class RoleCreateSerializer(StrictSerializer):
    ignored_fields = frozenset({"id", "createdAt", "updatedAt", "applicationId", "isSystem"})

    name = serializers.CharField(min_length=1, max_length=255)
    slug = serializers.CharField(min_length=1, max_length=100, required=False)
    description = serializers.CharField(max_length=1000, allow_null=True, allow_blank=True, required=False)


class RoleUpdateSerializer(RoleCreateSerializer):
    name = serializers.CharField(min_length=1, max_length=255, required=False)


#: One call assigns at most this many ids: a role holds hundreds of permissions, not millions.
ASSIGNMENT_MAX = 1000


class PermissionIdsSerializer(StrictSerializer):
    permissionIds = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=ASSIGNMENT_MAX
    )


class RoleIdsSerializer(StrictSerializer):
    roleIds = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=ASSIGNMENT_MAX)


class ResolvedPermissionsSerializer(serializers.Serializer):
    """A user's roles and the permissions they grant, for one application or for all of them."""

    userId = serializers.UUIDField()
    applicationId = serializers.UUIDField(allow_null=True)
    roles = serializers.ListField(child=serializers.CharField())
    permissions = serializers.ListField(child=serializers.CharField())


def user_roles_export(user) -> list[dict]:
    """The ``roles`` section of a user's export (organizations.api.user_export)."""
    from rbac.selectors import assignments_of_user

    return [
        {
            "roleId": str(assignment.role_id),
            "slug": assignment.role.slug,
            "name": assignment.role.name,
            "applicationId": str(assignment.role.application_id),
        }
        for assignment in assignments_of_user(user.id)
    ]
