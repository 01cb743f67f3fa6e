"""The quota's last free slot under concurrency (issue 13): real gunicorn processes on the test
database, many issues of the same organization at once; exactly as many succeed as there are
free slots, whatever the interleaving."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from issuedkeys.models import IssuedApiKey, IssuedApiKeySettings
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.factories import IssuedApiKeyFactory, OrganizationFactory

pytestmark = pytest.mark.servers

CONCURRENT = 8


def _token(server) -> str:
    form = {
        "grant_type": "password",
        "client_id": "porta-cli",
        "username": ADMIN_EMAIL,
        "password": ADMIN_PASSWORD,
    }
    response = requests.post(f"{server.base_url}/porta-admin/auth/token", data=form, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.mark.parametrize("free_slots", [1, 3])
def test_concurrent_issues_never_take_more_than_the_free_slots(porta_server, initialized, free_slots):
    servers = [porta_server(), porta_server()]
    headers = {"Authorization": f"Bearer {_token(servers[0])}"}
    org = OrganizationFactory()
    IssuedApiKeyFactory.create_batch(2, organization=org)
    IssuedApiKeySettings.objects.create(organization=org, quota=2 + free_slots)
    targets = itertools.cycle(servers)
    urls = [f"{next(targets).base_url}/api/admin/organizations/{org.id}/api-keys" for _ in range(CONCURRENT)]

    def issue(url: str) -> requests.Response:
        return requests.post(url, json={"name": "racer"}, headers=headers, timeout=30)

    with ThreadPoolExecutor(CONCURRENT) as pool:
        responses = list(pool.map(issue, urls))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * free_slots + [402] * (CONCURRENT - free_slots), [r.text for r in responses]
    refused = next(r.json() for r in responses if r.status_code == 402)
    assert (refused["reason"], refused["limit"], refused["currentUsage"]) == (
        "API_KEY_QUOTA_EXCEEDED",
        2 + free_slots,
        2 + free_slots,
    )
    assert IssuedApiKey.objects.filter(organization=org, status="active").count() == 2 + free_slots
