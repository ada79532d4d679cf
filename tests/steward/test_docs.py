"""docs/steward.md's example steward.toml loads (placeholders filled in)."""

from __future__ import annotations

import re
from pathlib import Path

from enarx.steward.settings import load_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "steward.md"


def test_documented_config_loads(tmp_path: Path) -> None:
    text = DOC.read_text()
    block = re.search(r"## steward.toml\n\n```toml\n(.*?)```", text, re.S)
    assert block is not None
    toml = block.group(1)
    toml = toml.replace("<sha-384 hex>", "ab" * 48).replace("<sha-256 hex>", "cd" * 32)
    toml = toml.replace("<sha-256 hex of the publisher key>", "ef" * 32).replace("<application digest hex>", "01" * 32)
    (tmp_path / "steward.toml").write_text(toml)
    config = load_config(tmp_path / "steward.toml", {})
    assert config.policy.mode == "production" and config.policy.trust_domain == "steward.example"
    assert set(config.policy.applications) == {"payments"}
    assert config.settings.crl_url == "https://steward.example/v1/crl"
    assert config.policy.attestation.snp.measurements == frozenset({bytes.fromhex("ab" * 48)})
