"""Batch user create keeps its per-item results, user rows and audit rows exactly: one mixed
batch (valid items, duplicates within the batch and of existing rows by email and externalId,
invalid fields, bad hashes, plaintext passwords), its answer pinned on the row-by-row code
before the inserts moved to COPY."""

from __future__ import annotations

import uuid

import pytest

from audit.models import AuditEntry
from organizations.models import Organization, User
from tests.conftest import ADMIN_EMAIL

BCRYPT = "$2b$04$abcdefghijklmnopqrstuu5Q1Nm6/eYJ/JtLJ0r2uVnZ4vUqz2Mzu"
ITEMS = [
    {"email": "one@acme.example", "givenName": "One", "externalId": "crm-1", "passwordHash": BCRYPT},
    {"email": "not-an-email"},
    {"email": "TAKEN@acme.example"},
    {"email": "One@ACME.example"},
    {"email": "two@acme.example", "passwordHash": "nonsense"},
    {"email": "three@acme.example", "externalId": "crm-old"},
    {"email": "four@acme.example", "externalId": "crm-1"},
    {"email": "five@acme.example", "password": "long-enough-1", "emailVerified": True,
     "address": {"locality": "Paris", "country": "FR"}, "birthdate": "1990-01-02", "locale": "en"},
    {"email": "six@acme.example", "password": "short"},
    {"email": "seven@acme.example", "password": "long-enough-2", "passwordHash": BCRYPT},
    {"email": "eight@acme.example", "unknownField": 1},
    {"email": "nine@acme.example", "givenName": None},
    {"email": "  Mixed@Acme.Example "},
    {"email": "ten@acme.example", "passwordHash": "bcrypt$" + BCRYPT, "externalId": "crm-10",
     "middleName": "Q", "nickname": "Tenny", "preferredUsername": "ten", "profileUrl": "https://p.example/10",
     "pictureUrl": "https://p.example/10.png", "websiteUrl": "https://ten.example", "gender": "other",
     "zoneinfo": "Europe/Paris", "phoneNumber": "+15550100", "phoneNumberVerified": True,
     "familyName": "Tab\there \\ and\nnewline"},
    {"email": "x" * 250 + "@acme.example"},
    {"email": "eleven@acme.example", "address": {"street": "1 Main St", "bogus": 1}},
    {"email": "twelve@acme.example", "externalId": ""},
]  # fmt: skip
CREATED = (0, 7, 12, 13)


def _invalid(details: dict) -> dict:
    return {"error": "ValidationError", "message": "Invalid user", "statusCode": 400, "details": details}


def _conflict(message: str) -> dict:
    return {"error": "Conflict", "message": message, "statusCode": 409}


ERRORS = {
    1: _invalid({"email": ["Enter a valid email address."]}),
    2: _conflict("A user with email 'TAKEN@acme.example' already exists"),
    3: _conflict("A user with email 'One@ACME.example' already exists"),
    4: _invalid({"passwordHash": ["Not a bcrypt, argon2id, pbkdf2-sha256 or scrypt hash."]}),
    5: _conflict("A user with externalId 'crm-old' already exists"),
    6: _conflict("A user with externalId 'crm-1' already exists"),
    8: _invalid({"password": ["Ensure this field has at least 8 characters."]}),
    9: _invalid({"passwordHash": ["Send either password or passwordHash."]}),
    10: _invalid({"unknownField": ["Unknown field."]}),
    11: _invalid({"givenName": ["This field may not be null."]}),
    14: _invalid({"email": ["Ensure this field has no more than 255 characters."]}),
    15: _invalid({"address": {"bogus": ["Unknown field."]}}),
    16: _invalid({"externalId": ["This field may not be blank."]}),
}


def _created(**after) -> dict:
    """The metadata of a ``user.batch.created`` entry: every audited field that is not null."""
    after = {"status": "active", "givenName": "", "familyName": "", "emailVerified": False,
             "phoneNumberVerified": False, **after}  # fmt: skip
    return {"changes": {name: {"before": None, "after": value} for name, value in after.items()}}


