"""Password hashing: argon2id at deliberate parameters, and batches hashed on every core.

Parameters (OWASP Password Storage Cheat Sheet, the first of its equivalent argon2id choices):
m = 19 MiB, t = 2 iterations, p = 1 lane. Django's stock Argon2PasswordHasher uses m = 100 MiB,
p = 8, about five times the CPU time per hash (``bench/hashing.py`` measures both), which on a
busy 2-core box made a 200-user batch with plaintext passwords outlive gunicorn's 120 s timeout.
A hash stored with other parameters (or imported as bcrypt, PBKDF2, scrypt) is replaced at the
next successful login, through Django's ``must_update``/setter path in the login service.

argon2-cffi releases the GIL while it hashes, so threads hash in parallel: a batch uses a pool
with one thread per CPU this process may run on.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from threading import Lock

from django.contrib.auth.hashers import Argon2PasswordHasher, make_password


class PortaArgon2PasswordHasher(Argon2PasswordHasher):
    """argon2id, m = 19 MiB, t = 2, p = 1. Keeps the ``argon2`` algorithm name, so hashes made
    with Django's defaults are still verified and then rehashed with these parameters."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1


def hashing_threads() -> int:
    """The CPUs this process may run on (its affinity, which container limits narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


_pool: ThreadPoolExecutor | None = None
_pool_lock = Lock()


def _hashing_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=hashing_threads(), thread_name_prefix="porta-hash")
        return _pool


def hash_passwords(passwords: Sequence[str]) -> list[str]:
    """Each password hashed with the preferred hasher, in order, on every available core."""
    if len(passwords) < 2 or hashing_threads() < 2:
        return [make_password(password) for password in passwords]
    return list(_hashing_pool().map(make_password, passwords))
