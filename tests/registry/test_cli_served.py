"""The commands against a real registry under uvicorn on loopback, over TLS with a test CA.

The flow a developer follows: token -> user -> repo -> build -> publish -> info -> fetch ->
deploy; then the refusals, each with its exit status and nothing run.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from enarx.cli.environment import Environment
from enarx.cli.main import main
from enarx.cli.status import ExitStatus
from enarx.registry.app import Registry
from enarx.registry.repoconfig import RepoConfig
from enarx.registry.serve import Listen, running
from enarx.registry.settings import RegistrySettings

from ..conftest import enarx_command, free_port
from .certs import Issued, fake_keep_cert, fake_steward_ca
from .conftest import HELLO

pytestmark = pytest.mark.slow


@dataclass
class Served:
    host: str
    data: Path
    ca_file: Path
    keep_cert: Path
    keep_key: Path
    token: str
    registry: Registry


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from datetime import UTC, datetime

    base = tmp_path_factory.mktemp("served")
    now = datetime.now(UTC)  # uvicorn's TLS checks certificates against the real clock
    ca = fake_steward_ca(now=now)
    server = fake_keep_cert(ca, dns="registry.test", server=True, now=now)
    keep: Issued = fake_keep_cert(ca, now=now)
    ca_file = write(base / "ca.pem", ca.pem)
    registry = Registry(RegistrySettings(base / "data", steward_roots=[ca.cert]))
    port = free_port()
    listen = Listen("127.0.0.1", port, write(base / "server.pem", server.pem), write(base / "server.key", server.key_pem),
                    ca_file)
    with running(registry.app, listen):
        s = Served(f"127.0.0.1:{port}", base / "data", ca_file, write(base / "keep.pem", keep.pem),
                   write(base / "keep.key", keep.key_pem), "", registry)
        code, out, err = run(s, "registry", "token", "--data", str(s.data), "--subject", "alice")
        assert code == 0, err
        s.token = out.strip()
        yield s
    registry.close()


def run(s: Served, *argv: str, token: bool = False, cache: Path | None = None) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    environ = {"ENARX_CA_BUNDLE": str(s.ca_file)}
    if token:
        environ["ENARX_REGISTRY_TOKEN"] = s.token
    env = Environment(stdout=stdout, stderr=stderr, environ=environ, cache_dir=cache or s.data.parent / "cache")
    code = main(list(argv), env)
    return code, stdout.getvalue(), stderr.getvalue()


def deploy(s: Served, target: str, cache: Path, *extra: str, unsafe: bool = True) -> subprocess.CompletedProcess[bytes]:
    """examples/hello writes to host stdout, which only an --unsafe (debug build) run permits."""
    env = dict(os.environ, ENARX_CA_BUNDLE=str(s.ca_file), XDG_CACHE_HOME=str(cache))
    argv = [*enarx_command(), "deploy", target, *extra, *(["--unsafe"] if unsafe else [])]
    return subprocess.run(argv, capture_output=True, env=env, timeout=60, check=False)


@pytest.fixture(scope="module")
def published(served: Served) -> str:
    s = served
    assert run(s, "user", "register", f"{s.host}/alice", "--subject", "alice", token=True)[0] == 0
    assert run(s, "repo", "register", f"{s.host}/alice/hello", token=True)[0] == 0
    assert run(s, "repo", "register", f"{s.host}/alice/private", "--private", token=True)[0] == 0
    code, out, err = run(s, "package", "publish", f"{s.host}/alice/hello:1.0.0", str(HELLO), "--json", token=True)
    assert code == 0, err
    code, _, err = run(s, "package", "publish", f"{s.host}/alice/private:1.0.0", str(HELLO), token=True)
    assert code == 0, err
    return str(json.loads(out)["slug"])


def test_publish_prints_the_pinned_slug_matching_build(served: Served, published: str) -> None:
    code, out, _ = run(served, "package", "build", "--json", str(HELLO))
    assert code == 0
    assert published == f"{served.host}/alice/hello:1.0.0@{json.loads(out)['tree_digest']}"


def test_info_commands_print_json(served: Served, published: str) -> None:
    code, out, _ = run(served, "repo", "info", f"{served.host}/alice/hello", "--json")
    assert (code, json.loads(out)) == (0, {"config": {"public": True}, "tags": ["1.0.0"]})
    code, out, _ = run(served, "package", "info", f"{served.host}/alice/hello:1.0.0")
    entry = json.loads(out)
    assert (code, entry["type"], entry["digest"]["sha-256"] is not None) == (0, "application/vnd.drawbridge.directory.v1+json", True)


def test_fetch_writes_the_verified_package(served: Served, published: str, tmp_path: Path) -> None:
    code, _, err = run(served, "package", "fetch", published, "-o", str(tmp_path / "out"))
    assert code == 0, err
    assert (tmp_path / "out" / "main.wasm").read_bytes() == (HELLO / "main.wasm").read_bytes()
    assert (tmp_path / "out" / "Enarx.toml").read_bytes() == (HELLO / "Enarx.toml").read_bytes()


def test_deploy_runs_the_package_by_pinned_slug(served: Served, published: str, tmp_path: Path) -> None:
    result = deploy(served, published, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"Hello, world!\n"
    assert list((tmp_path / "enarx" / "packages").iterdir())


def test_secure_deploy_refuses_an_insecure_package(served: Served, published: str, tmp_path: Path) -> None:
    result = deploy(served, published, tmp_path, unsafe=False)
    assert (result.returncode, result.stdout) == (ExitStatus.INSECURE, b"")
    assert b"host-stdio" in result.stderr


def test_private_package_needs_a_keep_certificate(served: Served, published: str, tmp_path: Path) -> None:
    target = f"{served.host}/alice/private:1.0.0"
    result = deploy(served, target, tmp_path)
    assert (result.returncode, b"401" in result.stderr) == (ExitStatus.ERROR, True), result.stderr
    result = deploy(served, target, tmp_path, "--client-cert", str(served.keep_cert), "--client-key",
                    str(served.keep_key))
    assert (result.returncode, result.stdout) == (0, b"Hello, world!\n"), result.stderr


def test_refusals_have_their_exit_status_and_run_nothing(served: Served, published: str, tmp_path: Path) -> None:
    s = served
    wrong_pin = published.rsplit("@", 1)[0] + "@sha-256:" + "00" * 32
    result = deploy(s, wrong_pin, tmp_path)
    assert (result.returncode, result.stdout) == (ExitStatus.REFUSED, b"")
    assert b"is not the pinned" in result.stderr and b"nothing was run" in result.stderr
    result = deploy(s, f"{s.host}/alice/hello:1.0.0", tmp_path, "--require-signed")
    assert (result.returncode, result.stdout) == (ExitStatus.REFUSED, b"")
    code, _, err = run(s, "package", "publish", f"{s.host}/alice/hello:1.0.0", str(HELLO), token=True)
    assert (code, "409" in err) == (ExitStatus.ERROR, True)
    code, _, err = run(s, "package", "publish", f"{s.host}/alice/hello:1.0.1", str(HELLO))
    assert (code, "401" in err) == (ExitStatus.ERROR, True)
    code, _, err = run(s, "package", "publish", f"{s.host}/alice/hello:latest", str(HELLO), token=True)
    assert (code, "semantic version" in err) == (ExitStatus.ERROR, True)
    code, _, err = run(s, "repo", "info", f"{s.host}/alice/hello", "--ca-bundle", str(tmp_path / "missing.pem"))
    assert (code, "no such file" in err) == (ExitStatus.ERROR, True)
    result = deploy(s, "ftp://example/x", tmp_path)
    assert (result.returncode, b"unsupported scheme" in result.stderr) == (ExitStatus.ERROR, True)


def test_tampered_cache_entry_is_refetched_not_run(served: Served, published: str, tmp_path: Path) -> None:
    assert deploy(served, published, tmp_path).returncode == 0
    entry = next((tmp_path / "enarx" / "packages").iterdir())
    (entry / "Enarx.toml").write_text("args = ['tampered']\n[[files]]\nkind = 'stdout'\n")
    result = deploy(served, published, tmp_path)
    assert (result.returncode, result.stdout) == (0, b"Hello, world!\n"), result.stderr
    assert (entry / "Enarx.toml").read_bytes() == (HELLO / "Enarx.toml").read_bytes()


def test_signed_publish_and_deploy_with_a_trusted_signer(served: Served, published: str, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    s = served
    key = ec.generate_private_key(ec.SECP256R1())
    key_pem = write(tmp_path / "sign.key", key.private_bytes(serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    pub_pem = write(tmp_path / "sign.pub", key.public_key().public_bytes(serialization.Encoding.PEM,
                    serialization.PublicFormat.SubjectPublicKeyInfo))
    other = write(tmp_path / "other.pub", ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    code, _, err = run(s, "repo", "register", f"{s.host}/alice/signed", "--require-signed", "--signer-key",
                       str(pub_pem), token=True)
    assert code == 0, err
    code, _, err = run(s, "package", "publish", f"{s.host}/alice/signed:1.0.0", str(HELLO), token=True)
    assert (code, "requires signed tags" in err) == (ExitStatus.ERROR, True)
    code, _, err = run(s, "package", "publish", f"{s.host}/alice/signed:1.0.0", str(HELLO), "--sign-key",
                       str(key_pem), token=True)
    assert code == 0, err
    code, out, _ = run(s, "package", "info", f"{s.host}/alice/signed:1.0.0")
    assert (code, set(json.loads(out))) == (0, {"signed", "entry"})
    target = f"{s.host}/alice/signed:1.0.0"
    result = deploy(s, target, tmp_path / "c1")
    assert (result.returncode, b"no trusted signer" in result.stderr) == (ExitStatus.REFUSED, True)
    result = deploy(s, target, tmp_path / "c2", "--signer", str(other))
    assert (result.returncode, b"no signature verifies" in result.stderr) == (ExitStatus.REFUSED, True)
    result = deploy(s, target, tmp_path / "c3", "--signer", str(pub_pem), "--require-signed", "--test", unsafe=False)
    assert (result.returncode, result.stdout) == (0, b"Hello, world!\n"), result.stderr
    # The signer in the Keep's claims is the SHA-256 JWK thumbprint of the publisher key.
    import sqlite3

    from enarx.registry.signing import b64url_decode, public_jwk, thumbprint

    with sqlite3.connect(tmp_path / "c3" / "enarx" / "test-steward" / "steward.db") as db:
        (claims,) = [json.loads(row[0]) for row in db.execute("SELECT claims FROM issuance")]
    assert claims["signer"] == b64url_decode(thumbprint(public_jwk(key.public_key()))).hex()
    assert claims["slug"] == target


def test_test_mode_deploy_certifies_the_application_digest_build_prints(
    served: Served, published: str, tmp_path: Path
) -> None:
    import shutil

    from enarx.identity.san import adig_dns_name

    # The package holds a file besides main.wasm and Enarx.toml: the application digest the
    # Keep's certificate carries covers it too, as `package build` prints it.
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    for name in ("main.wasm", "Enarx.toml", "main.c"):
        shutil.copy(HELLO / name, pkg / name)
    code, out, _ = run(served, "package", "build", "--json", str(pkg))
    app = bytes.fromhex(json.loads(out)["application_digest"].removeprefix("sha-256:"))
    code, out, err = run(served, "package", "publish", f"{served.host}/alice/hello:1.1.0", str(pkg), "--json", token=True)
    assert code == 0, err
    result = deploy(served, json.loads(out)["slug"], tmp_path, "--test", unsafe=False)
    assert (result.returncode, result.stdout) == (0, b"Hello, world!\n"), result.stderr
    assert adig_dns_name(app, "enarx.test").encode() in result.stderr
    # The Keep's claims, as the embedded test Steward logged them, name the slug it deployed.
    import sqlite3

    with sqlite3.connect(tmp_path / "enarx" / "test-steward" / "steward.db") as db:
        claims = [json.loads(row[0]) for row in db.execute("SELECT claims FROM issuance")]
    assert [c["slug"] for c in claims] == [f"{served.host}/alice/hello:1.1.0"]
    assert claims[0]["signer"] is None and claims[0]["application_digest"] == app.hex()


def test_registry_serve_command_starts_and_refuses_anonymous_writes(tmp_path: Path) -> None:
    import httpx

    from ..conftest import wait_for_port

    port = free_port()
    env = dict(os.environ)
    proc = subprocess.Popen([*enarx_command(), "registry", "serve", "--data", str(tmp_path / "d"), "--port", str(port),
                             "--log-level", "warning"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        wait_for_port(port, proc)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").text == "ok"
        r = httpx.put(f"http://127.0.0.1:{port}/api/v0.1.0/alice", content=b'{"subject":"a"}',
                      headers={"Content-Type": "application/json"})
        assert (r.status_code, r.text) == (401, "Bearer token header missing")
        r = httpx.head(f"http://127.0.0.1:{port}/api/v0.1.0/alice/hello/_tag/1.0.0")
        assert r.status_code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


@pytest.mark.parametrize("command", ["package", "registry", "repo", "user", "deploy"])
def test_help_teaches_with_examples(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([command, "--help"], Environment(stdout=io.StringIO(), stderr=io.StringIO(), environ={}))
    text = capsys.readouterr().out
    assert code == 0
    assert f"enarx {command}" in text or "enarx deploy" in text
    assert text.count("\n  enarx ") >= 2, text  # worked examples, not only a flag list


def test_publish_a_bare_module_and_deploy_it(served: Served, published: str, tmp_path: Path) -> None:
    code, out, err = run(served, "package", "publish", f"{served.host}/alice/hello:0.0.1", str(HELLO / "main.wasm"),
                         "--json", token=True)
    assert code == 0, err
    result = deploy(served, json.loads(out)["slug"], tmp_path)
    assert (result.returncode, result.stdout) == (0, b"Hello, world!\n"), result.stderr


def test_secure_deploy_over_plain_http_needs_a_pin_or_a_signature(tmp_path: Path) -> None:
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    # Refused before any request: nothing listens on port 9.
    result = subprocess.run([*enarx_command(), "deploy", "http://127.0.0.1:9/alice/hello:1.0.0"], capture_output=True,
                            env=env, timeout=60, check=False)
    assert (result.returncode, b"without an anchor" in result.stderr) == (ExitStatus.INSECURE, True), result.stderr
    pinned = "http://127.0.0.1:9/alice/hello:1.0.0@sha-256:" + "00" * 32
    result = subprocess.run([*enarx_command(), "deploy", pinned], capture_output=True, env=env, timeout=60, check=False)
    assert (result.returncode, b"127.0.0.1:9" in result.stderr) == (ExitStatus.ERROR, True), result.stderr


def test_fetch_refuses_a_non_empty_output_directory(served: Served, published: str, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    code, _, err = run(served, "package", "fetch", published, "-o", str(tmp_path / "out"))
    assert (code, "not empty" in err) == (ExitStatus.ERROR, True)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]


def test_registry_serves_with_several_workers(tmp_path: Path) -> None:
    import httpx

    from ..conftest import wait_for_port

    port = free_port()
    data = tmp_path / "d"
    token = subprocess.run([*enarx_command(), "registry", "token", "--data", str(data), "--subject", "alice"],
                           capture_output=True, text=True, check=True).stdout.strip()
    proc = subprocess.Popen([*enarx_command(), "registry", "serve", "--data", str(data), "--port", str(port),
                             "--workers", "2", "--log-level", "warning"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, proc)
        from enarx.registry.client import RegistryClient
        from enarx.registry.fetch import TrustPolicy, fetch_package

        with RegistryClient(f"http://127.0.0.1:{port}", token=token) as client:
            client.register_user("alice", "alice")
            client.register_repo("alice", "hello", RepoConfig(public=True))
            files = {n: (HELLO / n).read_bytes() for n in ("main.wasm", "Enarx.toml")}
            tree = client.publish("alice", "hello", "1.0.0", files)
        # Several connections, so both workers are likely to answer some.
        for _ in range(4):
            with RegistryClient(f"http://127.0.0.1:{port}") as reader:
                assert dict(fetch_package(reader, "/alice/hello/_tag/1.0.0", TrustPolicy(pin=tree.sha256)).files) == files
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").text == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
