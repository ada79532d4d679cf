"""Run the registry under uvicorn, with TLS and optional client certificates.

uvicorn does not pass the client's certificate to the app, so :class:`TLSProtocol` adds
the ASGI TLS extension (``scope["extensions"]["tls"]["client_cert_chain"]``, PEM strings) to
every request of a connection whose peer presented one. With ``steward_ca`` set, TLS asks for
a client certificate (optional: tokens still work) and checks it against that CA; the app
checks it again (``auth.py``) before letting a Keep read a private repository.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

try:  # httptools parses bodies several times faster than h11: uploads are most of our traffic
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Base
except ImportError:  # pragma: no cover - httptools is a pinned dependency; h11 is the fallback
    _Base = H11Protocol  # type: ignore[assignment,misc]

from enarx.registry.errors import RegistryError
from enarx.serving import tcp_listener


def _with_tls(app: Any, chain: list[str]) -> Any:
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            scope = dict(scope, extensions={**scope.get("extensions", {}), "tls": {"client_cert_chain": chain}})
        await app(scope, receive, send)

    return wrapped


class TLSProtocol(_Base):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if der:
            self.app = _with_tls(self.app, [ssl.DER_cert_to_PEM_cert(der)])


@dataclass(frozen=True)
class Listen:
    host: str = "127.0.0.1"
    port: int = 8080
    tls_cert: Path | None = None
    tls_key: Path | None = None
    client_ca: Path | None = None  # the Steward CA bundle: ask for (optional) client certificates


def uvicorn_config(app: Any, listen: Listen, *, log_level: str = "warning") -> uvicorn.Config:
    if (listen.tls_cert is None) != (listen.tls_key is None):
        raise RegistryError("--tls-cert and --tls-key go together", status=0, code="registry.config")
    if listen.client_ca is not None and listen.tls_cert is None:
        raise RegistryError("client certificates (--steward-ca) need TLS (--tls-cert/--tls-key)", status=0,
                            code="registry.config")
    kwargs: dict[str, Any] = {}
    if listen.tls_cert is not None:
        kwargs.update(ssl_certfile=str(listen.tls_cert), ssl_keyfile=str(listen.tls_key))
        if listen.client_ca is not None:
            kwargs.update(ssl_cert_reqs=ssl.CERT_OPTIONAL, ssl_ca_certs=str(listen.client_ca))
    return uvicorn.Config(app, host=listen.host, port=listen.port, http=TLSProtocol, log_level=log_level,
                          access_log=False, lifespan="off", **kwargs)


OPTIONS_ENV = "ENARX_REGISTRY_SERVE_OPTIONS"


def app_from_env() -> Any:
    """uvicorn factory for worker processes: the options come as JSON in ``OPTIONS_ENV``."""
    import os

    from enarx.registry.app import Registry
    from enarx.registry.settings import ServeOptions

    text = os.environ.get(OPTIONS_ENV)
    if not text:
        raise RuntimeError(f"{OPTIONS_ENV} is not set")
    return Registry(ServeOptions.from_json(text).settings()).app


def serve(app: Any, listen: Listen, *, log_level: str = "info") -> None:
    uvicorn.Server(uvicorn_config(app, listen, log_level=log_level)).run()


def serve_workers(options_json: str, listen: Listen, workers: int, *, log_level: str = "info") -> None:
    """``workers`` processes, each building its own Registry from the same options; they share
    only the metadata database and the blob store (SQLite WAL and atomic renames make the
    embedded defaults safe to share between processes of one machine)."""
    import os

    os.environ[OPTIONS_ENV] = options_json
    config = uvicorn_config("enarx.registry.serve:app_from_env", listen, log_level=log_level)
    config.factory = True
    config.workers = workers
    uvicorn.Server(config).run() if workers <= 1 else _multiprocess(config)


def _multiprocess(config: uvicorn.Config) -> None:
    from uvicorn.supervisors import Multiprocess

    # Our socket, not config.bind_socket(): uvicorn's has proto 0, so Nagle stays on (enarx.serving).
    sock = tcp_listener(config.host, config.port)
    Multiprocess(config, sockets=[sock]).run()


@contextmanager
def running(app: Any, listen: Listen, *, timeout: float = 20.0) -> Iterator[uvicorn.Server]:
    """Serve in a background thread for the duration of a ``with`` block (tests, benchmarks)."""
    server = uvicorn.Server(uvicorn_config(app, listen))
    thread = threading.Thread(target=server.run, name="registry", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the registry server did not start")
        time.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout)
