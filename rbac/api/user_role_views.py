"""The roles a user holds: ``/organizations/{orgId}/users/{userId}/roles`` and
``/users/{userId}/roles``. rbac registers these routes itself (rbac/api/urls.py); the user in the
path is found, and scoped, by the base viewset exactly as by every other user operation."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response

from organizations.models import User
from porta.api.query import query_uuid
from porta.api.schema import collection, list_parameters
from porta.api.viewsets import PathParent, PortaViewSet
from rbac import selectors
from rbac.api.serializers import ResolvedPermissionsSerializer, RoleIdsSerializer, RoleSerializer
from rbac.services import assignments as services

USER_ROLE_PERMISSIONS = {
    "roles": "admin:role:read",
    "assign_roles": "admin:role:assign",
    "remove_roles": "admin:role:assign",
    "resolved_permissions": "admin:role:read",
}
_APPLICATION_FILTER = OpenApiParameter(
    "applicationId", OpenApiTypes.UUID, description="Only roles (and permissions) of this application"
)


class UserRoleViewSet(PortaViewSet):
    """A user addressed without its organization (``/users/{id}``)."""

    # The docstring is the schema's description of the actions without their own, as when these
    # were actions of the user viewsets. The ``pk`` path keyword names the user (rows are users).
    queryset = User.objects.all()
    organization_field = "organization_id"
    permission_map = USER_ROLE_PERMISSIONS
    serializer_class = RoleSerializer
    not_found_message = "User not found"

    def user(self) -> User:
        return self.get_object()

    @extend_schema(parameters=[_APPLICATION_FILTER, *list_parameters()], responses=collection(RoleSerializer))
    @action(detail=False, methods=["get"])
    def roles(self, request, pk=None, **kwargs: Any):
        user = self.user()
        roles = selectors.roles_of_user(user.id)
        application_id = query_uuid(request, "applicationId")
        if application_id is not None:
            roles = roles.filter(application_id=application_id)
        return self.unscoped_list_response(
            roles, serializer=RoleSerializer, sort_fields={"createdAt": "created_at", "slug": "slug"}
        )

    @extend_schema(request=RoleIdsSerializer, responses={204: None})
    @roles.mapping.put
    def assign_roles(self, request, pk=None, **kwargs: Any):
        user = self.user()
        data = self.validated(RoleIdsSerializer)
        services.user_roles_assign(
            actor=self.principal.actor,
            authorization=self.principal.authorization,
            user=user,
            role_ids=data["roleIds"],
        )
        return Response(status=http.HTTP_204_NO_CONTENT)

    @extend_schema(request=RoleIdsSerializer, responses={204: None})
    @roles.mapping.delete
    def remove_roles(self, request, pk=None, **kwargs: Any):
        user = self.user()
        data = self.validated(RoleIdsSerializer)
        services.user_roles_remove(
            actor=self.principal.actor,
            authorization=self.principal.authorization,
            user=user,
            role_ids=data["roleIds"],
        )
        return Response(status=http.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=[_APPLICATION_FILTER], responses=ResolvedPermissionsSerializer)
    @action(detail=False, methods=["get"], url_path="roles/permissions")
    def resolved_permissions(self, request, pk=None, **kwargs: Any):
        """The user's role slugs and the permission slugs they grant: for one application (the
        resolution tokens use), or across all of them."""
        user = self.user()
        application_id = query_uuid(request, "applicationId")
        if application_id is None:
            resolution = selectors.resolve_everywhere(user.id)
        else:
            resolution = selectors.resolve(user.id, application_id)
        return Response(
            {
                "userId": str(user.id),
                "applicationId": str(application_id) if application_id else None,
                "roles": list(resolution.roles),
                "permissions": list(resolution.permissions),
            }
        )


class OrganizationUserRoleViewSet(UserRoleViewSet):
    """Users of one organization (``/organizations/{orgId}/users``, the organization by id or
    slug; the base viewset resolves it, and scopes it, before any action runs)."""

    parent = PathParent(
        kwarg="organization_id",
        field="organization",
        not_found="Organization not found",
        organization_field="id",
    )
