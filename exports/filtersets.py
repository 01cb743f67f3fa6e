"""The filters of each export: the list's own filterset, plus the id that the list takes from its
path (a user list hangs under its organization, a role list under its application)."""

from __future__ import annotations

import django_filters

from applications.client_filtersets import ClientFilterSet
from audit.filtersets import AuditEntryFilterSet
from organizations.filtersets import OrganizationFilterSet
from organizations.user_filtersets import UserFilterSet
from rbac.filtersets import RoleFilterSet


class UserExportFilterSet(UserFilterSet):
    organizationId = django_filters.UUIDFilter(field_name="organization_id")


class RoleExportFilterSet(RoleFilterSet):
    applicationId = django_filters.UUIDFilter(field_name="application_id")


FILTERSETS = {
    "users": UserExportFilterSet,
    "organizations": OrganizationFilterSet,
    "clients": ClientFilterSet,
    "roles": RoleExportFilterSet,
    "audit": AuditEntryFilterSet,
}
