"""``make test``: start throwaway PostgreSQL 15 and Redis, run pytest against them, stop them.

Arguments are passed to pytest. pytest's exit code is returned unchanged, so "no tests ran" (5)
fails the run like any other failure.
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys

from testing.servers import postgres, redis


def main(argv: list[str]) -> int:
    with postgres() as pg, redis() as rd:
        env = {
            **os.environ,
            "PORTA_ENV": "test",
            "DATABASE_URL": pg.url,
            "REDIS_URL": rd.url,
            "PORTA_SECRET_KEY": secrets.token_urlsafe(50),
            "PORTA_KEY_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "PORTA_PUBLIC_URL": "http://testserver",
        }
        print(f"PostgreSQL at {pg.url}, Redis at {rd.url}", flush=True)
        # Two workers for two cores; each gets its own test database and Redis database.
        parallel = [] if any(arg == "-n" or arg.startswith("-n") for arg in argv) else ["-n", "2"]
        return subprocess.call([sys.executable, "-m", "pytest", *parallel, *argv], env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
