"""The roles a user holds (``/organizations/{orgId}/users/{userId}/roles``), mixed into the user
viewsets so the user in the path is found, and scoped, exactly as every other user operation."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response

from porta.api.query import query_uuid
from porta.api.schema import collection, list_parameters
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


class UserRoleActions:
    """Needs ``user()`` (the user in the path, scoped) from the viewset it is mixed into."""

    @extend_schema(parameters=[_APPLICATION_FILTER, *list_parameters()], responses=collection(RoleSerializer))
    @action(detail=True, methods=["get"])
    def roles(self, request, pk=None, **kwargs: Any):
        user = self.user()
        roles = selectors.roles_of_user(user.id)
        application_id = query_uuid(request, "applicationId")
        if application_id is not None:
            roles = roles.filter(application_id=application_id)
        return self.list_response(
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
    @action(detail=True, methods=["get"], url_path="roles/permissions")
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
