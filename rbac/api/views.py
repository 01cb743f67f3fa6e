from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework.response import Response

from applications import selectors as application_selectors
from applications.models import Application
from porta.api.errors import ValidationFailed
from porta.api.schema import collection, list_parameters
from porta.api.viewsets import PortaViewSet
from porta.ids import parse_uuid
from rbac import services
from rbac.api.serializers import PermissionCreateSerializer, PermissionSerializer, PermissionUpdateSerializer
from rbac.filtersets import PermissionFilterSet
from rbac.models import Permission

_FORCE = OpenApiParameter(
    "force", OpenApiTypes.BOOL, description="Delete even if still assigned, removing the assignments"
)


def _query_bool(value: str | None, name: str) -> bool:
    if value is None or value == "":
        return False
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise ValidationFailed(f"{name} must be true or false", details={name: ["Must be true or false."]})


class PermissionViewSet(PortaViewSet):
    """Permissions of one application (``/applications/{id}/permissions``)."""

    queryset = Permission.objects.all()
    organization_field = None  # global, like the application it belongs to
    permission_map = {
        "list": "admin:permission:read",
        "create": "admin:permission:create",
        "retrieve": "admin:permission:read",
        "update": "admin:permission:create",
        "destroy": "admin:permission:archive",
    }
    sort_fields = {"createdAt": "created_at", "name": "name", "slug": "slug"}
    filterset_class = PermissionFilterSet
    output_serializer_class = PermissionSerializer
    serializer_class = PermissionSerializer
    not_found_message = "Permission not found"

    def scoped_queryset(self) -> QuerySet:
        pk = parse_uuid(self.kwargs["application_id"])
        return Permission.objects.filter(application_id=pk) if pk is not None else Permission.objects.none()

    def application(self) -> Application:
        return self.path_parent(
            application_selectors.applications(), "application_id", "Application not found"
        )

    @extend_schema(
        parameters=list_parameters(PermissionFilterSet), responses=collection(PermissionSerializer)
    )
    def list(self, request, application_id=None):
        self.application()
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
        self.application()
        return self.detail_response(self.get_object())

    @extend_schema(request=PermissionUpdateSerializer, responses=PermissionSerializer)
    def update(self, request, application_id=None, pk=None):
        self.application()
        permission = self.get_object()
        data = self.validated(PermissionUpdateSerializer)
        permission = services.permission_update(
            actor=self.principal.actor, permission=permission, precondition=self.if_match, **data
        )
        return self.detail_response(permission)

    @extend_schema(parameters=[_FORCE], request=None, responses={204: None})
    def destroy(self, request, application_id=None, pk=None):
        self.application()
        permission = self.get_object()
        force = _query_bool(request.query_params.get("force"), "force")
        services.permission_delete(
            actor=self.principal.actor, permission=permission, force=force, precondition=self.if_match
        )
        return Response(status=http.HTTP_204_NO_CONTENT)
