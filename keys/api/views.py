from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response

from keys import selectors, services
from keys.api.serializers import (
    SigningKeyGenerateSerializer,
    SigningKeyRotatedSerializer,
    SigningKeySerializer,
)
from keys.filtersets import SigningKeyFilterSet
from keys.models import SigningKey
from porta.api.schema import collection, list_parameters
from porta.api.viewsets import PortaViewSet


class SigningKeyViewSet(PortaViewSet):
    """ES256 signing keys (global). Lifecycle: next → active → retired, or revoked at any point."""

    queryset = SigningKey.objects.all()
    organization_field = None  # global: organization-scoped credentials get 403
    permission_map = {
        "list": "admin:key:read",
        "retrieve": "admin:key:read",
        "create": "admin:key:generate",
        "rotate": "admin:key:rotate",
        "revoke": "admin:key:rotate",
    }
    filterset_class = SigningKeyFilterSet
    output_serializer_class = SigningKeySerializer
    serializer_class = SigningKeySerializer
    not_found_message = "Signing key not found"

    def scoped_queryset(self) -> QuerySet:
        return selectors.signing_keys()

    @extend_schema(
        parameters=list_parameters(SigningKeyFilterSet), responses=collection(SigningKeySerializer)
    )
    def list(self, request):
        """Signing keys, newest first. Never includes private material."""
        return self.list_response()

    @extend_schema(request=SigningKeyGenerateSerializer, responses={201: SigningKeySerializer})
    def create(self, request):
        """Generate a key pair. By default it is published as `next` (in the JWKS, not signing yet)
        and becomes active at the next rotation."""
        self.get_queryset()  # the tenancy rule first: org-scoped credentials get 403
        data = self.validated(SigningKeyGenerateSerializer)
        key = services.signing_key_generate(actor=self.principal.actor, status=data["status"])
        return self.created_response(key, f"/api/admin/keys/{key.id}")

    @extend_schema(responses=SigningKeySerializer)
    def retrieve(self, request, pk=None):
        return self.detail_response(self.get_object())

    @extend_schema(request=None, responses={201: SigningKeyRotatedSerializer})
    @action(detail=False, methods=["post"])
    def rotate(self, request):
        """Make a new key active and retire every previously active key. The waiting `next` key is
        promoted when there is one (else a key is generated); then a fresh `next` key is published.
        Retired keys stay in the JWKS until the access-token lifetime plus 60 s has passed."""
        self.get_queryset()
        result = services.signing_key_rotate(actor=self.principal.actor)
        body = {
            **self.represent(result.active),
            "retiredCount": result.retired_count,
            "nextKey": self.represent(result.next_key) if result.next_key is not None else None,
        }
        return Response(
            body, status=http.HTTP_201_CREATED, headers={"Location": f"/api/admin/keys/{result.active.id}"}
        )

    @extend_schema(request=None, responses=SigningKeySerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Withdraw a key at once: it leaves the JWKS and tokens it signed fail on the next request.
        The only active key cannot be revoked (409): rotate first, then revoke the retired key."""
        key = services.signing_key_revoke(actor=self.principal.actor, key=self.get_object())
        return self.detail_response(key)
