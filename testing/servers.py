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
import signal
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


@dataclass
class PostgresServer(Server):
    """A running PostgreSQL that fault tests can stop and start again (same port, same data)."""

    bindir: str
    data: str
    log: str
    owner: str | None

    def stop(self) -> None:
        """A fast shutdown, as an operator's restart: clients are disconnected at once."""
        subprocess.run(
            _as_owner([f"{self.bindir}/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"], self.owner),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def is_running(self) -> bool:
        status = _as_owner([f"{self.bindir}/pg_ctl", "-D", self.data, "status"], self.owner)
        return subprocess.run(status, stdout=subprocess.DEVNULL, check=False).returncode == 0

    def start(self) -> None:
        subprocess.run(
            _as_owner(
                [f"{self.bindir}/pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start"],
                self.owner,
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )


@contextlib.contextmanager
def postgres(
    *, database: str = "porta", extra_conf: dict[str, str] | None = None
) -> Iterator[PostgresServer]:
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
    server = PostgresServer(
        url=f"postgres://porta@127.0.0.1:{port}/{database}",
        port=port,
        bindir=bindir,
        data=data,
        log=os.path.join(root, "server.log"),
        owner=owner,
    )
    server.start()
    try:
        subprocess.run(
            _as_owner(
                [f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "porta", database], owner
            ),
            check=True,
        )
        yield server
    finally:
        subprocess.run(
            _as_owner([f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], owner),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


def installed(command: str, *packages: str) -> str:
    """The path of ``command``, installing its Debian ``packages`` with apt-get first when it is
    missing and we are root (as on a fresh CI machine); a clear error otherwise."""
    found = shutil.which(command)
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"{command} is missing: installing {' '.join(packages)} with apt-get")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True)
        found = shutil.which(command)
    if not found:
        raise RuntimeError(f"{command} is not installed (apt-get install -y {' '.join(packages)})")
    return found


def redis_binary() -> str:
    return installed("redis-server", "redis-server")


class RedisServer(Server):
    """A running Redis without persistence: stopping and starting it again (same port) is a
    restart that comes back with an empty dataset, as Redis does after a crash without AOF/RDB."""

    def __init__(self, port: int) -> None:
        super().__init__(url=f"redis://127.0.0.1:{port}/0", port=port)
        self.workdir = tempfile.mkdtemp(prefix="porta-redis-")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                redis_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.workdir,
                "--databases",
                "32",
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def pause(self) -> None:
        """Unreachable with its data kept (SIGSTOP): connections are accepted, nothing answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGCONT)  # a paused server cannot handle SIGTERM
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextlib.contextmanager
def redis(*, port: int | None = None) -> Iterator[RedisServer]:
    server = RedisServer(port or free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.workdir, ignore_errors=True)


def pg_tool(name: str) -> str:
    """The path of PostgreSQL client program ``name`` (``pg_dump``…) of the same install as the server."""
    return os.path.join(_pg_bindir(), name)
