from __future__ import annotations

from rest_framework import serializers

from imports.manifest import SECTIONS
from imports.services import MODES
from porta.api.serializers import StrictSerializer


class ImportRequestSerializer(StrictSerializer):
    mode = serializers.ChoiceField(choices=MODES, default="dry-run")
    manifest = serializers.JSONField(
        help_text='{"version": "1.0", "organizations": [...], "applications": [...], "permissions": [...], '
        '"roles": [...], "claimDefinitions": [...], "clients": [...]}: items as the API\'s create bodies, '
        "rows named by slug (organizationSlug, applicationSlug); never secrets"
    )


class _Totals(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    skipped = serializers.IntegerField()
    errors = serializers.IntegerField()


class _SectionReport(serializers.Serializer):
    """Per outcome, one entry per item: its index and keys, the row's id, and for an update the
    changes, for a skip the reason, for an error the error in the contract's shape."""

    created = serializers.ListField(child=serializers.DictField())
    updated = serializers.ListField(child=serializers.DictField())
    skipped = serializers.ListField(child=serializers.DictField())
    errors = serializers.ListField(child=serializers.DictField())


class ImportReportSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=MODES)
    applied = serializers.BooleanField(help_text="False for a dry run (and for a failed import)")
    totals = _Totals()

    def get_fields(self):
        fields = super().get_fields()
        for section in SECTIONS:
            fields[section.key] = _SectionReport()
        return fields
