"""The release build has no code for insecure features; asking it for them names the fix.

The release wheel is built from this checkout and installed with pip into a fresh virtual
environment whose dependencies are this environment's own (linked, not the enarx or
enarx-debug distributions), so the test needs no network.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT

# Module names that would mean insecure code shipped in the release wheel.
FORBIDDEN = ("enarx_debug", "stdio", "dirs", "tcp", "nil", "test_steward")


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the release wheel, the python of a venv where only it is installed)."""
    work = tmp_path_factory.mktemp("release")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(work / "dist"), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = (work / "dist").glob("enarx-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # Dependencies: every top-level entry of our site-packages except the enarx distributions
    # and the editable-install hooks, linked into a directory the new venv reads through a .pth.
    site = Path(sysconfig.get_paths()["purelib"])
    deps = work / "deps"
    deps.mkdir()
    for entry in site.iterdir():
        name = entry.name.lower()
        if name.startswith(("enarx", "__editable__", "_distutils_hack", "distutils-precedence")) or name.endswith(".pth"):
            continue
        (deps / entry.name).symlink_to(entry)
    target_site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip())
    (target_site / "deps.pth").write_text(f"{deps}\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    return wheel, python


def run_release(python: Path, *args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    return subprocess.run(
        [str(python), "-m", "enarx", *args], capture_output=True, text=True, env=env, timeout=120, check=False,
        cwd=tmp_path,
    )


def test_release_wheel_contains_no_insecure_code(release: tuple[Path, Path]) -> None:
    wheel, _ = release
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    modules = [n for n in names if n.endswith(".py")]
    assert "enarx/wasi/preview1.py" in modules and "enarx/wasi/tls.py" in modules
    offenders = [m for m in modules if any(Path(m).stem == f or m.startswith(f"{f}/") for f in FORBIDDEN)]
    assert offenders == []
    text = "\n".join(archive_text(wheel, m) for m in modules)
    for marker in ("class HostStreamFile", "class TcpStream", "class TcpListener", "class Dir(", "class NilBackend"):
        assert marker not in text


def archive_text(wheel: Path, member: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(member).decode("utf-8", errors="replace")


def test_release_says_it_is_release(release: tuple[Path, Path], tmp_path: Path) -> None:
    _, python = release
    result = run_release(python, "--version", tmp_path=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == "enarx 0.1.0 (release build)"


@pytest.mark.parametrize("flag", ["--test", "--unsafe"])
def test_release_refuses_test_and_unsafe_in_one_line(release: tuple[Path, Path], tmp_path: Path, flag: str) -> None:
    _, python = release
    result = run_release(python, "run", flag, str(EXAMPLES / "hello" / "main.wasm"), tmp_path=tmp_path)
    assert result.returncode == 125
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{flag} is not in the release build" in lines[0]
    assert "pip install enarx-debug" in lines[0]
    assert result.stdout == ""


def test_release_refuses_host_stdio_even_when_asked(release: tuple[Path, Path], tmp_path: Path) -> None:
    _, python = release
    result = run_release(python, "run", str(EXAMPLES / "hello" / "main.wasm"), tmp_path=tmp_path)
    assert result.returncode == 4
    assert "host-stdio" in result.stderr


def test_debug_build_names_itself() -> None:
    result = subprocess.run([sys.executable, "-m", "enarx", "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "enarx 0.1.0 (debug build: enarx-debug 0.1.0)"
