"""``POST /bulk/organizations/status`` and ``POST /bulk/users/status``."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from bulk import jobs, services
from bulk.api.serializers import (
    BulkOrganizationStatusSerializer,
    BulkResultSerializer,
    BulkUserStatusSerializer,
)
from bulk.targets import ORGANIZATIONS, USERS, BulkTarget
from jobs.api.responses import enqueue_job
from jobs.api.serializers import JobAcceptedSerializer
from organizations.models import Organization, User
from porta.api.viewsets import PortaViewSet
from porta.core.errors import NotFound

_RESPONSES = {
    200: OpenApiResponse(BulkResultSerializer, description="The ids form: one result per id"),
    202: OpenApiResponse(JobAcceptedSerializer, description="The filter form: the job that applies it"),
}


class _BulkStatusViewSet(PortaViewSet):
    target: ClassVar[BulkTarget]
    input_serializer: ClassVar[type]
    #: The permission the single-item action needs, by bulk action (the route's own permission,
    #: in ``permission_map``, lets the caller in; this is checked once the action is known).
    action_permissions: ClassVar[dict[str, str]]

    def _require_action_permission(self, name: str) -> None:
        required = self.action_permissions[name]
        if required not in self.principal.authorization.permissions:
            raise PermissionDenied(f"Insufficient permissions. Required: {required}")

    def scope(self, data: dict[str, Any]) -> QuerySet:
        """The rows the request may act on (tenancy applied)."""
        return self.get_queryset()

    def job_organization(self, data: dict[str, Any]) -> Any:
        """The organization a job of the filter form acts within (None: every organization)."""
        return self.principal.scope_organization_id

    def _change_status(self) -> Response:
        data = self.validated(self.input_serializer)
        self._require_action_permission(data["action"])
        rows = self.scope(data)
        reason = data.get("reason") or None
        if "filter" in data:
            organization_id = self.job_organization(data)
            return enqueue_job(
                self,
                kind=jobs.kind_name(self.target),
                organization_id=organization_id,
                parameters=jobs.parameters(
                    organization_id=organization_id,
                    filters=dict(data["filter"]),
                    action=data["action"],
                    reason=reason,
                ),
            )
        result = services.bulk_change_status(
            target=self.target,
            actor=self.principal.actor,
            rows=rows,
            ids=data["ids"],
            action=data["action"],
            reason=reason,
        )
        return Response(result)


class BulkOrganizationViewSet(_BulkStatusViewSet):
    """Organizations are a global resource: an organization-scoped credential has one
    organization and changes it with the single-item action (403 here, as on the list)."""

    queryset = Organization.objects.all()
    organization_field = None
    target = ORGANIZATIONS
    input_serializer = BulkOrganizationStatusSerializer
    permission_map = {"change_status": "admin:org:suspend"}
    action_permissions = {
        "suspend": "admin:org:suspend",
        "activate": "admin:org:suspend",
        "archive": "admin:org:archive",
        "restore": "admin:org:archive",
    }

    @extend_schema(request=BulkOrganizationStatusSerializer, responses=_RESPONSES)
    @action(detail=False, methods=["post"], url_path="status")
    def change_status(self, request):
        """Suspend, activate, archive or restore up to 100 organizations by id (200, one result
        each, partial success allowed), or every organization a filter selects (202, a job).
        Each goes through the single-item action's transition table, guard and audit. Archive
        and restore also need `admin:org:archive`."""
        return self._change_status()


class BulkUserViewSet(_BulkStatusViewSet):
    """Users of one organization (``organizationId``); ids of another organization are per-item
    not found, another tenant's ``organizationId`` is a 404."""

    queryset = User.objects.all()
    organization_field = "organization_id"
    target = USERS
    input_serializer = BulkUserStatusSerializer
    permission_map = {"change_status": "admin:user:suspend"}
    action_permissions = {name: "admin:user:suspend" for name in USERS.actions}

    def scope(self, data: dict[str, Any]) -> QuerySet:
        organization_id = data["organizationId"]
        self.check_body_organization(organization_id)
        if not Organization.objects.filter(pk=organization_id).exists():
            raise NotFound("Organization not found")
        return self.get_queryset().filter(organization_id=organization_id)

    def job_organization(self, data: dict[str, Any]) -> Any:
        return data["organizationId"]

    @extend_schema(request=BulkUserStatusSerializer, responses=_RESPONSES)
    @action(detail=False, methods=["post"], url_path="status")
    def change_status(self, request):
        """Deactivate, reactivate, suspend, unsuspend, lock, unlock (or `activate`: from inactive
        or suspended) up to 100 users of `organizationId` by id (200, one result each, partial
        success allowed), or every user of it a filter selects (202, a job). Each goes through
        the single-item action's transition table, guard and audit."""
        return self._change_status()
