"""Roles of one application (``/applications/{id}/roles``) and the permissions each grants."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response

from applications.models import Application
from organizations.api.user_serializers import UserSerializer
from porta.api.query import query_bool, query_uuid
from porta.api.schema import collection, list_parameters
from porta.api.viewsets import PathParent, PortaViewSet
from rbac import selectors
from rbac.api.query import FORCE_PARAMETER
from rbac.api.serializers import (
    PermissionIdsSerializer,
    PermissionSerializer,
    RoleCreateSerializer,
    RoleSerializer,
    RoleUpdateSerializer,
)
from rbac.filtersets import RoleFilterSet
from rbac.models import Role
from rbac.services import roles as services

_ORGANIZATION_FILTER = OpenApiParameter(
    "organizationId", OpenApiTypes.UUID, description="Only holders in this organization"
)
_NAMED_SORT = {"createdAt": "created_at", "name": "name", "slug": "slug"}


class RoleViewSet(PortaViewSet):
    """Roles are global, like the application they belong to: organization-scoped credentials get
    403. Roles of the ``porta-admin`` application are Porta's admin roles."""

    queryset = Role.objects.all()
    parent = PathParent(kwarg="application_id", field="application", not_found="Application not found")
    organization_field = None
    permission_map = {
        "list": "admin:role:read",
        "create": "admin:role:create",
        "retrieve": "admin:role:read",
        "update": "admin:role:update",
        "destroy": "admin:role:archive",
        "permissions": "admin:role:read",
        "assign_permissions": "admin:role:update",
        "remove_permissions": "admin:role:update",
        "users": "admin:role:read",
    }
    sort_fields = _NAMED_SORT
    filterset_class = RoleFilterSet
    output_serializer_class = RoleSerializer
    serializer_class = RoleSerializer
    not_found_message = "Role not found"

    def application(self) -> Application:
        return self.path_parent()

    def role(self) -> Role:
        return self.get_object()

    @extend_schema(parameters=list_parameters(RoleFilterSet), responses=collection(RoleSerializer))
    def list(self, request, application_id=None):
        return self.list_response()

    @extend_schema(request=RoleCreateSerializer, responses={201: RoleSerializer})
    def create(self, request, application_id=None):
        application = self.application()
        data = self.validated(RoleCreateSerializer)
        role = services.role_create(actor=self.principal.actor, application=application, **data)
        return self.created_response(role, f"/api/admin/applications/{application.id}/roles/{role.id}")

    @extend_schema(responses=RoleSerializer)
    def retrieve(self, request, application_id=None, pk=None):
        return self.detail_response(self.role())

    @extend_schema(request=RoleUpdateSerializer, responses=RoleSerializer)
    def update(self, request, application_id=None, pk=None):
        role = self.role()
        data = self.validated(RoleUpdateSerializer)
        role = services.role_update(actor=self.principal.actor, role=role, precondition=self.if_match, **data)
        return self.detail_response(role)

    @extend_schema(parameters=[FORCE_PARAMETER], request=None, responses={204: None})
    def destroy(self, request, application_id=None, pk=None):
        role = self.role()
        force = query_bool(request.query_params.get("force"), "force")
        services.role_delete(actor=self.principal.actor, role=role, force=force, precondition=self.if_match)
        return Response(status=http.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=list_parameters(), responses=collection(PermissionSerializer))
    @action(detail=True, methods=["get"])
    def permissions(self, request, application_id=None, pk=None):
        role = self.role()
        return self.unscoped_list_response(
            selectors.permissions_of_role(role.id), serializer=PermissionSerializer, sort_fields=_NAMED_SORT
        )

    @extend_schema(request=PermissionIdsSerializer, responses={204: None})
    @permissions.mapping.put
    def assign_permissions(self, request, application_id=None, pk=None):
        role = self.role()
        data = self.validated(PermissionIdsSerializer)
        services.role_permissions_assign(
            actor=self.principal.actor,
            authorization=self.principal.authorization,
            role=role,
            permission_ids=data["permissionIds"],
        )
        return Response(status=http.HTTP_204_NO_CONTENT)

    @extend_schema(request=PermissionIdsSerializer, responses={204: None})
    @permissions.mapping.delete
    def remove_permissions(self, request, application_id=None, pk=None):
        role = self.role()
        data = self.validated(PermissionIdsSerializer)
        services.role_permissions_remove(
            actor=self.principal.actor, role=role, permission_ids=data["permissionIds"]
        )
        return Response(status=http.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[_ORGANIZATION_FILTER, *list_parameters()], responses=collection(UserSerializer)
    )
    @action(detail=True, methods=["get"])
    def users(self, request, application_id=None, pk=None):
        """The users holding the role, of every organization or of ``organizationId``."""
        role = self.role()
        holders = selectors.holders_of(role.id, organization_id=query_uuid(request, "organizationId"))
        return self.unscoped_list_response(
            holders,
            serializer=UserSerializer,
            sort_fields={"createdAt": "created_at", "email": "email"},
        )
