"""The permission suite (tests/permission_suite.py) applied to issued API key verification."""

from __future__ import annotations

import pytest

from issuedkeys.api.verify_views import IssuedApiKeyVerifyViewSet
from tests.permission_suite import Endpoint, PermissionSuite

VERIFY = "/api/admin/api-keys/verify"


class TestIssuedApiKeyVerifyPermissions(PermissionSuite):
    viewsets = (IssuedApiKeyVerifyViewSet,)
    endpoints = (
        Endpoint("POST", VERIFY, "admin:issued-key:verify", body={"credential": "x"}, expect=200),
        Endpoint(
            "POST",
            f"{VERIFY}/batch",
            "admin:issued-key:verify",
            body={"requests": [{"credential": "x"}]},
            expect=200,
        ),
    )

    # Neither path names a row, so the suite's unknown- and malformed-id checks have nothing to
    # walk: left out rather than collected as empty (skipped) parameter sets.
    test_an_unknown_id_gets_404 = None
    test_a_malformed_id_gets_404 = None

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        return {}
