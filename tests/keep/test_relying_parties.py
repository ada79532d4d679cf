"""Relying parties nobody here wrote (openssl, curl, Python's ssl) checking a Keep by name."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509

from enarx.config import load_config
from enarx.identity.digests import application_digest, deployment_digest
from enarx.identity.san import b32
from tests.conftest import EXAMPLES, free_port, run_enarx
from tests.keep.conftest import tls_client_config, tls_echo_config

# scripts/test installs openssl and curl; a run without them skips here, except in CI, where
# a missing relying party must fail rather than pass unnoticed.
pytestmark = pytest.mark.skipif(
    os.environ.get("CI") != "true" and (shutil.which("openssl") is None or shutil.which("curl") is None),
    reason="openssl and curl are installed by scripts/test",
)

Keep = Callable[..., tuple[subprocess.Popen[bytes], int]]


def hello_keep(keep: Keep, tmp_path: Path) -> int:
    port = free_port()
    directory = tmp_path / "hello"
    shutil.copytree(EXAMPLES / "https-hello", directory)
    config = directory / "Enarx.toml"
    config.write_text(config.read_text().replace("port = 8443", f"port = {port}"))
    keep(config, port)
    return port


def test_curl_verifies_the_keep_by_application_name(keep: Keep, tmp_path: Path, test_root: Path) -> None:
    port = hello_keep(keep, tmp_path)
    ok = subprocess.run(
        ["curl", "-sS", "--cacert", str(test_root), "--resolve", f"hello.app.enarx.test:{port}:127.0.0.1",
         f"https://hello.app.enarx.test:{port}/verified"],
        capture_output=True, timeout=30, check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == b"Hello from an Enarx Keep! You asked for /verified\n"
    wrong = subprocess.run(
        ["curl", "-sS", "--cacert", str(test_root), "--resolve", f"payments.app.enarx.test:{port}:127.0.0.1",
         f"https://payments.app.enarx.test:{port}/"],
        capture_output=True, timeout=30, check=False,
    )
    assert wrong.returncode == 60  # peer certificate cannot be authenticated
    assert b"payments.app.enarx.test" in wrong.stderr


def openssl_verify(port: int, root: Path, hostname: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-verify_hostname", hostname,
         "-CAfile", str(root), "-verify_return_error", "-brief"],
        input=b"GET / HTTP/1.0\r\n\r\n", capture_output=True, timeout=30, check=False,
    )


def test_openssl_verifies_the_keep_by_hostname(keep: Keep, tmp_path: Path, test_root: Path) -> None:
    port = hello_keep(keep, tmp_path)
    ok = openssl_verify(port, test_root, "hello.app.enarx.test")
    assert ok.returncode == 0, ok.stderr
    assert b"Verification: OK" in ok.stderr
    assert b"TLSv1.3" in ok.stderr
    wrong = openssl_verify(port, test_root, "other.app.enarx.test")
    assert wrong.returncode != 0
    assert b"hostname mismatch" in wrong.stderr.lower() or b"verify error" in wrong.stderr.lower()


def test_python_ssl_pins_a_deployment_by_its_digest(keep: Keep, tmp_path: Path, test_root: Path) -> None:
    port = free_port()
    config = tls_echo_config(tmp_path / "echo", port=port)
    keep(config, port)
    # The relying party computes the deployment digest itself, from the bytes and the config.
    loaded = load_config(config, test=True)
    app = application_digest({"main.wasm": (config.parent / "main.wasm").read_bytes()})
    ddig = f"{b32(deployment_digest(app, loaded.config.document))}.ddig.enarx.test"
    context = ssl.create_default_context(cafile=str(test_root))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, context.wrap_socket(raw, server_hostname=ddig) as tls:
        tls.sendall(b"pinned\n")
        assert tls.recv(100) == b"pinned\n"
        leaf = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True) or b"")
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert "spiffe://enarx.test/app/echo" in names.get_values_for_type(x509.UniformResourceIdentifier)
    other = f"{b32(bytes(32))}.ddig.enarx.test"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, pytest.raises(ssl.SSLCertVerificationError):
        context.wrap_socket(raw, server_hostname=other)


def test_two_keeps_connect_when_the_client_names_its_peer(
    keep: Keep, tmp_path: Path, enarx_env: dict[str, str]
) -> None:
    port = free_port()
    keep(tls_echo_config(tmp_path / "server", port=port, app="echo"), port)
    config = tls_client_config(tmp_path / "client", port=port, peer="echo")
    result = run_enarx(["run", "--test", "--wasmcfgfile", str(config), str(config.parent / "main.wasm")], enarx_env)
    assert result.returncode == 0, result.stderr
    assert b"ping" in result.stdout


def test_a_keep_naming_the_wrong_peer_is_refused(keep: Keep, tmp_path: Path, enarx_env: dict[str, str]) -> None:
    port = free_port()
    keep(tls_echo_config(tmp_path / "server", port=port, app="echo"), port)
    config = tls_client_config(tmp_path / "client", port=port, peer="payments")
    result = run_enarx(["run", "--test", "--wasmcfgfile", str(config), str(config.parent / "main.wasm")], enarx_env)
    assert result.returncode == 125
    err = result.stderr.decode()
    assert "TLS to 127.0.0.1" in err and "payments.app.enarx.test" in err
    assert "Traceback" not in err


def test_listener_requiring_a_named_peer_refuses_others(keep: Keep, tmp_path: Path, enarx_env: dict[str, str]) -> None:
    port = free_port()
    server = tls_echo_config(tmp_path / "server", port=port, app="echo",
                             extra='client_auth = "require"\npeers = ["client"]\n')
    keep(server, port)
    allowed = tls_client_config(tmp_path / "client", port=port, peer="echo")
    result = run_enarx(["run", "--test", "--wasmcfgfile", str(allowed), str(allowed.parent / "main.wasm")], enarx_env)
    assert result.returncode == 0, result.stderr
    assert b"ping" in result.stdout
    # A client with another application name completes no echo.
    stranger = tls_client_config(tmp_path / "stranger", port=port, peer="echo")
    stranger.write_text(stranger.read_text().replace('app = "client"', 'app = "stranger"'))
    refused = run_enarx(["run", "--test", "--wasmcfgfile", str(stranger), str(stranger.parent / "main.wasm")], enarx_env)
    assert b"ping" not in refused.stdout
    assert refused.returncode != 0
