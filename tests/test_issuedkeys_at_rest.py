"""A database backup holds no usable issued API key: a real ``pg_dump`` taken after keys were
issued and rotated through the API contains neither their plaintext nor their secret part."""

from __future__ import annotations

import pytest

from issuedkeys import credentials
from issuedkeys.models import IssuedApiKey
from tests.factories import OrganizationFactory
from tests.test_secrets_at_rest import _pg_dump


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_holds_no_issued_key_secret(api):
    organization = OrganizationFactory()
    keys = f"/api/admin/organizations/{organization.id}/api-keys"
    issued = api.post(keys, {"name": "billing", "scopes": ["read"]})
    assert issued.status_code == 201, issued.content
    rotated = api.post(f"{keys}/{issued.json()['issuedApiKey']['keyId']}/rotate")
    assert rotated.status_code == 201, rotated.content
    secrets = [issued.json()["secret"], rotated.json()["secret"]]

    dump = _pg_dump()

    assert IssuedApiKey.objects.get(pk=credentials.parse(secrets[1]).key_id).secret_hash.encode() in dump
    for secret in secrets:
        secret_part = secret.rsplit("_", 1)[1][: credentials.SECRET_LENGTH]
        assert secret.encode() not in dump
        assert secret_part.encode() not in dump
