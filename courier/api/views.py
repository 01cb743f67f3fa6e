from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema

from courier import selectors
from courier.api.serializers import MessageSerializer
from courier.filtersets import MessageFilterSet
from courier.models import Message
from porta.api.schema import collection, list_parameters
from porta.api.viewsets import PortaViewSet


class CourierMessageViewSet(PortaViewSet):
    """Courier messages, newest first. There is no courier permission in the admin catalogue:
    reading messages requires admin:user:read (they are e-mails to users)."""

    queryset = Message.objects.all()
    organization_field = "organization_id"
    permission_map = {"list": "admin:user:read", "retrieve": "admin:user:read"}
    filterset_class = MessageFilterSet
    output_serializer_class = MessageSerializer
    serializer_class = MessageSerializer
    not_found_message = "Courier message not found"

    def scoped_queryset(self) -> QuerySet:
        return selectors.messages()

    @extend_schema(parameters=list_parameters(MessageFilterSet), responses=collection(MessageSerializer))
    def list(self, request):
        """Courier messages, newest first; `status` and `recipient` filters, page or cursor mode.
        Subject and bodies are redacted unless the server runs in dev mode (PORTA_DEV)."""
        return self.list_response()

    def retrieve(self, request, pk=None):
        """One courier message (subject and bodies redacted unless in dev mode)."""
        return self.detail_response(self.get_object())
