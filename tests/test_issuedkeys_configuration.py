"""The issued API keys' variables fail fast like every other: one line naming the variable."""

from __future__ import annotations

import secrets

from tests.test_configuration import _check_deploy_error


def test_a_short_pepper_in_the_list_is_named_by_position(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_API_KEY_PEPPERS=f"{secrets.token_urlsafe(32)},too-short")
    assert error == "PORTA_API_KEY_PEPPERS: item 2 of 2 must be at least 32 random characters"


def test_a_cache_age_beyond_a_minute_is_refused(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_ISSUED_KEY_CACHE_SECONDS="600")
    assert error.startswith("PORTA_ISSUED_KEY_CACHE_SECONDS: must be at most 60")


def test_a_self_revocation_limit_of_zero_is_refused(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_PUBLIC_REVOKE_RATE_LIMIT="0")
    assert error.startswith("PORTA_PUBLIC_REVOKE_RATE_LIMIT: must be at least 1")
