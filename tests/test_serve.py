"""`porta serve` as an operator runs it: a real gunicorn (and Celery worker) process, stopped with
real signals while real clients talk to it over loopback."""

from __future__ import annotations

import http.client
import os
import re
import signal
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest

from porta.celery import app as celery_app
from tests.conftest import ServeProcess

pytestmark = pytest.mark.servers

CLIENT_THREADS = 8
REQUESTS_PER_THREAD = 2000  # a bound; the threads stop as soon as the server is gone
REQUEST_TIMEOUT = 30.0  # far beyond any honest answer here: a request still waiting then is hung


def _request(server: ServeProcess, path: str) -> int | str:
    """The HTTP status of one request on a fresh connection, or how it failed: ``refused`` (nothing
    listens: the server is gone), ``reset`` (an accepted connection dropped without an answer) or
    ``hung`` (no answer within REQUEST_TIMEOUT)."""
    address = urlsplit(server.base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=REQUEST_TIMEOUT)
    try:
        try:
            connection.connect()
        except ConnectionRefusedError:
            return "refused"
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        response.read()
        return response.status
    except TimeoutError:
        return "hung"
    except (
        ConnectionResetError,
        BrokenPipeError,
        http.client.RemoteDisconnected,
        http.client.IncompleteRead,
    ):
        return "reset"
    finally:
        connection.close()


def _wait_for_log(server: ServeProcess, pattern: str, *, after: int = 0, timeout: float = 90.0) -> re.Match:
    """The first match of ``pattern`` in the server's output past character ``after``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.compile(pattern).search(server.log(), after)
        if match:
            return match
        time.sleep(0.1)
    raise AssertionError(f"no {pattern!r} in the output of porta serve:\n{server.log()[after:]}")


class _Load:
    """Client threads sending requests back to back, each on a new connection, until the server
    is gone; every outcome is counted, split at the moment SIGTERM was sent."""

    def __init__(self, server: ServeProcess, paths: tuple[str, ...]):
        self.server = server
        self.paths = paths
        self.before: Counter = Counter()
        self.after: Counter = Counter()
        self.sigterm_sent = threading.Event()
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(CLIENT_THREADS)]

    def _run(self, index: int) -> None:
        for number in range(REQUESTS_PER_THREAD):
            if self.stop.is_set():
                return
            after = self.sigterm_sent.is_set()
            outcome = _request(self.server, self.paths[(index + number) % len(self.paths)])
            with self._lock:
                (self.after if after else self.before)[outcome] += 1
            if outcome == "refused" and after:
                return

    def __enter__(self) -> _Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=REQUEST_TIMEOUT + 10)

    def wait_for(self, answered: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while sum(self.before.values()) < answered and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.mark.parametrize(
    "worker_options",
    [("--workers", "2"), ("--workers", "2", "--threads", "4")],
    ids=["sync-workers", "threaded-workers"],
)
def test_sigterm_under_load_answers_every_accepted_connection(porta_serve, initialized, worker_options):
    server = porta_serve(*worker_options, PORTA_SHUTDOWN_GRACE="1")
    with _Load(server, ("/health/alive", "/api/admin/metadata")) as load:
        load.wait_for(answered=200)
        load.sigterm_sent.set()
        server.process.send_signal(signal.SIGTERM)
        exit_status = server.process.wait(timeout=60)
    outcomes = load.before + load.after
    assert outcomes["reset"] == 0, outcomes
    assert outcomes["hung"] == 0, outcomes
    assert set(outcomes) <= {200, "refused"}, outcomes
    assert load.before["refused"] == 0, load.before
    assert load.after[200] > 0, load.after  # it served on after SIGTERM
    assert exit_status == 0, server.log()


def test_after_sigterm_readiness_is_503_while_other_endpoints_still_answer(porta_serve, initialized):
    server = porta_serve("--workers", "2", PORTA_SHUTDOWN_GRACE="4")
    assert _request(server, "/health/ready") == 200
    server.process.send_signal(signal.SIGTERM)
    _wait_for_log(server, r"SIGTERM")
    readiness = [_request(server, "/health/ready") for _ in range(6)]  # both workers answer some
    others = [_request(server, "/health/alive"), _request(server, "/api/admin/metadata")]
    assert readiness == [503] * 6
    assert others == [200, 200]
    assert server.process.wait(timeout=60) == 0


def test_a_second_sigterm_ends_the_grace_period(porta_serve, initialized):
    server = porta_serve("--workers", "1", PORTA_SHUTDOWN_GRACE="600")
    server.process.send_signal(signal.SIGTERM)
    _wait_for_log(server, r"SIGTERM")
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=60) == 0


WORKER_STARTED = r"Celery worker started \(pid (\d+)\)"


def _celery_worker_answers_ping(timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if celery_app.control.ping(timeout=1.0):
            return True
    return False


def test_serve_restarts_a_celery_worker_killed_with_sigkill(porta_serve):
    server = porta_serve("--with-worker", "--workers", "1")
    first = _wait_for_log(server, WORKER_STARTED)
    os.kill(int(first.group(1)), signal.SIGKILL)
    died = _wait_for_log(
        server, rf"Celery worker \(pid {first.group(1)}\) was killed by SIGKILL; restarting it"
    )
    second = _wait_for_log(server, WORKER_STARTED, after=died.end())
    assert second.group(1) != first.group(1)
    assert _celery_worker_answers_ping()
    assert _request(server, "/health/alive") == 200


def test_serve_exits_non_zero_when_the_celery_worker_keeps_dying(porta_serve):
    server = porta_serve("--with-worker", "--workers", "1", PORTA_WORKER_MAX_RESTARTS="1")
    first = _wait_for_log(server, WORKER_STARTED)
    os.kill(int(first.group(1)), signal.SIGKILL)
    second = _wait_for_log(server, WORKER_STARTED, after=first.end())
    os.kill(int(second.group(1)), signal.SIGKILL)
    assert server.process.wait(timeout=60) == 1
    assert "more than PORTA_WORKER_MAX_RESTARTS" in server.log()
