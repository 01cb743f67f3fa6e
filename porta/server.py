"""The gunicorn behind ``porta serve``: a stop that loses no connection, and a supervised Celery worker.

Stock gunicorn on SIGTERM closes the arbiter's listening socket and tells the workers to finish
their current request and exit. The workers still hold the socket, so the kernel goes on
completing handshakes into its accept queue that nobody accepts any more; when the last worker
exits, every connection still queued there is reset, and a client that connected meanwhile waits
until then. Porta's stop instead runs in three steps:

1. SIGTERM raises the shared draining flag (``/health/ready`` answers 503 in every worker) and the
   server serves on, normally, for the grace period (``PORTA_SHUTDOWN_GRACE``), so a load balancer
   notices and stops sending.
2. Then the listening sockets get a filter that drops new SYNs (Linux ``SO_ATTACH_FILTER``): no new
   connection completes a handshake, while handshakes already under way still land in the queue.
   A client whose SYN was dropped retries it and is refused once the socket is closed.
3. Each worker, told to stop, first accepts and answers everything still queued, then finishes its
   in-flight requests (up to ``graceful_timeout``) and exits; the arbiter exits 0.

SIGINT skips the grace period (nobody balances load onto a terminal), as does a second SIGTERM
during it; SIGQUIT stays gunicorn's immediate stop.

With ``--with-worker`` the arbiter also runs a Celery worker (beat embedded) and watches it: a
worker that dies is logged and restarted after a short back-off; when it dies more than
``max_restarts`` times within ``RESTART_WINDOW`` seconds, the server stops with exit status 1 so
that the service manager notices.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import select
import signal
import socket
import struct
import subprocess
import time
from collections import deque

from gunicorn.arbiter import Arbiter
from gunicorn.errors import HaltServer
from gunicorn.workers.gthread import ThreadWorker
from gunicorn.workers.sync import SyncWorker

from porta import shutdown

# After the SYN filter is attached the workers keep accepting this long before they are told to
# stop, so that handshakes under way (one round trip) are accepted like any other connection.
HANDSHAKE_SETTLE = 0.5

RESTART_WINDOW = 600.0
RESTART_BACKOFF_CAP = 30.0

# Classic BPF over the TCP header (a socket filter on a TCP socket sees the packet from there):
# accept anything with ACK set, drop a bare SYN (a new connection), accept the rest.
_TCP_FLAGS_OFFSET, _ACK, _SYN = 13, 0x10, 0x02
_BPF_LD_B_ABS, _BPF_JSET_K, _BPF_RET_K = 0x30, 0x45, 0x06
_DROP_NEW_CONNECTIONS = [
    (_BPF_LD_B_ABS, 0, 0, _TCP_FLAGS_OFFSET),
    (_BPF_JSET_K, 2, 0, _ACK),  # ACK → accept (instruction 4)
    (_BPF_JSET_K, 0, 1, _SYN),  # SYN → drop (instruction 3), else accept
    (_BPF_RET_K, 0, 0, 0),
    (_BPF_RET_K, 0, 0, 0xFFFFFFFF),
]
_SO_ATTACH_FILTER = getattr(socket, "SO_ATTACH_FILTER", 26)


def refuse_new_connections(listener: socket.socket) -> bool:
    """Attach the SYN-dropping filter to a TCP listener; False where the platform cannot."""
    if listener.family not in (socket.AF_INET, socket.AF_INET6):
        return False
    program = b"".join(struct.pack("HBBI", *instruction) for instruction in _DROP_NEW_CONNECTIONS)
    buffer = ctypes.create_string_buffer(program)
    fprog = struct.pack("HL", len(_DROP_NEW_CONNECTIONS), ctypes.addressof(buffer))
    try:
        listener.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, fprog)
    except OSError:
        return False
    return True


def _connection_waiting(listener) -> bool:
    readable, _, _ = select.select([listener], [], [], 0)
    return bool(readable)


class DrainingSyncWorker(SyncWorker):
    """gunicorn's sync worker that, told to stop, first answers the connections already queued."""

    def run(self) -> None:
        super().run()
        for listener in self.sockets:
            while _connection_waiting(listener):
                self.notify()
                try:
                    self.accept(listener)
                except OSError as exc:  # another worker took it, or the client gave up
                    if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.ECONNABORTED):
                        raise


class DrainingThreadWorker(ThreadWorker):
    """gunicorn's threaded worker that, told to stop, first takes on the connections already queued;
    it then answers them with its in-flight ones before it exits."""

    def set_accept_enabled(self, enabled: bool) -> None:
        if not enabled and not self.alive and self._accepting:
            for listener in self.sockets:
                while self.nr_conns < self.worker_connections and _connection_waiting(listener):
                    self.accept(listener)
        super().set_accept_enabled(enabled)


def _describe_exit(status: int | None) -> str:
    if status is None:
        return "exited"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            return f"was killed by {signal.Signals(number).name}"
        except ValueError:  # a real-time signal has no name
            return f"was killed by signal {number}"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"


