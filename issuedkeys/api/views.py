"""The organization-scoped routes of issued API keys: ``/organizations/{orgId}/api-keys…`` and
``/organizations/{orgId}/api-key-settings``. The organization in the path is resolved, and scoped,
by the base viewset (by id or slug) before any action runs."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response

from issuedkeys import selectors, services
from issuedkeys.api.serializers import (
    ApiKeySettingsSerializer,
    ApiKeySettingsUpdateSerializer,
    IssuedApiKeyCreatedSerializer,
    IssuedApiKeyCreateSerializer,
    IssuedApiKeyRotateSerializer,
    IssuedApiKeySerializer,
    IssuedApiKeyUpdateSerializer,
    QuotaExceededSerializer,
    RevokeSerializer,
)
from issuedkeys.filtersets import IssuedApiKeyFilterSet
from issuedkeys.models import IssuedApiKey
from organizations.models import Organization
from porta.api.schema import collection, list_parameters
from porta.api.viewsets import PathParent, PortaViewSet

_QUOTA_EXCEEDED = OpenApiResponse(
    QuotaExceededSerializer, description="PaymentRequired: the organization's API key quota is used up"
)


class IssuedApiKeyViewSet(PortaViewSet):
    """API keys an organization issues to its own users and services (not admin credentials)."""

    queryset = selectors.issued_api_keys()
    organization_field = "organization_id"
    parent = PathParent(
        kwarg="organization_id",
        field="organization",
        not_found="Organization not found",
        organization_field="id",
    )
    permission_map = {
        "list": "admin:issued-key:read",
        "retrieve": "admin:issued-key:read",
        "create": "admin:issued-key:create",
        "partial_update": "admin:issued-key:update",
        "revoke": "admin:issued-key:revoke",
        "rotate": "admin:issued-key:create",
    }
    sort_fields = {"createdAt": "created_at", "name": "name"}
    filterset_class = IssuedApiKeyFilterSet
    output_serializer_class = IssuedApiKeySerializer
    serializer_class = IssuedApiKeySerializer
    not_found_message = "API key not found"

    def scoped_queryset(self) -> QuerySet:
        return selectors.issued_api_keys()

    def _secret_response(self, key: IssuedApiKey, secret: str) -> Response:
        body = {"issuedApiKey": self.represent(key), "secret": secret, "warning": services.SECRET_WARNING}
        location = f"/api/admin/organizations/{key.organization_id}/api-keys/{key.id}"
        return Response(body, status=http.HTTP_201_CREATED, headers={"Location": location})

    @extend_schema(
        parameters=list_parameters(IssuedApiKeyFilterSet), responses=collection(IssuedApiKeySerializer)
    )
    def list(self, request, **kwargs: Any):
        return self.list_response()

    @extend_schema(
        request=IssuedApiKeyCreateSerializer,
        responses={201: IssuedApiKeyCreatedSerializer, 402: _QUOTA_EXCEEDED},
    )
    def create(self, request, **kwargs: Any):
        """Issue a key; the response carries its secret, the only time it is shown."""
        organization = self.path_parent()
        data = self.validated(IssuedApiKeyCreateSerializer)
        key, secret = services.issued_api_key_create(
            actor=self.principal.actor, organization_id=organization.id, **data
        )
        return self._secret_response(key, secret)

    @extend_schema(responses=IssuedApiKeySerializer)
    def retrieve(self, request, pk=None, **kwargs: Any):
        return self.detail_response(self.get_object())

    @extend_schema(request=IssuedApiKeyUpdateSerializer, responses=IssuedApiKeySerializer)
    def partial_update(self, request, pk=None, **kwargs: Any):
        key = self.get_object()
        data = self.validated(IssuedApiKeyUpdateSerializer)
        key = services.issued_api_key_update(
            actor=self.principal.actor, key=key, precondition=self.if_match, **data
        )
        return self.detail_response(key)

    @extend_schema(request=RevokeSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None, **kwargs: Any):
        """Irreversible; the key stays listed as revoked."""
        key = self.get_object()
        data = self.validated(RevokeSerializer)
        services.issued_api_key_revoke(
            actor=self.principal.actor, key=key, reason=data.get("reason") or None, precondition=self.if_match
        )
        return Response(status=http.HTTP_204_NO_CONTENT)

    @extend_schema(request=IssuedApiKeyRotateSerializer, responses={201: IssuedApiKeyCreatedSerializer})
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None, **kwargs: Any):
        """A new key and secret in place of this one, which is revoked at once (same transaction)."""
        key = self.get_object()
        data = self.validated(IssuedApiKeyRotateSerializer)
        new, secret = services.issued_api_key_rotate(
            actor=self.principal.actor, key=key, precondition=self.if_match, **data
        )
        return self._secret_response(new, secret)


class ApiKeySettingsViewSet(PortaViewSet):
    """An organization's settings for the keys it issues. Rows are organizations (``pk`` in the
    path names one, by id or slug); an organization that never changed them has the defaults."""

    queryset = Organization.objects.all()
    organization_field = "id"
    permission_map = {
        "api_key_settings": "admin:issued-key:read",
        "update_api_key_settings": "admin:issued-key:update",
    }
    output_serializer_class = ApiKeySettingsSerializer
    serializer_class = ApiKeySettingsSerializer
    not_found_message = "Organization not found"

    @extend_schema(responses=ApiKeySettingsSerializer)
    @action(detail=False, methods=["get"], url_path="api-key-settings")
    def api_key_settings(self, request, pk=None, **kwargs: Any):
        organization = self.get_object()
        return self.detail_response(services.api_key_settings_of(organization.id))

    @extend_schema(request=ApiKeySettingsUpdateSerializer, responses=ApiKeySettingsSerializer)
    @api_key_settings.mapping.put
    def update_api_key_settings(self, request, pk=None, **kwargs: Any):
        organization = self.get_object()
        data = self.validated(ApiKeySettingsUpdateSerializer)
        row = services.api_key_settings_update(
            actor=self.principal.actor, organization_id=organization.id, precondition=self.if_match, **data
        )
        return self.detail_response(row)
