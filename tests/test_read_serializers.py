"""The fast read path renders exactly what DRF's own serializer machinery renders."""

from __future__ import annotations

from audit.api.serializers import AuditEntrySerializer
from audit.models import AuditEntry
from organizations.api.serializers import OrganizationSerializer
from tests.factories import OrganizationFactory


def test_an_organization_renders_the_same_through_the_fast_path(db):
    organization = OrganizationFactory(branding_primary_color="#123456", default_login_methods=["password"])
    assert OrganizationSerializer.represent(organization) == OrganizationSerializer(organization).data


def test_an_audit_entry_renders_the_same_through_the_fast_path(api):
    api.post("/api/admin/organizations", {"name": "Rendered"})
    for entry in AuditEntry.objects.all():
        assert AuditEntrySerializer.represent(entry) == AuditEntrySerializer(entry).data