class CeleryWorker:
    """The Celery worker process beside the server, restarted when it dies, within a bound."""

    def __init__(self, command: list[str], *, max_restarts: int, log) -> None:
        self.command = command
        self.max_restarts = max_restarts
        self.log = log
        self.process: subprocess.Popen | None = None
        self.restart_at: float | None = None
        self.deaths: deque[float] = deque()

    def start(self) -> None:
        # Its own process group: a Ctrl-C in the terminal reaches only the server, which then
        # stops the worker itself (Celery's warm shutdown, while the HTTP side drains).
        self.process = subprocess.Popen(self.command, process_group=0)
        self.restart_at = None
        self.log.info("Celery worker started (pid %s)", self.process.pid)

    def reap(self) -> None:
        """Notice the worker's exit. Called before gunicorn's ``waitpid(-1)``, which may still
        take the status first; then the worker is known to have exited, without its status."""
        if self.process is None or self.process.returncode is not None:
            return
        try:
            pid, status = os.waitpid(self.process.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.process.pid, None
        if pid == 0:
            return
        self.process.returncode = os.waitstatus_to_exitcode(status) if status is not None else -1
        self._died(_describe_exit(status))

    def _died(self, how: str) -> None:
        now = time.monotonic()
        self.deaths.append(now)
        while self.deaths and self.deaths[0] < now - RESTART_WINDOW:
            self.deaths.popleft()
        pid = self.process.pid
        if len(self.deaths) > self.max_restarts:
            reason = (
                f"Celery worker (pid {pid}) {how}; it died {len(self.deaths)} times in "
                f"{RESTART_WINDOW / 60:.0f} min, more than PORTA_WORKER_MAX_RESTARTS={self.max_restarts}"
            )
            raise HaltServer(reason, 1)
        delay = min(2.0 ** (len(self.deaths) - 1), RESTART_BACKOFF_CAP)
        self.restart_at = now + delay
        self.log.error(
            "Celery worker (pid %s) %s; restarting it in %.0f s (restart %d of at most %d in %.0f min)",
            pid, how, delay, len(self.deaths), self.max_restarts, RESTART_WINDOW / 60,
        )  # fmt: skip

    def supervise(self) -> None:
        self.reap()
        if self.restart_at is not None and time.monotonic() >= self.restart_at:
            self.start()

    def terminate(self) -> None:
        """Ask a running worker for Celery's warm shutdown (finish the tasks it holds, then exit)."""
        self.restart_at = None
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)

    def wait(self, deadline: float) -> None:
        """Wait for the worker to exit until ``deadline`` (monotonic), then kill it."""
        while self.process is not None and self.process.returncode is None:
            try:
                pid, status = os.waitpid(self.process.pid, os.WNOHANG)
            except ChildProcessError:
                return
            if pid:
                self.process.returncode = os.waitstatus_to_exitcode(status)
                return
            if time.monotonic() >= deadline:
                self.log.warning("Celery worker (pid %s) still busy: killing it", self.process.pid)
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                deadline = float("inf")
            time.sleep(0.1)


class PortaArbiter(Arbiter):
    """gunicorn's arbiter with Porta's shutdown (see the module docstring) and Celery supervision."""

    def __init__(
        self, app, *, grace: float, celery_command: list[str] | None = None, max_worker_restarts: int = 5
    ) -> None:
        super().__init__(app)
        self.grace = grace
        self.grace_ends: float | None = None
        self.celery_worker = (
            CeleryWorker(celery_command, max_restarts=max_worker_restarts, log=self.log)
            if celery_command
            else None
        )

    def start(self) -> None:
        super().start()
        if self.celery_worker is not None:
            self.celery_worker.start()

    def handle_term(self) -> None:
        if self.grace_ends is not None or self.grace <= 0:
            raise StopIteration  # no grace period, or a second SIGTERM: drain now
        shutdown.start_draining()
        self.grace_ends = time.monotonic() + self.grace
        self.log.info(
            "SIGTERM: /health/ready answers 503; serving on for %s s, then draining", f"{self.grace:g}"
        )

    def handle_int(self) -> None:
        self.log.info("SIGINT: draining now")
        raise StopIteration

    def wait_for_signals(self, timeout: float = 1.0) -> list[int]:
        if self.grace_ends is not None:
            remaining = self.grace_ends - time.monotonic()
            if remaining <= 0:
                raise StopIteration
            timeout = min(timeout, remaining)
        return super().wait_for_signals(timeout)

    def handle_chld(self) -> None:
        if self.celery_worker is not None:
            self.celery_worker.reap()
        super().handle_chld()

    handle_cld = handle_chld  # gunicorn dispatches SIGCHLD under either name

    def manage_workers(self) -> None:
        if self.celery_worker is not None:
            self.celery_worker.supervise()
        super().manage_workers()

    def stop(self, graceful: bool = True) -> None:
        shutdown.start_draining()
        deadline = time.monotonic() + self.cfg.graceful_timeout
        if self.celery_worker is not None:
            self.celery_worker.terminate()
        if graceful and self.LISTENERS:
            filtered = [refuse_new_connections(listener.sock) for listener in self.LISTENERS]
            self.log.info("Draining: no new connections; answering those already accepted")
            if any(filtered):
                time.sleep(HANDSHAKE_SETTLE)
        super().stop(graceful)
        if self.celery_worker is not None:
            self.celery_worker.wait(deadline)
