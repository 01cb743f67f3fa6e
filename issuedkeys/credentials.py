"""The issued API key as a string: its format, minting, parsing and the keyed hash that is stored.

Format (version 1)::

    <prefix>_v1_<key id: 32 lower-case hex digits>_<secret: 43 base62><checksum: 11 base62>
    porta_ak_v1_0192f3c4d5e67f8091a2b3c4d5e6f708_7Qk…(43)…Zx3p…(11)

- The **prefix** is the organization's (settings, default ``porta_ak``); it may hold underscores,
  so a credential is split from the right. Prefixes of admin API keys are refused.
- The **key id** is the row's primary key (a UUID without dashes), so verification looks a key up
  by primary key and an operator can tell which key a leaked string is.
- The **secret** is 43 characters drawn from 62 (256 bits), from :mod:`secrets`.
- The **checksum** is HMAC-SHA256 over everything before it, keyed by a subkey of a server
  pepper, truncated to 64 bits. A string that is not well formed (``INVALID_FORMAT``) or whose
  checksum no configured pepper produces (another installation's key, a tampered or made-up key:
  ``NOT_FOUND``) is refused here, in CPU only, before any cache, Redis or database access.

What is stored is never the secret: ``secret_hash`` is HMAC-SHA256 of the whole credential under
another subkey of the same pepper (so the checksum printed in a key says nothing about the
stored hash). Both subkeys derive from the pepper by HMAC with distinct labels.

Peppers rotate (``PORTA_API_KEY_PEPPERS``, comma-separated, first one mints): a key minted under
an older pepper keeps verifying while that pepper is still listed, because parsing finds which
pepper's checksum the key carries and the stored hash is compared under that pepper. Removing a
pepper from the list retires every key minted under it (they answer ``NOT_FOUND``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import uuid
from dataclasses import dataclass

from django.conf import settings

from porta.core.ids import uuid7

VERSION = "v1"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SECRET_LENGTH = 43  # 43 × log2(62) ≈ 256 bits
CHECKSUM_BYTES = 8
CHECKSUM_LENGTH = 11  # 64 bits in base62
KEY_ID_LENGTH = 32
PREFIX_MAX_LENGTH = 16
DEFAULT_PREFIX = "porta_ak"
#: Admin API keys (apikeys.models.PREFIXES) are a different credential: no issued key may look
#: like one, so neither side ever mistakes the other.
RESERVED_PREFIXES = ("porta_pat", "porta_wak")
MAX_LENGTH = PREFIX_MAX_LENGTH + 1 + len(VERSION) + 1 + KEY_ID_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH

#: Error codes of verification that parsing can already decide.
INVALID_FORMAT = "INVALID_FORMAT"
NOT_FOUND = "NOT_FOUND"

_PREFIX = re.compile(r"(?=.{1,16}$)[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*")
_KEY_ID = re.compile(r"[0-9a-f]{32}")
_BODY = re.compile(f"[0-9A-Za-z]{{{SECRET_LENGTH + CHECKSUM_LENGTH}}}")
_CHECKSUM_LABEL = b"porta/issuedkeys/v1/checksum"
_HASH_LABEL = b"porta/issuedkeys/v1/secret-hash"
_ID_LABEL = b"porta/issuedkeys/v1/pepper-id"


class CredentialError(Exception):
    """A credential refused by its form or checksum; ``code`` is the verification errorCode."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class ParsedCredential:
    """A credential whose form and checksum hold: it may name a key of ours."""

    credential: str
    prefix: str
    key_id: uuid.UUID
    #: Position in PORTA_API_KEY_PEPPERS of the pepper that minted it (0: the current one).
    pepper: int

    @property
    def pepper_id(self) -> str:
        return _peppers()[self.pepper].id

    def secret_hash(self) -> str:
        """The keyed hash to compare with the stored one (under the pepper that minted it)."""
        return _hash(_peppers()[self.pepper], self.credential)

    def matches(self, stored_hash: str) -> bool:
        """Constant-time comparison with a stored ``secret_hash``."""
        return hmac.compare_digest(self.secret_hash(), stored_hash)


@dataclass(frozen=True, slots=True)
class MintedKey:
    """A new key: ``plaintext`` is the credential, shown once and never stored."""

    key_id: uuid.UUID
    prefix: str
    plaintext: str
    secret_hash: str
    #: Fingerprint of the pepper that made ``secret_hash`` (which keys still need an old pepper).
    pepper_id: str
    last_four: str


@dataclass(frozen=True, slots=True)
class _Pepper:
    id: str
    checksum: hmac.HMAC
    hash: hmac.HMAC


