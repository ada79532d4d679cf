"""For real under uvicorn on loopback: the embedded test Steward and `enarx steward serve`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from enarx.identity import verify_peer
from enarx.serving import tcp_listener
from enarx.steward.embedded import start_embedded_steward
from enarx.steward.wire import MEDIA_PKCS10, decode_pkipath
from tests.steward.csrs import claims, nil_csr

REPO = Path(__file__).resolve().parents[2]


def test_embedded_steward_issues_over_loopback() -> None:
    with start_embedded_steward() as steward:
        assert steward.url.startswith("http://127.0.0.1:") and steward.root_ca_path.is_file()
        with httpx.Client(base_url=steward.url, timeout=10) as c:
            assert c.get("/").status_code == 200
            r = c.post("/", content=nil_csr(with_claims=claims(apps=("web",))), headers={"content-type": MEDIA_PKCS10})
            assert r.status_code == 200, r.text
            root, intermediate, leaf = decode_pkipath(r.content)
            assert root == x509.load_pem_x509_certificate(steward.root_ca_path.read_bytes())
            # The CRL distribution point names the embedded Steward itself, and answers.
            [dp] = leaf.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
            crl_url = dp.full_name[0].value  # type: ignore[index]
            assert crl_url == f"{steward.url}/v1/crl"
            crl = x509.load_der_x509_crl(httpx.get(crl_url, timeout=10).content)
            assert crl.is_signature_valid(intermediate.public_key())
            peer = verify_peer(
                leaf, [intermediate], trust_anchors=[root], trust_domain="enarx.test", app="web",
                now=leaf.not_valid_before_utc + (leaf.not_valid_after_utc - leaf.not_valid_before_utc) / 2,
                allow_insecure={"nil-backend"},
            )
            assert peer.names.apps == ("web",)
            # A 10 MB body over a real connection: a clean 413, not a reset.
            big = c.post("/", content=b"\0" * (10 << 20), headers={"content-type": MEDIA_PKCS10})
            assert big.status_code == 413 and big.json()["code"] == "request.too_large"
        port, directory = steward.port, steward.directory
    assert not directory.exists()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(workdir: Path, *, port: int, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`enarx steward serve` in a subprocess, ready when GET / answers."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "STEWARD_PORT": str(port), **(extra_env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from enarx.cli.main import main; sys.exit(main(sys.argv[1:]))",
         "steward", "serve", "--config", str(workdir / "steward.toml")],
        cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"steward exited {proc.returncode}: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("steward did not start in 30 s")


def write_test_config(workdir: Path, *, database: str = "steward.db") -> None:
    from datetime import UTC, datetime

    from enarx.steward.ca import init_ca

    init_ca(workdir / "ca", now=datetime.now(UTC), test=True)
    (workdir / "steward.toml").write_text(
        f'mode = "test"\n[server]\nhost = "127.0.0.1"\ndatabase = "{database}"\nsqlite_synchronous = "NORMAL"\n'
    )


@pytest.mark.slow
def test_enarx_steward_serve_subprocess(tmp_path: Path) -> None:
    write_test_config(tmp_path)
    port = _free_port()
    proc = start_server(tmp_path, port=port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
            r = c.post("/v1/attest", content=nil_csr(pem=True), headers={"content-type": "application/x-pem-file"})
            assert r.status_code == 200, r.text
            assert c.get("/healthz").json()["issued"] == 1
            assert "steward_certificates_issued_total" in c.get("/metrics").text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert proc.returncode in (0, -signal.SIGTERM)
    assert proc.stderr is not None and b"Finished server process" in proc.stderr.read()


def test_service_sockets_send_without_nagle() -> None:
    """A connection accepted on a service socket has TCP_NODELAY (asyncio sets it only when the
    listener names its protocol; without it every response waited 40 ms for a delayed ACK)."""
    with tcp_listener("127.0.0.1", 0, reuse_port=True) as listener:
        assert listener.proto == socket.IPPROTO_TCP
        with socket.create_connection(listener.getsockname()[:2], timeout=5):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def _worker_pids(supervisor: int) -> list[int]:
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    return [int(pid) for pid in children if Path(f"/proc/{pid}/cmdline").read_bytes().find(b"spawn_main") >= 0]


def _start_two_workers(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int, list[int]]:
    """`enarx steward serve` with ``workers = 2``: the supervisor, its port, its two workers."""
    write_test_config(tmp_path)
    with (tmp_path / "steward.toml").open("a") as f:
        f.write("workers = 2\n")
    port = _free_port()
    proc = start_server(tmp_path, port=port)
    deadline = time.monotonic() + 30
    while len(workers := _worker_pids(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    return proc, port, workers


@pytest.mark.slow
def test_two_workers_share_the_port_and_go_when_the_supervisor_goes(tmp_path: Path) -> None:
    proc, port, workers = _start_two_workers(tmp_path)
    try:
        assert len(workers) == 2
        # Connections are spread over both workers. Each counts what it issued: a count read on
        # the connection that was just served below the number of requests means the other
        # worker served some.
        counts = []
        for _ in range(40):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
                r = c.post("/", content=nil_csr(), headers={"content-type": MEDIA_PKCS10})
                assert r.status_code == 200
                [line] = [x for x in c.get("/metrics").text.splitlines() if x.startswith("steward_certificates_issued_total{")]
                counts.append(float(line.rsplit(" ", 1)[1]))
        assert max(counts) < 40 and sorted(set(counts)) != counts
        proc.send_signal(signal.SIGKILL)  # the supervisor dies without a word to its workers
        proc.wait(timeout=10)
        deadline = time.monotonic() + 20
        while any(Path(f"/proc/{pid}").exists() and b"Z" not in Path(f"/proc/{pid}/stat").read_bytes().split(b")")[1][:3]
                  for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_two_workers_stop_cleanly_on_sigterm(tmp_path: Path) -> None:
    proc, port, workers = _start_two_workers(tmp_path)
    try:
        assert len(workers) == 2
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
            assert c.post("/", content=nil_csr(), headers={"content-type": MEDIA_PKCS10}).status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            pass
        # Each worker closed its log on the way out: the WAL is checkpointed into the database.
        assert not (tmp_path / "steward.db-wal").exists() or (tmp_path / "steward.db-wal").stat().st_size == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_bad_ca_stops_a_multi_worker_steward_with_one_line(tmp_path: Path) -> None:
    """The CA is checked before any worker starts: one line and an exit, not workers crashing
    and being restarted forever."""
    write_test_config(tmp_path)  # a test CA ...
    text = (tmp_path / "steward.toml").read_text().replace('mode = "test"', 'mode = "production"\ntrust_domain = "x.example"')
    (tmp_path / "steward.toml").write_text(text + "workers = 2\n")  # ... for a production Steward
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "STEWARD_PORT": str(_free_port())}
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from enarx.cli.main import main; sys.exit(main(sys.argv[1:]))",
         "steward", "serve", "--config", str(tmp_path / "steward.toml")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode != 0
    assert "TEST CA" in done.stderr and "Traceback" not in done.stderr, done.stderr
