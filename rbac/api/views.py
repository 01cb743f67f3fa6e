from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response

from applications.models import Application
from porta.api.query import query_bool
from porta.api.schema import collection, list_parameters
from porta.api.viewsets import PathParent, PortaViewSet
from rbac import selectors
from rbac.api.query import FORCE_PARAMETER
from rbac.api.serializers import (
    PermissionCreateSerializer,
    PermissionSerializer,
    PermissionUpdateSerializer,
    RoleSerializer,
)
from rbac.filtersets import PermissionFilterSet
from rbac.models import Permission
from rbac.services import permissions as services


class PermissionViewSet(PortaViewSet):
    """Permissions of one application (``/applications/{id}/permissions``)."""

    queryset = Permission.objects.all()
    parent = PathParent(kwarg="application_id", field="application", not_found="Application not found")
    organization_field = None  # global, like the application it belongs to
    permission_map = {
        "list": "admin:permission:read",
        "create": "admin:permission:create",
        "retrieve": "admin:permission:read",
        "update": "admin:permission:create",
        "destroy": "admin:permission:archive",
        "roles": "admin:permission:read",
    }
    sort_fields = {"createdAt": "created_at", "name": "name", "slug": "slug"}
    filterset_class = PermissionFilterSet
    output_serializer_class = PermissionSerializer
    serializer_class = PermissionSerializer
    not_found_message = "Permission not found"

    def application(self) -> Application:
        return self.path_parent()

    @extend_schema(
        parameters=list_parameters(PermissionFilterSet), responses=collection(PermissionSerializer)
    )
    def list(self, request, application_id=None):
        return self.list_response()

    @extend_schema(request=PermissionCreateSerializer, responses={201: PermissionSerializer})
    def create(self, request, application_id=None):
        application = self.application()
        data = self.validated(PermissionCreateSerializer)
        permission = services.permission_create(actor=self.principal.actor, application=application, **data)
        return self.created_response(
            permission, f"/api/admin/applications/{application.id}/permissions/{permission.id}"
        )

    @extend_schema(responses=PermissionSerializer)
    def retrieve(self, request, application_id=None, pk=None):
        return self.detail_response(self.get_object())

    @extend_schema(request=PermissionUpdateSerializer, responses=PermissionSerializer)
    def update(self, request, application_id=None, pk=None):
        permission = self.get_object()
        data = self.validated(PermissionUpdateSerializer)
        permission = services.permission_update(
            actor=self.principal.actor, permission=permission, precondition=self.if_match, **data
        )
        return self.detail_response(permission)

    @extend_schema(parameters=[FORCE_PARAMETER], request=None, responses={204: None})
    def destroy(self, request, application_id=None, pk=None):
        permission = self.get_object()
        force = query_bool(request.query_params.get("force"), "force")
        services.permission_delete(
            actor=self.principal.actor, permission=permission, force=force, precondition=self.if_match
        )
        return Response(status=http.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=list_parameters(), responses=collection(RoleSerializer))
    @action(detail=True, methods=["get"])
    def roles(self, request, application_id=None, pk=None):
        """The roles that grant this permission."""
        permission = self.get_object()
        return self.unscoped_list_response(
            selectors.roles_granting(permission.id),
            serializer=RoleSerializer,
            sort_fields={"createdAt": "created_at", "name": "name", "slug": "slug"},
        )