_cache_lock = threading.Lock()
_cached: tuple[tuple[str, ...], tuple[_Pepper, ...]] = ((), ())


def _peppers() -> tuple[_Pepper, ...]:
    """The configured peppers' subkeys as ready HMAC states (copied per use: no rekeying cost)."""
    global _cached
    configured = tuple(settings.PORTA_API_KEY_PEPPERS)
    names, states = _cached
    if names == configured:
        return states
    with _cache_lock:
        states = tuple(_derive(pepper) for pepper in configured)
        _cached = (configured, states)
    return states


def _derive(pepper: str) -> _Pepper:
    key = pepper.encode()
    checksum_key = hmac.new(key, _CHECKSUM_LABEL, hashlib.sha256).digest()
    hash_key = hmac.new(key, _HASH_LABEL, hashlib.sha256).digest()
    return _Pepper(
        id=hmac.new(key, _ID_LABEL, hashlib.sha256).hexdigest()[:16],
        checksum=hmac.new(checksum_key, digestmod=hashlib.sha256),
        hash=hmac.new(hash_key, digestmod=hashlib.sha256),
    )


def _base62(data: bytes, length: int) -> str:
    number = int.from_bytes(data, "big")
    digits = []
    for _ in range(length):
        number, digit = divmod(number, 62)
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def _checksum(pepper: _Pepper, signed: str) -> str:
    state = pepper.checksum.copy()
    state.update(signed.encode())
    return _base62(state.digest()[:CHECKSUM_BYTES], CHECKSUM_LENGTH)


def _hash(pepper: _Pepper, credential: str) -> str:
    state = pepper.hash.copy()
    state.update(credential.encode())
    return state.hexdigest()


def prefix_problem(prefix: str) -> str | None:
    """Why ``prefix`` cannot prefix issued keys, or None if it can (for the settings' validation)."""
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        return (
            f"Must be 1-{PREFIX_MAX_LENGTH} characters: letters, digits and single underscores, "
            "starting with a letter and not ending with an underscore."
        )
    if prefix.lower().startswith(RESERVED_PREFIXES):
        return f"Prefixes starting with {' or '.join(RESERVED_PREFIXES)} are reserved for admin API keys."
    return None


def mint(*, prefix: str = DEFAULT_PREFIX, key_id: uuid.UUID | None = None) -> MintedKey:
    """A new credential under the current pepper. ``key_id`` becomes the row's primary key."""
    problem = prefix_problem(prefix)
    if problem is not None:
        raise ValueError(f"Invalid API key prefix {prefix!r}: {problem}")
    key_id = key_id or uuid7()
    secret = "".join(secrets.choice(ALPHABET) for _ in range(SECRET_LENGTH))
    signed = f"{prefix}_{VERSION}_{key_id.hex}_{secret}"
    current = _peppers()[0]
    credential = signed + _checksum(current, signed)
    return MintedKey(
        key_id=key_id,
        prefix=prefix,
        plaintext=credential,
        secret_hash=_hash(current, credential),
        pepper_id=current.id,
        last_four=credential[-4:],
    )


def parse(credential: object) -> ParsedCredential:
    """The key a credential names, judged by its form and checksum alone (no I/O).

    Raises :class:`CredentialError` with ``INVALID_FORMAT`` (not a v1 issued key at all) or
    ``NOT_FOUND`` (well formed, but no configured pepper made its checksum)."""
    if not isinstance(credential, str) or len(credential) > MAX_LENGTH:
        raise CredentialError(INVALID_FORMAT, "The credential is not an issued API key.")
    parts = credential.rsplit("_", 3)
    if len(parts) != 4:
        raise CredentialError(INVALID_FORMAT, "The credential is not an issued API key.")
    prefix, version, key_id, body = parts
    if (
        version != VERSION
        or not _PREFIX.fullmatch(prefix)
        or not _KEY_ID.fullmatch(key_id)
        or not _BODY.fullmatch(body)
    ):
        raise CredentialError(INVALID_FORMAT, "The credential is not an issued API key.")
    signed = credential[:-CHECKSUM_LENGTH]
    presented = credential[-CHECKSUM_LENGTH:]
    for index, pepper in enumerate(_peppers()):
        if hmac.compare_digest(_checksum(pepper, signed), presented):
            return ParsedCredential(
                credential=credential, prefix=prefix, key_id=uuid.UUID(hex=key_id), pepper=index
            )
    raise CredentialError(NOT_FOUND, "API key not found.")
