"""The issued API key format: minting, parsing, checksums and rotatable peppers (no I/O)."""

from __future__ import annotations

import uuid

import pytest

from issuedkeys import credentials
from issuedkeys.credentials import INVALID_FORMAT, NOT_FOUND, CredentialError

CURRENT = "current-pepper-0123456789abcdefghijklmnop"
OLD = "retired-pepper-9876543210zyxwvutsrqponmlk"


@pytest.fixture(autouse=True)
def _peppers(settings):
    settings.PORTA_API_KEY_PEPPERS = [CURRENT]


def _code(credential) -> str:
    with pytest.raises(CredentialError) as raised:
        credentials.parse(credential)
    return raised.value.code


def test_a_minted_key_carries_prefix_version_and_key_id():
    key_id = uuid.uuid4()
    minted = credentials.mint(prefix="acme_live", key_id=key_id)
    assert minted.plaintext.startswith(f"acme_live_v1_{key_id.hex}_")
    assert minted.last_four == minted.plaintext[-4:]


def test_a_minted_key_parses_back_to_its_key_and_matches_its_stored_hash():
    minted = credentials.mint()
    parsed = credentials.parse(minted.plaintext)
    assert (parsed.key_id, parsed.prefix, parsed.pepper_id) == (minted.key_id, "porta_ak", minted.pepper_id)
    assert parsed.matches(minted.secret_hash)


def test_two_minted_keys_differ_in_their_secret():
    assert credentials.mint().plaintext.split("_")[-1] != credentials.mint().plaintext.split("_")[-1]


def test_the_stored_hash_contains_no_part_of_the_secret():
    minted = credentials.mint()
    secret_part = minted.plaintext.rsplit("_", 1)[1]
    assert secret_part[:8] not in minted.secret_hash
    assert len(minted.secret_hash) == 64


@pytest.mark.parametrize(
    "credential",
    [
        "",
        "porta_ak",
        "not a key at all",
        "porta_pat_0123456789abcdef",
        None,
        42,
        "x" * 10_000,
    ],
)
def test_strings_that_are_not_issued_keys_are_invalid_format(credential):
    assert _code(credential) == INVALID_FORMAT


def test_a_key_of_another_version_is_invalid_format():
    assert _code(credentials.mint().plaintext.replace("_v1_", "_v2_")) == INVALID_FORMAT


def test_a_key_id_that_is_not_hex_is_invalid_format():
    prefix, version, key_id, body = credentials.mint().plaintext.rsplit("_", 3)
    assert _code(f"{prefix}_{version}_{key_id.upper()}_{body}") == INVALID_FORMAT


def test_a_truncated_key_is_invalid_format():
    assert _code(credentials.mint().plaintext[:-1]) == INVALID_FORMAT


def test_a_tampered_checksum_is_not_found():
    plaintext = credentials.mint().plaintext
    last = "A" if plaintext[-1] != "A" else "B"
    assert _code(plaintext[:-1] + last) == NOT_FOUND


def test_a_tampered_secret_is_not_found():
    plaintext = credentials.mint().plaintext
    position = len(plaintext) - credentials.CHECKSUM_LENGTH - 5
    swapped = "A" if plaintext[position] != "A" else "B"
    assert _code(plaintext[:position] + swapped + plaintext[position + 1 :]) == NOT_FOUND


def test_a_changed_key_id_is_not_found():
    plaintext = credentials.mint().plaintext
    prefix, version, key_id, body = plaintext.rsplit("_", 3)
    assert _code(f"{prefix}_{version}_{uuid.uuid4().hex}_{body}") == NOT_FOUND


def test_a_key_minted_by_another_installation_is_not_found(settings):
    settings.PORTA_API_KEY_PEPPERS = ["another-installation-pepper-abcdefghijklmn"]
    foreign = credentials.mint().plaintext
    settings.PORTA_API_KEY_PEPPERS = [CURRENT]
    assert _code(foreign) == NOT_FOUND


def test_a_key_minted_under_a_retired_pepper_still_verifies(settings):
    settings.PORTA_API_KEY_PEPPERS = [OLD]
    minted = credentials.mint()
    settings.PORTA_API_KEY_PEPPERS = [CURRENT, OLD]
    parsed = credentials.parse(minted.plaintext)
    assert parsed.pepper == 1
    assert parsed.matches(minted.secret_hash)


def test_new_keys_are_minted_under_the_first_pepper(settings):
    settings.PORTA_API_KEY_PEPPERS = [OLD]
    old_id = credentials.mint().pepper_id
    settings.PORTA_API_KEY_PEPPERS = [CURRENT, OLD]
    minted = credentials.mint()
    assert minted.pepper_id != old_id
    assert credentials.parse(minted.plaintext).pepper == 0


def test_a_key_whose_pepper_was_removed_is_not_found(settings):
    settings.PORTA_API_KEY_PEPPERS = [OLD]
    minted = credentials.mint()
    settings.PORTA_API_KEY_PEPPERS = [CURRENT]
    assert _code(minted.plaintext) == NOT_FOUND


def test_the_stored_hash_of_one_key_does_not_match_another():
    first, second = credentials.mint(), credentials.mint()
    assert not credentials.parse(first.plaintext).matches(second.secret_hash)


@pytest.mark.parametrize("prefix", ["porta_ak", "acme", "a", "Acme_Live_2", "x" * 16])
def test_well_formed_prefixes_are_accepted(prefix):
    assert credentials.prefix_problem(prefix) is None
    assert credentials.parse(credentials.mint(prefix=prefix).plaintext).prefix == prefix


@pytest.mark.parametrize(
    "prefix", ["", "_ak", "ak_", "a__b", "1ak", "a-b", "x" * 17, "porta_pat", "porta_wak_x", "PORTA_PAT"]
)
def test_malformed_or_reserved_prefixes_are_refused(prefix):
    assert credentials.prefix_problem(prefix) is not None
    with pytest.raises(ValueError, match="Invalid API key prefix"):
        credentials.mint(prefix=prefix)
