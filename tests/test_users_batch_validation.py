"""The batch's fast item validator gives exactly what UserCreateSerializer gives: the same
validated fields for every item it accepts, the serializer's own error for every other."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from organizations.api.user_serializers import BatchItemValidator, UserCreateSerializer

BCRYPT = "$2b$04$abcdefghijklmnopqrstuu5Q1Nm6/eYJ/JtLJ0r2uVnZ4vUqz2Mzu"
TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", "  ", " padded ", "a\x00b", "\ud800", "x" * 256, "Ünïcødé", "tab\there"]),
)
VALUES = st.one_of(st.none(), st.booleans(), st.integers(), TEXT)
EMAILS = st.one_of(
    st.sampled_from(
        ["a@acme.example", "  Mixed@Acme.Example ", "not-an-email", "", "a@b", "x" * 250 + "@a.io"]
    ),
    st.emails().map(str),
    TEXT,
)
HASHES = st.sampled_from([BCRYPT, "bcrypt$" + BCRYPT, "nonsense", " " + BCRYPT + " ", "", None])
KEYS = st.sampled_from(
    ["givenName", "familyName", "middleName", "nickname", "preferredUsername", "gender", "zoneinfo",
     "locale", "phoneNumber", "externalId", "emailVerified", "phoneNumberVerified", "id", "createdAt",
     "status", "bogus"]
)  # fmt: skip
ITEMS = st.builds(
    lambda email, hash_, extra: {**({"email": email} if email is not None else {}),
                                 **({"passwordHash": hash_} if hash_ is not None else {}), **extra},
    st.one_of(st.none(), EMAILS),
    HASHES,
    st.dictionaries(KEYS, VALUES, max_size=6),
)  # fmt: skip


def _outcome(validate, item: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "valid", dict(validate(item))
    except serializers.ValidationError as exc:
        return "invalid", exc.detail


@settings(max_examples=400, deadline=None)
@given(ITEMS)
def test_the_fast_validator_agrees_with_the_serializer_on_every_item(item):
    serializer = UserCreateSerializer()
    expected = _outcome(serializer.run_validation, item)
    assert _outcome(BatchItemValidator(serializer).validate, item) == expected


def test_a_common_item_skips_the_serializer():
    validator = BatchItemValidator(UserCreateSerializer())
    item = {"email": " a@acme.example ", "givenName": "A", "passwordHash": BCRYPT, "emailVerified": True}
    assert validator._fast(item) == {
        "email": "a@acme.example", "given_name": "A", "password_hash": "bcrypt$" + BCRYPT,
        "email_verified": True,
    }  # fmt: skip
