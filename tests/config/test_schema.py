"""Enarx.toml: Enarx's schema and defaults, our extensions, overlay and overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from enarx.cli.environment import Environment
from enarx.cli.main import main
from enarx.config import ConfigError, load_config
from enarx.config.effective import DEFAULT_DOCUMENT
from enarx.config.load import apply_override, effective_data, parse_override, validate
from enarx.config.schema import Config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Enarx.toml"
    path.write_text(text)
    return path


ENARX_DOC_EXAMPLE = """
args = ["--argument1", "--argument2=foo"]
[env]
VAR1 = "var1"
VAR2 = "var2"
[[files]]
kind = "null"
[[files]]
kind = "stdout"
[[files]]
kind = "stderr"
[[files]]
name = "listen"
kind = "listen"
prot = "tls"
port = 12345
[[files]]
name = "connect"
kind = "connect"
prot = "tcp"
host = "127.0.0.1"
port = 23456
"""


def test_enarx_documented_example_loads_as_documented(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ENARX_DOC_EXAMPLE)).config
    assert config.fd_names == ["null", "stdout", "stderr", "listen", "connect"]
    listen = config.files[3]
    assert (listen.kind, listen.addr, listen.port, listen.prot) == ("listen", "::", 12345, "tls")
    assert dict(config.env) == {"VAR1": "var1", "VAR2": "var2"}


@pytest.mark.parametrize(("prot", "port"), [("tls", 443), ("tcp", 80)])
def test_default_ports_follow_enarx(tmp_path: Path, prot: str, port: int) -> None:
    text = f'[[files]]\nkind = "listen"\nname = "l"\nprot = "{prot}"\n[[files]]\nkind = "connect"\nhost = "h"\nprot = "{prot}"\n'
    files = load_config(write(tmp_path, text)).config.files
    assert files[0].kind == "listen" and files[0].port == port
    assert files[1].kind == "connect" and files[1].port == port and files[1].name == "h"


def test_no_config_means_stdio() -> None:
    assert load_config(None).config.fd_names == ["stdin", "stdout", "stderr"]


def test_default_document_is_what_the_schema_gives() -> None:
    # The no-config fast path must describe exactly the deployment the schema would.
    validated = Config.model_validate({"files": [{"kind": k} for k in ("stdin", "stdout", "stderr")]})
    assert validated.model_dump(mode="json") == DEFAULT_DOCUMENT
    assert load_config(None).config == load_config(None, overrides=["args=[]"]).config


def test_config_without_files_has_no_fds(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, 'args = ["x"]\n')).config.files == ()


def test_every_error_is_listed(tmp_path: Path) -> None:
    text = '[[files]]\nkind = "listen"\nname = "a:b"\nport = 0\n[[files]]\nkind = "nope"\n'
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert len(info.value.issues) == 3
    assert {i.line for i in info.value.issues} == {3, 4, 6}


def test_listen_needs_a_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="name"):
        load_config(write(tmp_path, '[[files]]\nkind = "listen"\nport = 1\n'))


def test_dir_must_follow_stdio(tmp_path: Path) -> None:
    text = (
        '[[files]]\nkind="stdin"\n[[files]]\nkind="stdout"\n[[files]]\nkind="stderr"\n'
        '[[files]]\nkind="listen"\nname="l"\nprot="tcp"\n[[files]]\nkind="dir"\nname="/d"\npath="."\n'
    )
    with pytest.raises(ConfigError, match="wasi-libc"):
        load_config(write(tmp_path, text))


def test_reserved_env_names_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="FD_COUNT"):
        load_config(write(tmp_path, '[env]\nFD_COUNT = "9"\n'))


def test_limits_units(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[limits]\nmemory = "64MiB"\nwall_time = "2m"\ncpu_time = 1.5\n')).config
    assert (config.memory, config.wall_time, config.cpu_time) == (64 << 20, 120.0, 1.5)
    with pytest.raises(ConfigError, match="size"):
        load_config(write(tmp_path, '[limits]\nmemory = "lots"\n'))
    with pytest.raises(ConfigError, match="positive"):
        load_config(write(tmp_path, "[limits]\nwall_time = 0\n"))


def test_test_overlay_applies_only_with_test(tmp_path: Path) -> None:
    text = 'steward = "https://steward.example"\nca = ["prod.pem"]\n[test]\nsteward = "http://localhost:3000"\nca = ["test.pem"]\n'
    path = write(tmp_path, text)
    assert load_config(path).config.steward == "https://steward.example"
    tested = load_config(path, test=True)
    assert tested.config.steward == "http://localhost:3000"
    assert tested.config.ca == ("test.pem",)
    assert tested.test_overlay_applied


def test_overrides_apply_after_the_overlay(tmp_path: Path) -> None:
    path = write(tmp_path, '[test]\nsteward = "http://a"\n')
    config = load_config(path, test=True, overrides=["steward=http://b"]).config
    assert config.steward == "http://b"


def test_override_parsing() -> None:
    assert parse_override("limits.memory=\"1MiB\"") == (["limits", "memory"], "1MiB")
    assert parse_override("files.3.port=8080") == (["files", 3, "port"], 8080)
    assert parse_override("steward=https://x") == (["steward"], "https://x")  # not TOML: a string
    with pytest.raises(ConfigError):
        parse_override("no-equals")
    data: dict[str, object] = {"files": [{"kind": "null"}]}
    apply_override(data, ["files", 0, "name"], "n")
    assert data == {"files": [{"kind": "null", "name": "n"}]}
    with pytest.raises(ConfigError, match="no array element"):
        apply_override(data, ["files", 5, "name"], "n")


def test_unknown_top_level_key_refused() -> None:
    raw, _ = effective_data({"stewart": "https://typo"}, test=False)
    with pytest.raises(ConfigError, match="unknown key"):
        validate(raw)


def run_cli(*args: str) -> tuple[int, str, str]:
    import io

    out, err = io.StringIO(), io.StringIO()
    status = main(list(args), Environment(stdout=out, stderr=err, environ={}))
    return status, out.getvalue(), err.getvalue()


def test_config_validate_lists_every_error_with_lines(tmp_path: Path) -> None:
    path = write(tmp_path, '[[files]]\nkind = "listen"\nname = "x:y"\nport = 70000\n')
    status, out, _ = run_cli("config", "validate", str(path))
    assert status == 1
    lines = out.strip().splitlines()
    assert lines[0].startswith(f"{path}:3: files[0].name")
    assert lines[1].startswith(f"{path}:4: files[0].port")
    status, out, _ = run_cli("config", "validate", "--json", str(path))
    assert status == 1 and json.loads(out)["valid"] is False


def test_config_validate_accepts_a_good_file(tmp_path: Path) -> None:
    status, out, _ = run_cli("config", "validate", "--test", "--json", str(write(tmp_path, ENARX_DOC_EXAMPLE)))
    assert status == 0
    assert json.loads(out)["config"]["files"][3]["addr"] == "::"


def test_config_init_writes_a_valid_template_and_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "Enarx.toml"
    assert run_cli("config", "init", str(target))[0] == 0
    assert load_config(target).config.fd_names == ["stdin", "stdout", "stderr"]
    status, _, err = run_cli("config", "init", str(target))
    assert status == 1 and "--force" in err


def test_config_schema_is_a_json_schema_with_every_kind() -> None:
    status, out, _ = run_cli("config", "schema")
    assert status == 0
    schema = json.loads(out)
    assert schema["title"] == "Enarx.toml"
    text = json.dumps(schema)
    for kind in ("null", "stdin", "stdout", "stderr", "listen", "connect", "dir"):
        assert f'"const": "{kind}"' in text
    import jsonschema
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate({"files": [{"kind": "listen", "name": "l", "port": 1}]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"files": [{"kind": "listen", "name": "l", "port": 70000}]}, schema)


def test_validated_configs_are_cached_until_anything_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import enarx.config.load as load_module

    path = write(tmp_path, ENARX_DOC_EXAMPLE)
    cache = tmp_path / "cache"
    first = load_config(path, cache_dir=cache)
    calls: list[object] = []
    real_resolve = load_module.resolve
    monkeypatch.setattr(load_module, "resolve", lambda *a, **k: calls.append(a) or real_resolve(*a, **k))
    again = load_config(path, cache_dir=cache)
    assert again.config == first.config and calls == []  # served from the cache
    load_config(path, cache_dir=cache, overrides=["args=[]"])
    load_config(path, cache_dir=cache, test=True)
    path.write_text(ENARX_DOC_EXAMPLE.replace("12345", "12346"))
    changed = load_config(path, cache_dir=cache)
    assert len(calls) == 3  # overrides, test flag and content each miss
    assert changed.config.files[3].port == 12346
    path.write_text(ENARX_DOC_EXAMPLE.replace("12345", "70000"))
    with pytest.raises(ConfigError):  # an invalid file is never answered from the cache
        load_config(path, cache_dir=cache)
