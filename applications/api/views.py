from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from applications.api.serializers import (
    ApplicationCreateSerializer,
    ApplicationSerializer,
    ApplicationUpdateSerializer,
    ModuleCreateSerializer,
    ModuleSerializer,
    ModuleUpdateSerializer,
)
from applications.filtersets import ApplicationFilterSet, ModuleFilterSet
from applications.models import Application, Module
from applications.selectors import applications as selectors
from applications.services import applications as services
from audit.api.serializers import AuditEntrySerializer
from audit.api.views import history_response
from porta.api.schema import collection, list_parameters
from porta.api.viewsets import PathParent, PortaViewSet

_SORT_FIELDS = {"createdAt": "created_at", "updatedAt": "updated_at", "name": "name", "slug": "slug"}


class ApplicationViewSet(PortaViewSet):
    """Applications: global products that roles, permissions, claims and clients hang off."""

    queryset = Application.objects.all()
    organization_field = None  # global: organization-scoped credentials get 403
    permission_map = {
        "list": "admin:app:read",
        "create": "admin:app:create",
        "retrieve": "admin:app:read",
        "update": "admin:app:update",
        "archive": "admin:app:archive",
        "activate": "admin:app:update",
        "deactivate": "admin:app:update",
        "history": "admin:app:read",
    }
    sort_fields = _SORT_FIELDS
    filterset_class = ApplicationFilterSet
    output_serializer_class = ApplicationSerializer
    serializer_class = ApplicationSerializer
    not_found_message = "Application not found"

    def scoped_queryset(self) -> QuerySet:
        return selectors.applications()

    @extend_schema(
        parameters=list_parameters(ApplicationFilterSet), responses=collection(ApplicationSerializer)
    )
    def list(self, request):
        return self.list_response()

    @extend_schema(request=ApplicationCreateSerializer, responses={201: ApplicationSerializer})
    def create(self, request):
        data = self.validated(ApplicationCreateSerializer)
        application = services.application_create(actor=self.principal.actor, **data)
        return self.created_response(application, f"/api/admin/applications/{application.id}")

    @extend_schema(responses=ApplicationSerializer)
    def retrieve(self, request, pk=None):
        return self.detail_response(self.get_object())

    @extend_schema(request=ApplicationUpdateSerializer, responses=ApplicationSerializer)
    def update(self, request, pk=None):
        application = self.get_object()
        data = self.validated(ApplicationUpdateSerializer)
        application = services.application_update(
            actor=self.principal.actor, application=application, precondition=self.if_match, **data
        )
        return self.detail_response(application)

    def _transition(self, action_name: str) -> Response:
        application = self.get_object()
        application = services.application_transition(
            actor=self.principal.actor,
            application=application,
            action=action_name,
            precondition=self.if_match,
        )
        return self.detail_response(application)

    @extend_schema(request=None, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._transition("archive")

    @extend_schema(request=None, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        return self._transition("activate")

    @extend_schema(request=None, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        return self._transition("deactivate")

    @extend_schema(parameters=list_parameters(), responses=collection(AuditEntrySerializer))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        application = self.get_object()
        return history_response(self, "application", application.id)


class ModuleViewSet(PortaViewSet):
    """Modules of one application (``/applications/{id}/modules``)."""

    queryset = Module.objects.all()
    parent = PathParent(kwarg="application_id", field="application", not_found="Application not found")
    organization_field = None  # global, like the application it belongs to
    permission_map = {
        "list": "admin:app:read",
        "create": "admin:app:update",
        "retrieve": "admin:app:read",
        "update": "admin:app:update",
        "deactivate": "admin:app:update",
    }
    sort_fields = _SORT_FIELDS
    filterset_class = ModuleFilterSet
    output_serializer_class = ModuleSerializer
    serializer_class = ModuleSerializer
    not_found_message = "Module not found"

    def application(self) -> Application:
        return self.path_parent()

    @extend_schema(parameters=list_parameters(ModuleFilterSet), responses=collection(ModuleSerializer))
    def list(self, request, application_id=None):
        return self.list_response()

    @extend_schema(request=ModuleCreateSerializer, responses={201: ModuleSerializer})
    def create(self, request, application_id=None):
        application = self.application()
        data = self.validated(ModuleCreateSerializer)
        module = services.module_create(actor=self.principal.actor, application=application, **data)
        return self.created_response(module, f"/api/admin/applications/{application.id}/modules/{module.id}")

    @extend_schema(responses=ModuleSerializer)
    def retrieve(self, request, application_id=None, pk=None):
        return self.detail_response(self.get_object())

    @extend_schema(request=ModuleUpdateSerializer, responses=ModuleSerializer)
    def update(self, request, application_id=None, pk=None):
        module = self.get_object()
        data = self.validated(ModuleUpdateSerializer)
        module = services.module_update(
            actor=self.principal.actor, module=module, precondition=self.if_match, **data
        )
        return self.detail_response(module)

    @extend_schema(request=None, responses=ModuleSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, application_id=None, pk=None):
        module = self.get_object()
        module = services.module_deactivate(
            actor=self.principal.actor, module=module, precondition=self.if_match
        )
        return self.detail_response(module)
