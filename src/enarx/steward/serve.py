"""Run a Steward under uvicorn (``enarx steward serve``).

One worker runs in-process. More run as worker processes, each with its own listening socket
on the same port (``SO_REUSEPORT``), so the kernel spreads connections over them by address.
uvicorn's own multi-worker mode shares one socket, and whichever worker wakes first accepts:
under a burst of keep-alive connections one worker took three quarters of them
(benchmarks/steward_http.py). Sockets come from :mod:`enarx.serving` (why: see there).

The supervisor restarts a worker that dies, forwards SIGTERM/SIGINT for a graceful stop, and
each worker stops when the supervisor is gone (even SIGKILLed), so none is left holding the port.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from types import FrameType

import uvicorn

from enarx._log import get_logger
from enarx.serving import tcp_listener
from enarx.steward.errors import ConfigError
from enarx.steward.service import build_steward
from enarx.steward.settings import StewardConfig, load_config

log = get_logger("enarx.steward")

STOP_GRACE = 20.0  # seconds a worker gets to finish its requests before it is killed
RESTART_BACKOFF = 1.0  # a worker that keeps dying is restarted at most this often


def serve(config: StewardConfig, config_path: Path, *, log_level: str = "info") -> None:
    """Serve until SIGTERM or SIGINT."""
    settings = config.settings
    steward = build_steward(config)  # the CA, the log and the policy, checked before serving
    if settings.workers > 1:
        # Each worker builds its own; one that failed here would fail in every worker, each
        # restarted in turn, so the supervisor starts only once this one has succeeded.
        steward.close()
        _supervise(config_path.resolve(), settings.host, settings.port, settings.workers, log_level)
        return
    try:
        uvicorn.run(steward.app, host=settings.host, port=settings.port, log_level=log_level, access_log=False)
    finally:
        steward.close()


def _worker(config_path: Path, host: str, port: int, log_level: str, lifeline: Connection) -> None:
    """One worker process: its own Steward and socket, serving until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's ^C is the supervisor's to handle
    steward = build_steward(load_config(config_path, os.environ))
    server = uvicorn.Server(uvicorn.Config(steward.app, log_level=log_level, access_log=False, lifespan="off"))

    def watch_supervisor() -> None:
        try:
            lifeline.recv()  # never sent: EOFError when the supervisor closes it (stop) or is gone
        except (EOFError, OSError):
            pass
        server.should_exit = True

    threading.Thread(target=watch_supervisor, name="supervisor-watch", daemon=True).start()
    sock = tcp_listener(host, port, reuse_port=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        steward.close()


class _Supervisor:
    def __init__(self, config_path: Path, host: str, port: int, workers: int, log_level: str) -> None:
        self.args = (config_path, host, port, log_level)
        self.count = workers
        self.context = multiprocessing.get_context("spawn")  # no inherited event loop or locks
        self.stopping = threading.Event()
        self.processes: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []

    def start_worker(self) -> tuple[multiprocessing.process.BaseProcess, Connection]:
        receiver, sender = self.context.Pipe(duplex=False)
        process = self.context.Process(target=_worker, args=(*self.args, receiver), name="steward-worker")
        process.start()
        receiver.close()  # the worker holds the only read end; ours would keep the pipe open
        return process, sender

    def run(self) -> None:
        self.processes = [self.start_worker() for _ in range(self.count)]
        log.info("serving on %s:%d with %d worker processes", self.args[1], self.args[2], self.count)
        last_restart = 0.0
        while not self.stopping.wait(0.5):
            for index, (process, sender) in enumerate(self.processes):
                if process.is_alive() or self.stopping.is_set():
                    continue
                log.warning("worker %s exited (%s); starting another", process.pid, process.exitcode)
                sender.close()
                time.sleep(max(0.0, RESTART_BACKOFF - (time.monotonic() - last_restart)))
                last_restart = time.monotonic()
                self.processes[index] = self.start_worker()
        self.stop()

    def stop(self) -> None:
        # Closing a worker's lifeline is its signal to finish its requests and close its log
        # (a SIGTERM would do the same, but uvicorn re-raises it at the end, skipping the
        # worker's own clean-up). One that is still there after the grace period is killed.
        for _, sender in self.processes:
            sender.close()
        deadline = time.monotonic() + STOP_GRACE
        for process, _ in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def _supervise(config_path: Path, host: str, port: int, workers: int, log_level: str) -> None:
    # Fail here, with one line, if the port is taken by anything outside our group.
    try:
        tcp_listener(host, port, reuse_port=True, listen=False).close()
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", field="server.port") from None
    supervisor = _Supervisor(config_path, host, port, workers, log_level)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        supervisor.stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        supervisor.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
