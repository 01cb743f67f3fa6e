from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from organizations.models import Organization
from organizations.selectors import organizations
from porta.api.viewsets import PortaViewSet
from stats import reports
from stats.api.serializers import OrganizationStatsSerializer, StatsOverviewSerializer


class StatsViewSet(PortaViewSet):
    """Counts by status, new and active users, login activity and system health, read from
    running tallies (no request counts the rows) and cached for `PORTA_STATS_CACHE_TTL` seconds."""

    queryset = Organization.objects.all()
    organization_field = "id"
    global_actions = frozenset({"overview"})
    permission_map = {"overview": "admin:stats:read", "organization": "admin:stats:read"}

    def scoped_queryset(self) -> QuerySet:
        return organizations()

    def _report(self, body: dict) -> Response:
        return Response(body, headers={"Cache-Control": f"private, max-age={settings.PORTA_STATS_CACHE_TTL}"})

    @extend_schema(responses=StatsOverviewSerializer)
    @action(detail=False, methods=["get"])
    def overview(self, request):
        """The whole platform; organization-scoped credentials get 403.

        Windows are whole UTC hours: `last24h` is the current hour so far plus the 24 before it,
        likewise `last7d` and `last30d`. Logins are the `user.login` and `user.login.failed` audit
        entries (attempts naming no existing account are not recorded)."""
        return self._report(reports.overview())

    @extend_schema(responses=OrganizationStatsSerializer)
    @action(detail=False, methods=["get"], url_path=r"organization/(?P<organization_id>[^/]+)")
    def organization(self, request, organization_id=None):
        """One organization (by id or slug): its users, clients and login activity, with the
        windows of the overview."""
        organization = self.scoped_row(
            self.get_queryset(), organization_id, organization_field="id", not_found="Organization not found"
        )
        return self._report(reports.organization_report(organization.id))
