from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from porta.api.schema import collection, list_parameters
from porta.api.viewsets import PortaViewSet
from porta.core import liveconfig
from porta.core.errors import NotFound
from systemconfig import selectors, services
from systemconfig.api.serializers import (
    AuditCleanupResultSerializer,
    AuditCleanupSerializer,
    ConfigEntrySerializer,
    ConfigUpdateSerializer,
)
from systemconfig.filtersets import ConfigEntryFilterSet
from systemconfig.models import ConfigEntry

_KEY = OpenApiParameter("id", str, OpenApiParameter.PATH, description="The config key, e.g. access_token_ttl")


class ConfigViewSet(PortaViewSet):
    """Live system settings (upstream Porta's system config). A value set here overrides the
    environment's for every process within ``PORTA_CONFIG_CHECK_INTERVAL`` seconds (default 1);
    null resets a key to its default. Global: organization-scoped credentials get 403."""

    queryset = ConfigEntry.objects.all()
    organization_field = None
    permission_map = {
        "list": "admin:config:read",
        "retrieve": "admin:config:read",
        "update": "admin:config:update",
    }
    sort_fields = {"key": "key"}
    default_sort = "key"
    default_order = "asc"
    allow_cursor = False
    filterset_class = ConfigEntryFilterSet
    output_serializer_class = ConfigEntrySerializer
    serializer_class = ConfigEntrySerializer

    def scoped_queryset(self) -> QuerySet:
        return selectors.config_entries()

    def _entry(self, key: str) -> ConfigEntry:
        entry = next(iter(self.get_queryset().filter(key=key)[:1]), None)
        if entry is None:
            if liveconfig.definition(key) is None:
                raise NotFound(f"Config key not found: {key}")
            entry = ConfigEntry(key=key)  # defined, its row not yet written: unset
        return entry

    @extend_schema(
        parameters=list_parameters(ConfigEntryFilterSet, cursor=False),
        responses=collection(ConfigEntrySerializer),
    )
    def list(self, request):
        return self.list_response()

    @extend_schema(parameters=[_KEY], responses=ConfigEntrySerializer)
    def retrieve(self, request, pk=None):
        return self.detail_response(self._entry(pk))

    @extend_schema(parameters=[_KEY], request=ConfigUpdateSerializer, responses=ConfigEntrySerializer)
    def update(self, request, pk=None):
        self._entry(pk)  # unknown key → 404 before the body is judged
        data = self.validated(ConfigUpdateSerializer)
        entry = services.config_set(
            actor=self.principal.actor, key=pk, value=data["value"], precondition=self.if_match
        )
        return self.detail_response(entry)


class AuditCleanupViewSet(PortaViewSet):
    """``POST /audit/cleanup``: delete audit entries older than ``retentionDays`` (default: the
    live ``audit_retention_days``); ``dryRun`` only counts them. Global, like the config it reads."""

    queryset = ConfigEntry.objects.none()
    organization_field = None
    permission_map = {"create": "admin:config:update"}
    output_serializer_class = AuditCleanupResultSerializer
    serializer_class = AuditCleanupResultSerializer

    @extend_schema(request=AuditCleanupSerializer, responses={200: AuditCleanupResultSerializer})
    def create(self, request):
        data = self.validated(AuditCleanupSerializer)
        result = services.audit_retention_run(
            actor=self.principal.actor,
            retention_days=data.get("retentionDays"),
            dry_run=data["dryRun"],
        )
        return Response(AuditCleanupResultSerializer.represent(result))
