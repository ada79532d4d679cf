"""An in-process test Steward on an ephemeral loopback port (for ``enarx run --test`` and tests).

    with start_embedded_steward() as steward:
        steward.url            # "http://127.0.0.1:<port>"
        steward.root_ca_path   # PEM of the test root to trust

It creates a fresh test CA (name-constrained to ``enarx.test``) and a SQLite log in a
temporary directory (removed on stop unless you passed ``directory``), and serves a
``mode = "test"`` Steward from a background thread until :meth:`EmbeddedSteward.stop`.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import uvicorn

from enarx._log import get_logger
from enarx.serving import tcp_listener
from enarx.steward.ca import ROOT_CERT, Curve, init_ca
from enarx.steward.errors import StewardError
from enarx.steward.service import Steward, build_steward
from enarx.steward.settings import load_config

log = get_logger("enarx.steward")

STARTUP_TIMEOUT = 10.0  # seconds for uvicorn to bind on loopback


@dataclass
class EmbeddedSteward:
    url: str
    root_ca_path: Path
    directory: Path
    steward: Steward
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _owns_directory: bool = field(repr=False, default=True)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=STARTUP_TIMEOUT)
        self.steward.close()
        if self._owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> EmbeddedSteward:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def start_embedded_steward(
    *,
    directory: Path | None = None,
    curve: Curve = "p256",
    clock: Callable[[], datetime] | None = None,
    extra_config: str = "",
) -> EmbeddedSteward:
    """Start a test-mode Steward on 127.0.0.1:<ephemeral> and return once it accepts connections.

    ``extra_config`` is appended to the generated steward.toml (e.g. ``[applications.x]``
    tables) for tests that need a policy.
    """
    owns = directory is None
    workdir = Path(tempfile.mkdtemp(prefix="enarx-steward-")) if directory is None else directory
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        now = (clock or (lambda: datetime.now(UTC)))()
        init_ca(workdir / "ca", now=now, curve=curve, test=True, common_name="Enarx embedded Steward", force=True)
        # Bind first, so the URL (and the CRL distribution point under it) is known before
        # the Steward is built, and no other process can take the port in between.
        sock = tcp_listener("127.0.0.1", 0)
        port = sock.getsockname()[1]
        config_path = workdir / "steward.toml"
        config_path.write_text(
            'mode = "test"\n'
            'trust_domain = "enarx.test"\n'
            f"{extra_config}\n"
            "[server]\n"
            'host = "127.0.0.1"\n'
            f"port = {port}\n"
            f'public_url = "http://127.0.0.1:{port}"\n'
            'ca_dir = "ca"\n'
            'database = "steward.db"\n'
            'sqlite_synchronous = "NORMAL"\n',
            encoding="utf-8",
        )
        config = load_config(config_path, {})
        steward = build_steward(config, clock=clock) if clock else build_steward(config)
        server = uvicorn.Server(uvicorn.Config(steward.app, log_level="warning", access_log=False, lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="enarx-embedded-steward", daemon=True)
        thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                steward.close()
                sock.close()
                raise StewardError("embedded.start", "the embedded Steward did not start", status=500)
            time.sleep(0.01)
    except BaseException:
        if owns:
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    url = f"http://127.0.0.1:{port}"
    log.info("embedded test Steward at %s (root CA %s)", url, workdir / "ca" / ROOT_CERT)
    return EmbeddedSteward(
        url=url, root_ca_path=workdir / "ca" / ROOT_CERT, directory=workdir, steward=steward,
        _server=server, _thread=thread, _owns_directory=owns,
    )
