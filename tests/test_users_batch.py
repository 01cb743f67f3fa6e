"""Batch user creation: per-item results, the valid items created even when others fail."""

from __future__ import annotations

import bcrypt
import pytest

from audit.models import AuditEntry
from organizations.models import Organization, User


@pytest.fixture
def org(initialized) -> Organization:
    return Organization.objects.create(name="Acme", slug="acme")


def batch(api, org: Organization, users: list):
    return api.post(f"/api/admin/organizations/{org.id}/users/batch", {"users": users})


def test_a_mixed_batch_creates_the_valid_items_and_reports_the_others(api, org):
    User.objects.create(organization=org, email="taken@acme.example")
    items = [
        {"email": "one@acme.example"},
        {"email": "not-an-email"},
        {"email": "TAKEN@acme.example"},
        {"email": "two@acme.example", "passwordHash": "nonsense"},
        {"email": "three@acme.example", "givenName": "Three"},
    ]
    response = batch(api, org, items)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert [("id" in r, r.get("error", {}).get("statusCode")) for r in results] == [
        (True, None), (False, 400), (False, 409), (False, 400), (True, None),
    ]  # fmt: skip


def test_the_created_ids_name_the_created_users(api, org):
    results = batch(api, org, [{"email": "one@acme.example"}]).json()["results"]
    assert User.objects.get(pk=results[0]["id"]).email == "one@acme.example"


def test_a_duplicate_email_within_the_batch_is_a_conflict_for_the_second_item(api, org):
    results = batch(api, org, [{"email": "a@acme.example"}, {"email": "A@acme.example"}]).json()["results"]
    assert "id" in results[0]
    assert results[1]["error"]["statusCode"] == 409


def test_a_duplicate_external_id_is_a_conflict(api, org):
    User.objects.create(organization=org, email="x@acme.example", external_id="crm-1")
    results = batch(api, org, [{"email": "a@acme.example", "externalId": "crm-1"}]).json()["results"]
    assert results[0]["error"]["statusCode"] == 409


def test_bcrypt_hashes_in_a_batch_are_stored_in_djangos_format(api, org):
    raw = bcrypt.hashpw(b"secret-pass", bcrypt.gensalt(rounds=4)).decode()
    results = batch(api, org, [{"email": "a@acme.example", "passwordHash": raw}]).json()["results"]
    assert User.objects.get(pk=results[0]["id"]).password == "bcrypt$" + raw


def test_every_created_user_gets_a_batch_audit_entry(api, org):
    batch(api, org, [{"email": "a@acme.example"}, {"email": "b@acme.example"}])
    assert AuditEntry.objects.filter(event_type="user.batch.created").count() == 2


def test_more_than_1000_items_are_refused(api, org):
    items = [{"email": f"u{n}@acme.example"} for n in range(1001)]
    assert batch(api, org, items).status_code == 400


def test_more_than_200_items_with_a_plaintext_password_are_refused(api, org):
    items = [{"email": f"u{n}@acme.example"} for n in range(201)]
    items[0]["password"] = "long-enough-1"
    assert batch(api, org, items).status_code == 400
    assert not User.objects.filter(organization=org).exists()


def test_a_batch_runs_a_constant_number_of_queries(api, org, django_assert_max_num_queries):
    batch(api, org, [{"email": "warm@acme.example"}])
    with django_assert_max_num_queries(20):
        batch(api, org, [{"email": f"u{n}@acme.example"} for n in range(50)])


def test_an_invalid_item_names_the_field_at_fault(api, org):
    results = batch(api, org, [{"email": "not-an-email"}]).json()["results"]
    assert set(results[0]["error"]["details"]) == {"email"}


def test_a_full_batch_creates_every_user_with_its_own_audit_entry(api, org):
    raw = bcrypt.hashpw(b"secret-pass", bcrypt.gensalt(rounds=4)).decode()
    items = [{"email": f"u{n:04d}@acme.example", "givenName": "U", "passwordHash": raw} for n in range(1000)]
    results = batch(api, org, items).json()["results"]
    ids = [result["id"] for result in results]
    assert User.objects.filter(organization=org, password="bcrypt$" + raw).count() == 1000
    targets = AuditEntry.objects.filter(event_type="user.batch.created").values_list("target_id", flat=True)
    assert sorted(targets) == sorted(ids)
