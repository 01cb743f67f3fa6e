from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from audit.api.serializers import AuditEntrySerializer
from audit.api.views import history_response
from organizations import selectors, services
from organizations.api.serializers import (
    DeleteResultSerializer,
    OrganizationCreateSerializer,
    OrganizationSerializer,
    OrganizationUpdateSerializer,
    ReasonSerializer,
    SlugValidationSerializer,
)
from organizations.filtersets import OrganizationFilterSet
from organizations.models import Organization
from porta.api.query import query_bool
from porta.api.schema import collection, list_parameters
from porta.api.viewsets import PortaViewSet
from porta.core.errors import ValidationFailed


class OrganizationViewSet(PortaViewSet):
    """Tenants: create, read, update, suspend, archive, delete."""

    queryset = Organization.objects.all()
    organization_field = "id"
    global_actions = frozenset({"list", "create", "validate_slug"})
    permission_map = {
        "list": "admin:org:read",
        "create": "admin:org:create",
        "retrieve": "admin:org:read",
        "update": "admin:org:update",
        "destroy": "admin:org:archive",
        "validate_slug": "admin:org:read",
        "suspend": "admin:org:suspend",
        "activate": "admin:org:suspend",
        "archive": "admin:org:archive",
        "restore": "admin:org:archive",
        "history": "admin:org:read",
    }
    sort_fields = {
        "createdAt": "created_at",
        "updatedAt": "updated_at",
        "name": "name",
        "slug": "slug",
    }
    filterset_class = OrganizationFilterSet
    output_serializer_class = OrganizationSerializer
    serializer_class = OrganizationSerializer
    not_found_message = "Organization not found"

    def scoped_queryset(self) -> QuerySet:
        return selectors.organizations()

    @extend_schema(
        parameters=list_parameters(OrganizationFilterSet), responses=collection(OrganizationSerializer)
    )
    def list(self, request):
        return self.list_response()

    @extend_schema(request=OrganizationCreateSerializer, responses={201: OrganizationSerializer})
    def create(self, request):
        data = self.validated(OrganizationCreateSerializer)
        organization = services.organization_create(actor=self.principal.actor, **data)
        return self.created_response(organization, f"/api/admin/organizations/{organization.id}")

    @extend_schema(responses=OrganizationSerializer)
    def retrieve(self, request, pk=None):
        return self.detail_response(self.get_object())

    @extend_schema(request=OrganizationUpdateSerializer, responses=OrganizationSerializer)
    def update(self, request, pk=None):
        organization = self.get_object()
        data = self.validated(OrganizationUpdateSerializer)
        organization = services.organization_update(
            actor=self.principal.actor, organization=organization, precondition=self.if_match, **data
        )
        return self.detail_response(organization)

    @extend_schema(
        parameters=[OpenApiParameter("dryRun", OpenApiTypes.BOOL)],
        responses={200: DeleteResultSerializer},
    )
    def destroy(self, request, pk=None):
        organization = self.get_object()
        dry_run = query_bool(request.query_params.get("dryRun"), "dryRun")
        deleted, counts = services.organization_delete(
            actor=self.principal.actor, organization=organization, dry_run=dry_run, precondition=self.if_match
        )
        body = {"organization": self.represent(deleted), "cascadeCounts": counts}
        if dry_run:
            body["dryRun"] = True
        return Response(body)

    @extend_schema(
        parameters=[OpenApiParameter("slug", OpenApiTypes.STR, required=True)],
        responses=SlugValidationSerializer,
    )
    @action(detail=False, methods=["get"], url_path="validate-slug")
    def validate_slug(self, request):
        slug = request.query_params.get("slug")
        if slug is None:
            raise ValidationFailed(
                "slug is required", details={"slug": ["This query parameter is required."]}
            )
        problem = services.slug_validation_error(slug)
        return Response({"isValid": True} if problem is None else {"isValid": False, "error": problem})

    def _transition(self, action_name: str) -> Response:
        organization = self.get_object()
        data = self.validated(ReasonSerializer)
        organization = services.organization_transition(
            actor=self.principal.actor,
            organization=organization,
            action=action_name,
            reason=data.get("reason"),
            precondition=self.if_match,
        )
        return self.detail_response(organization)

    @extend_schema(request=ReasonSerializer, responses=OrganizationSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        return self._transition("suspend")

    @extend_schema(request=ReasonSerializer, responses=OrganizationSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        return self._transition("activate")

    @extend_schema(request=ReasonSerializer, responses=OrganizationSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._transition("archive")

    @extend_schema(request=ReasonSerializer, responses=OrganizationSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        return self._transition("restore")

    @extend_schema(parameters=list_parameters(), responses=collection(AuditEntrySerializer))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        organization = self.get_object()
        return history_response(self, "organization", organization.id)