AUDIT_METADATA = [
    _created(email="one@acme.example", givenName="One", externalId="crm-1"),
    _created(email="five@acme.example", emailVerified=True, address={"country": "FR", "locality": "Paris"},
             birthdate="1990-01-02", locale="en"),
    _created(email="Mixed@Acme.Example"),
    _created(email="ten@acme.example", externalId="crm-10", middleName="Q", nickname="Tenny",
             preferredUsername="ten", profileUrl="https://p.example/10", pictureUrl="https://p.example/10.png",
             websiteUrl="https://ten.example", gender="other", zoneinfo="Europe/Paris",
             phoneNumber="+15550100", phoneNumberVerified=True, familyName="Tab\there \\ and\nnewline"),
]  # fmt: skip


@pytest.fixture
def org(initialized) -> Organization:
    org = Organization.objects.create(name="Acme", slug="acme")
    User.objects.create(organization=org, email="taken@acme.example", external_id="crm-old")
    return org


@pytest.fixture
def answer(api, org):
    response = api.post(
        f"/api/admin/organizations/{org.id}/users/batch",
        {"users": ITEMS},
        headers={"User-Agent": "pin-test/1.0", "X-Request-Id": "pin-req-1"},
    )
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _ids(answer) -> list[str]:
    return [answer[index]["id"] for index in CREATED]


def test_a_mixed_batch_answers_the_same_per_item_results(answer):
    expected = [{"index": i, "error": ERRORS[i]} if i in ERRORS else {"index": i} for i in range(len(ITEMS))]
    without_ids = [{k: v for k, v in result.items() if k != "id"} for result in answer]
    assert without_ids == expected
    assert [i for i, result in enumerate(answer) if "id" in result] == list(CREATED)
    assert all(uuid.UUID(id_).version == 7 for id_ in _ids(answer))


def test_a_mixed_batch_writes_the_same_audit_rows(answer, org):
    admin = User.objects.get(email=ADMIN_EMAIL)
    entries = list(AuditEntry.objects.filter(event_type="user.batch.created").order_by("created_at", "id"))
    assert [(e.target_type, e.target_id) for e in entries] == [("user", id_) for id_ in _ids(answer)]
    assert [e.metadata for e in entries] == AUDIT_METADATA
    assert {
        (e.actor_type, e.actor_id, e.actor_label, e.organization_id, e.ip_address, e.user_agent, e.request_id)
        for e in entries
    } == {("user", admin.id, admin.email, org.id, "127.0.0.1", "pin-test/1.0", "pin-req-1")}


def test_a_mixed_batch_stores_the_same_user_rows(answer, org):
    users = {str(u.id): u for u in User.objects.filter(organization=org).exclude(email="taken@acme.example")}
    assert set(users) == set(_ids(answer))
    one, five, mixed, ten = (users[id_] for id_ in _ids(answer))
    assert (one.password, ten.password) == ("bcrypt$" + BCRYPT, "bcrypt$" + BCRYPT)
    assert five.password.startswith("argon2$argon2id$")
    assert five.check_password("long-enough-1")
    assert not mixed.has_usable_password()
    assert mixed.password_changed_at is None
    assert len({u.created_at for u in users.values()} | {u.updated_at for u in users.values()}) == 1
    assert one.password_changed_at == five.password_changed_at == ten.password_changed_at == one.created_at
    assert (five.email_verified, five.address, five.birthdate.isoformat(), five.locale, five.external_id) == (
        True, {"country": "FR", "locality": "Paris"}, "1990-01-02", "en", None,
    )  # fmt: skip
    assert (ten.family_name, ten.phone_number_verified, ten.zoneinfo, ten.middle_name) == (
        "Tab\there \\ and\nnewline", True, "Europe/Paris", "Q",
    )  # fmt: skip
    assert {(u.status, u.status_reason, u.failed_login_count, u.last_login) for u in users.values()} == {
        ("active", "", 0, None)
    }


def test_an_unusable_password_differs_from_user_to_user(api, org):
    items = [{"email": f"u{n}@acme.example"} for n in range(3)]
    api.post(f"/api/admin/organizations/{org.id}/users/batch", {"users": items})
    passwords = set(User.objects.filter(email__startswith="u").values_list("password", flat=True))
    assert len(passwords) == 3
    assert all(p.startswith("!") for p in passwords)
