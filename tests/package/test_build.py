"""``enarx package build``: what makes a package valid, and its three digests."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from enarx.cli.environment import Environment
from enarx.cli.main import main
from enarx.cli.status import ExitStatus
from enarx.identity.digests import application_digest, build_tree, deployment_digest
from enarx.keep.engine import ModuleError
from enarx.package.build import PackageError, build_package, effective_config
from enarx.package.cache import PackageCache

from ..conftest import EXAMPLES, TESTDATA

HELLO = EXAMPLES / "hello"


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), Environment(stdout=out, stderr=err, environ={}))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def pkg(tmp_path: Path) -> Path:
    target = tmp_path / "pkg"
    target.mkdir()
    for name in ("main.wasm", "Enarx.toml"):
        shutil.copy(HELLO / name, target / name)
    return target


def test_digests_are_the_identity_definitions(pkg: Path) -> None:
    report = build_package(pkg)
    files = {"main.wasm": (pkg / "main.wasm").read_bytes(), "Enarx.toml": (pkg / "Enarx.toml").read_bytes()}
    assert report.tree.sha256 == build_tree(files).sha256
    assert report.application_digest == application_digest(files)
    assert report.deployment_digest == deployment_digest(report.application_digest, effective_config(report.config))
    code, out, _ = cli("package", "build", "--json", str(pkg))
    doc = json.loads(out)
    assert (code, doc["tree_digest"]) == (0, f"sha-256:{report.tree.sha256.hex()}")
    assert doc["files"] == {"Enarx.toml": len(files["Enarx.toml"]), "main.wasm": len(files["main.wasm"])}


def test_config_changes_the_deployment_digest_but_not_the_application(pkg: Path) -> None:
    base = build_package(pkg)
    overridden = build_package(pkg, overrides=['args=["x"]'])
    assert overridden.application_digest == base.application_digest
    assert overridden.deployment_digest != base.deployment_digest
    (pkg / "Enarx.toml").write_text("args = ['y']\n" + (pkg / "Enarx.toml").read_text())
    edited = build_package(pkg)
    assert (edited.application_digest, edited.tree.sha256 != base.tree.sha256) == (base.application_digest, True)


def test_text_output_names_the_three_digests(pkg: Path) -> None:
    code, out, _ = cli("package", "build", str(pkg))
    assert code == 0
    assert [line.split(":")[0] for line in out.splitlines()] == ["tree digest", "application digest", "deployment digest"]


@pytest.mark.parametrize(
    ("setup", "error", "reason"),
    [
        (lambda p: (p / "main.wasm").unlink(), PackageError, "no main.wasm"),
        (lambda p: (p / "Enarx.toml").unlink(), PackageError, "no Enarx.toml"),
        (lambda p: (p / "Enarx.toml").write_text("[[files]]\nkind = 'nope'\n"), Exception, "Enarx.toml"),
        (lambda p: (p / "main.wasm").write_bytes(b"not wasm"), ModuleError, "not valid WebAssembly"),
        (lambda p: shutil.copy(TESTDATA / "no-start.wasm", p / "main.wasm"), ModuleError, "no _start"),
        (lambda p: (p / "a b.txt").write_text("x"), PackageError, "not a Drawbridge tree name"),
        (lambda p: (p / "link").symlink_to(p / "main.wasm"), PackageError, "only regular files"),
    ],
)
def test_invalid_packages_are_refused_with_the_reason(pkg: Path, setup: object, error: type[Exception],
                                                      reason: str) -> None:
    setup(pkg)  # type: ignore[operator]
    with pytest.raises(error, match=reason):
        build_package(pkg)
    code, _, err = cli("package", "build", str(pkg))
    assert (code, reason in err) == (ExitStatus.ERROR, True), err


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="not a directory"):
        build_package(tmp_path / "missing")


def test_cache_entries_are_whole_and_rehashed(tmp_path: Path, pkg: Path) -> None:
    report = build_package(pkg)
    cache = PackageCache(tmp_path / "cache")
    path = cache.store(report.tree.sha256, report.files)
    assert cache.load(report.tree.sha256) == (path, dict(report.files))
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [report.tree.sha256.hex()]
    (path / "main.wasm").write_bytes(b"\0asm\1\0\0\0")
    assert cache.load(report.tree.sha256) is None
    assert not path.exists()
