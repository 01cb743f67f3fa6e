"""List totals are remembered between writes and are exact after every write."""

from __future__ import annotations

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.factories import OrganizationFactory

ORGS = "/api/admin/organizations"


def total(api, **params) -> int:
    return api.get(ORGS, params).json()["pagination"]["total"]


def test_a_repeated_page_does_not_count_the_rows_again(api):
    OrganizationFactory.create_batch(3)
    api.get(ORGS)
    with CaptureQueriesContext(connection) as queries:
        api.get(ORGS)
    assert not [q for q in queries if "COUNT(" in q["sql"].upper()]


def test_the_total_follows_a_create_at_once(api):
    before = total(api)
    api.post(ORGS, {"name": "One more"})
    assert total(api) == before + 1


def test_the_total_follows_a_delete_at_once(api):
    org = OrganizationFactory()
    before = total(api)
    api.delete(f"{ORGS}/{org.id}")
    assert total(api) == before - 1


def test_a_filtered_total_follows_a_status_change_at_once(api):
    org = OrganizationFactory()
    assert total(api, status="suspended") == 0
    api.post(f"{ORGS}/{org.id}/suspend")
    assert total(api, status="suspended") == 1


def test_totals_of_different_filters_are_kept_apart(api):
    OrganizationFactory(name="Alpha")
    OrganizationFactory(name="Beta")
    assert total(api, search="Alpha") == 1
    assert total(api, search="Beta") == 1


@pytest.mark.servers
def test_a_write_through_one_server_process_updates_the_total_another_one_reports(porta_server, initialized):
    """The remembered total lives in each process; the rows stamp in Redis keeps them honest."""
    reader, writer = porta_server(), porta_server()
    headers = {"Authorization": f"Bearer {_token(reader)}"}

    def remote_total() -> int:
        response = requests.get(f"{reader.base_url}{ORGS}", headers=headers, timeout=10)
        return response.json()["pagination"]["total"]

    before = remote_total()
    body = {"name": "Elsewhere"}
    created = requests.post(f"{writer.base_url}{ORGS}", json=body, headers=headers, timeout=10)
    assert created.status_code == 201, created.text
    assert remote_total() == before + 1


def _token(server) -> str:
    form = {"grant_type": "password", "client_id": "porta-cli", "username": ADMIN_EMAIL}
    form["password"] = ADMIN_PASSWORD
    response = requests.post(f"{server.base_url}/porta-admin/auth/token", data=form, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]
