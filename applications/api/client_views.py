from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response

from applications.api.client_serializers import (
    ClientCreatedSerializer,
    ClientCreateSerializer,
    ClientSecretCreatedSerializer,
    ClientSecretCreateSerializer,
    ClientSecretListSerializer,
    ClientSecretSerializer,
    ClientSerializer,
    ClientUpdateSerializer,
)
from applications.client_filtersets import ClientFilterSet
from applications.models import Client
from applications.selectors import clients as client_selectors
from applications.services import clients as client_services
from audit.api.serializers import AuditEntrySerializer
from audit.api.views import history_response
from porta.api.schema import collection, list_parameters
from porta.api.viewsets import PortaViewSet
from porta.core.errors import NotFound
from porta.core.ids import parse_uuid

_SECRET_ID = OpenApiParameter("secret_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


class ClientViewSet(PortaViewSet):
    """OIDC clients of an application for one organization, and their rotating secrets."""

    queryset = Client.objects.all()
    organization_field = "organization_id"
    permission_map = {
        "list": "admin:client:read",
        "create": "admin:client:create",
        "retrieve": "admin:client:read",
        "update": "admin:client:update",
        "activate": "admin:client:update",
        "deactivate": "admin:client:update",
        "revoke": "admin:client:revoke",
        "secrets": "admin:client:read",
        "secrets_create": "admin:client:update",
        "secret_revoke": "admin:client:revoke",
        "history": "admin:client:read",
    }
    sort_fields = {"createdAt": "created_at", "updatedAt": "updated_at", "clientName": "client_name"}
    filterset_class = ClientFilterSet
    output_serializer_class = ClientSerializer
    serializer_class = ClientSerializer
    not_found_message = "Client not found"

    def scoped_queryset(self) -> QuerySet:
        return client_selectors.clients()

    @extend_schema(parameters=list_parameters(ClientFilterSet), responses=collection(ClientSerializer))
    def list(self, request):
        return self.list_response()

    @extend_schema(request=ClientCreateSerializer, responses={201: ClientCreatedSerializer})
    def create(self, request):
        data = self.validated(ClientCreateSerializer)
        self.check_body_organization(data["organization_id"])
        client, secret = client_services.client_create(actor=self.principal.actor, **data)
        body = {"client": self.represent(client), "secret": secret}
        if secret is not None:
            body["warning"] = client_services.SECRET_WARNING
        return Response(
            body, status=http.HTTP_201_CREATED, headers={"Location": f"/api/admin/clients/{client.id}"}
        )

    @extend_schema(responses=ClientSerializer)
    def retrieve(self, request, pk=None):
        return self.detail_response(self.get_object())

    @extend_schema(request=ClientUpdateSerializer, responses=ClientSerializer)
    def update(self, request, pk=None):
        client = self.get_object()
        data = self.validated(ClientUpdateSerializer)
        client = client_services.client_update(
            actor=self.principal.actor, client=client, precondition=self.if_match, **data
        )
        return self.detail_response(client)

    def _transition(self, action_name: str) -> Response:
        client = client_services.client_transition(
            actor=self.principal.actor,
            client=self.get_object(),
            action=action_name,
            precondition=self.if_match,
        )
        return self.detail_response(client)

    @extend_schema(request=None, responses=ClientSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        return self._transition("activate")

    @extend_schema(request=None, responses=ClientSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        return self._transition("deactivate")

    @extend_schema(request=None, responses=ClientSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        return self._transition("revoke")

    @extend_schema(responses=ClientSecretListSerializer)
    @action(detail=True, methods=["get"])
    def secrets(self, request, pk=None):
        rows = client_selectors.secrets_of(self.get_object())
        return Response({"data": ClientSecretSerializer.represent_many(rows)})

    @extend_schema(request=ClientSecretCreateSerializer, responses={201: ClientSecretCreatedSerializer})
    @secrets.mapping.post
    def secrets_create(self, request, pk=None):
        client = self.get_object()
        data = self.validated(ClientSecretCreateSerializer)
        row, plaintext = client_services.client_secret_create(
            actor=self.principal.actor, client=client, **data
        )
        body = {
            "clientSecret": ClientSecretSerializer.represent(row),
            "secret": plaintext,
            "warning": client_services.SECRET_WARNING,
        }
        return Response(body, status=http.HTTP_201_CREATED)

    @extend_schema(request=None, parameters=[_SECRET_ID], responses=ClientSecretSerializer)
    @action(detail=True, methods=["post"], url_path=r"secrets/(?P<secret_id>[^/]+)/revoke")
    def secret_revoke(self, request, pk=None, secret_id=None):
        client = self.get_object()
        secret_pk = parse_uuid(secret_id)
        # The secret is looked up among the scoped client's own: its tenancy is the client's.
        secret = (
            client_selectors.secrets_of(client).filter(pk=secret_pk).first()
            if secret_pk is not None
            else None
        )
        if secret is None:
            raise NotFound("Client secret not found")
        secret = client_services.client_secret_revoke(actor=self.principal.actor, secret=secret)
        return Response(ClientSecretSerializer.represent(secret))

    @extend_schema(parameters=list_parameters(), responses=collection(AuditEntrySerializer))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        client = self.get_object()
        return history_response(self, "client", client.id)
