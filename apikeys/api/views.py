from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response

from apikeys import selectors, services
from apikeys.api.serializers import ApiKeyCreatedSerializer, ApiKeyCreateSerializer, ApiKeySerializer
from apikeys.filtersets import ApiKeyFilterSet
from porta.api.schema import collection, list_parameters
from porta.api.viewsets import PortaViewSet


class ApiKeyViewSet(PortaViewSet):
    """Admin API keys (``porta_pat_`` for one organization, ``porta_wak_`` for all).

    Managing keys is a global resource: a credential scoped to one organization (such as a
    ``porta_pat_`` key) gets 403 here. The catalogue has no ``admin:apikey:*`` permissions, so
    the signing-key ones stand in: minting and revoking need ``admin:key:generate``, reading
    ``admin:key:read``.
    """

    queryset = selectors.api_keys()
    organization_field = None
    permission_map = {
        "list": "admin:key:read",
        "retrieve": "admin:key:read",
        "create": "admin:key:generate",
        "revoke": "admin:key:generate",
    }
    sort_fields = {"createdAt": "created_at", "name": "name", "expiresAt": "expires_at"}
    filterset_class = ApiKeyFilterSet
    output_serializer_class = ApiKeySerializer
    serializer_class = ApiKeySerializer
    not_found_message = "API key not found"

    def scoped_queryset(self) -> QuerySet:
        return selectors.api_keys()

    @extend_schema(parameters=list_parameters(ApiKeyFilterSet), responses=collection(ApiKeySerializer))
    def list(self, request):
        return self.list_response()

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: ApiKeyCreatedSerializer})
    def create(self, request):
        data = self.validated(ApiKeyCreateSerializer)
        key, secret = services.api_key_create(
            actor=self.principal.actor,
            authorization=self.principal.authorization,
            created_by_id=self.principal.user.id,
            **data,
        )
        body = {"apiKey": self.represent(key), "secret": secret, "warning": services.SECRET_WARNING}
        return Response(
            body, status=http.HTTP_201_CREATED, headers={"Location": f"/api/admin/api-keys/{key.id}"}
        )

    @extend_schema(responses=ApiKeySerializer)
    def retrieve(self, request, pk=None):
        return self.detail_response(self.get_object())

    @extend_schema(request=None, responses=ApiKeySerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        key = services.api_key_revoke(actor=self.principal.actor, key=self.get_object())
        return self.detail_response(key)
