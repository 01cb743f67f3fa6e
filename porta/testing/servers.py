"""Throwaway PostgreSQL and Redis servers for the test suite and the benchmarks.

They live in a temporary directory, listen on free loopback ports, and are gone when the context
exits. PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def _pg_bindir() -> str:
    found = shutil.which("pg_ctl")
    if found:
        return os.path.dirname(os.path.realpath(found))
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries (pg_ctl, initdb) are not installed")
    return os.path.dirname(candidates[0])


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *command] if owner else command


@dataclass
class Server:
    url: str
    port: int


@contextlib.contextmanager
def postgres(*, database: str = "porta", extra_conf: dict[str, str] | None = None) -> Iterator[Server]:
    bindir = _pg_bindir()
    owner = "postgres" if os.geteuid() == 0 else None
    root = tempfile.mkdtemp(prefix="porta-pg-")
    data = os.path.join(root, "data")
    if owner:
        entry = pwd.getpwnam(owner)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    port = free_port()
    subprocess.run(
        _as_owner(
            [f"{bindir}/initdb", "-D", data, "-U", "porta", "--auth=trust", "-E", "UTF8", "--no-sync"], owner
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    conf = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(port),
        "unix_socket_directories": f"'{root}'",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
        "shared_buffers": "256MB",
        **(extra_conf or {}),
    }
    with open(os.path.join(data, "postgresql.auto.conf"), "a") as fh:
        fh.writelines(f"{key} = {value}\n" for key, value in conf.items())
    log = os.path.join(root, "server.log")
    subprocess.run(
        _as_owner([f"{bindir}/pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "start"], owner),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        subprocess.run(
            _as_owner(
                [f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "porta", database], owner
            ),
            check=True,
        )
        yield Server(url=f"postgres://porta@127.0.0.1:{port}/{database}", port=port)
    finally:
        subprocess.run(
            _as_owner([f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], owner),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("redis-server is missing: installing it with apt-get")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "redis-server"], check=True)
        found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("redis-server is not installed (apt-get install -y redis-server)")
    return found


@contextlib.contextmanager
def redis(*, port: int | None = None) -> Iterator[Server]:
    port = port or free_port()
    workdir = tempfile.mkdtemp(prefix="porta-redis-")
    process = subprocess.Popen(
        [
            redis_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
            "--databases",
            "32",
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield Server(url=f"redis://127.0.0.1:{port}/0", port=port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def pg_tool(name: str) -> str:
    """The path of PostgreSQL client program ``name`` (``pg_dump``…) of the same install as the server."""
    return os.path.join(_pg_bindir(), name)
