"""`enarx steward ...` in process: output, exit statuses, files."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from enarx.cli.environment import Environment
from enarx.cli.main import main
from enarx.cli.status import ExitStatus
from enarx.steward.log import IssuanceLog, IssuanceRecord

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def run(*argv: str, cwd: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, environ={}, clock=lambda: NOW)
    import os

    old = os.getcwd()
    os.chdir(cwd)
    try:
        status = main(list(argv), env)
    finally:
        os.chdir(old)
    return status, out.getvalue(), err.getvalue()


def test_help_teaches(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, _ = run("steward", "--help", cwd=tmp_path)
    assert status == 0
    text = capsys.readouterr().out
    assert "enarx steward init" in text and "docs/steward.md" in text


def test_init_serve_check_log_revoke(tmp_path: Path) -> None:
    status, out, _ = run("steward", "init", "--dir", "ca", "--test", "--json", cwd=tmp_path)
    assert status == ExitStatus.OK and json.loads(out)["test"] is True
    status, _, err = run("steward", "init", "--dir", "ca", cwd=tmp_path)
    assert status == ExitStatus.ERROR and "refusing to overwrite" in err and "Traceback" not in err
    (tmp_path / "steward.toml").write_text('mode = "test"\n')
    status, out, _ = run("steward", "serve", "--check", cwd=tmp_path)
    assert status == ExitStatus.OK and "mode test" in out and "log sqlite" in out
    status, out, _ = run("steward", "serve", "--check", "--json", cwd=tmp_path)
    assert json.loads(out)["trust_domain"] == "enarx.test" and json.loads(out)["clock_override"] is None
    log = IssuanceLog(str(tmp_path / "steward.db"))
    log.record([IssuanceRecord(
        serial=0xABC, issued_at=NOW, not_after=NOW, tee="nil", apps=("pay",), claims=None,
        evidence_digest="00", decision={}, certificate_pem="PEM\n",
    )])
    log.close()
    status, out, _ = run("steward", "log", cwd=tmp_path)
    assert status == ExitStatus.OK and out.startswith("abc  2026-01-01T00:00:00Z  nil  pay") and "valid" in out
    status, out, _ = run("steward", "revoke", "0xABC", "--reason", "superseded", "--json", cwd=tmp_path)
    assert status == ExitStatus.OK and json.loads(out)["revocation_reason"] == "superseded"
    status, out, _ = run("steward", "log", "--json", "--serial", "abc", cwd=tmp_path)
    doc = json.loads(out)
    assert doc["revoked_at"] == NOW.isoformat() and doc["certificate"] == "PEM\n"
    status, _, err = run("steward", "revoke", "abc", cwd=tmp_path)
    assert status == ExitStatus.ERROR and "was revoked" in err


def test_serve_check_refuses_bad_config(tmp_path: Path) -> None:
    run("steward", "init", "--dir", "ca", cwd=tmp_path)  # a production CA
    (tmp_path / "steward.toml").write_text('mode = "test"\n')
    status, _, err = run("steward", "serve", "--check", cwd=tmp_path)
    assert status == ExitStatus.ERROR and "needs a test CA" in err
    (tmp_path / "steward.toml").write_text('mode = "production"\ntrust_domain = "x.example"\nfoo = 1\n')
    status, _, err = run("steward", "serve", "--check", cwd=tmp_path)
    assert status == ExitStatus.ERROR and "steward.toml:3: foo: unknown key" in err


def test_the_steward_console_script_is_enarx_steward(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = Path(sys.executable).parent / "steward"
    assert script.exists(), "scripts/setup installs the steward console script"
    done = subprocess.run([str(script), "init", "--dir", "ca", "--test", "--json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["test"] is True and (tmp_path / "ca" / "root.pem").is_file()
    again = subprocess.run([str(script), "init", "--dir", "ca"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert again.returncode == ExitStatus.ERROR and "refusing to overwrite" in again.stderr
