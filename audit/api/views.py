from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from audit import selectors
from audit.api.serializers import AuditEntrySerializer
from audit.filtersets import AuditEntryFilterSet, HistoryFilterSet
from audit.models import AuditEntry
from porta.api.pagination import ordering_from_request, paginate
from porta.api.schema import collection, list_parameters
from porta.api.viewsets import PortaViewSet, apply_filterset


class AuditViewSet(PortaViewSet):
    """The audit trail: append-only, newest first."""

    queryset = AuditEntry.objects.all()
    organization_field = "organization_id"
    permission_map = {"list": "admin:audit:read", "retrieve": "admin:audit:read"}
    filterset_class = AuditEntryFilterSet
    output_serializer_class = AuditEntrySerializer
    serializer_class = AuditEntrySerializer
    not_found_message = "Audit entry not found"

    def scoped_queryset(self) -> QuerySet:
        return selectors.audit_entries()

    @extend_schema(
        parameters=list_parameters(AuditEntryFilterSet), responses=collection(AuditEntrySerializer)
    )
    def list(self, request):
        return self.list_response()

    def retrieve(self, request, pk=None):
        return self.detail_response(self.get_object())


def history_response(view: PortaViewSet, target_type: str, target_id) -> Response:
    """``GET /<resource>/{id}/history``: the audit entries about one target, newest first."""
    ordering = ordering_from_request(
        view.request.query_params,
        sort_fields={"createdAt": "created_at"},
        default_sort="createdAt",
        default_order="desc",
    )
    entries = apply_filterset(HistoryFilterSet, view.request, selectors.history_of(target_type, target_id))
    return paginate(
        view.request,
        entries,
        ordering=ordering,
        serialize=AuditEntrySerializer.represent_many,
    )
