"""``enarx config``: write a template, validate a file, print the JSON Schema."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from enarx.cli.environment import Environment
from enarx.cli.status import ExitStatus
from enarx.config.load import ConfigError, ConfigIssue, effective_data, read_toml, validate
from enarx.config.schema import Config

TEMPLATE = """\
# Enarx.toml: how a Keep runs its workload. Reference: docs/enarx-toml.md
# The i-th [[files]] entry is the workload's fd i; FD_COUNT and FD_NAMES tell it which is which.

## The Steward the Keep attests to (https)
# steward = "https://steward.example.com"

## Arguments; argv[0] is always "main.wasm"
# args = ["--argument1", "--argument2=foo"]

## The workload's whole environment (nothing of the host's is passed in)
# [env]
# VAR1 = "var1"

## Host stdio (insecure: debug builds and `enarx run --unsafe`/`--test` only)
[[files]]
kind = "stdin"

[[files]]
kind = "stdout"

[[files]]
kind = "stderr"

## A TLS listener on port 8443 (TLS terminates inside the Keep)
# [[files]]
# kind = "listen"
# name = "ingest"
# prot = "tls"   # or "tcp" (insecure)
# port = 8443

## An outgoing TLS connection whose server must be the application "payments"
# [[files]]
# kind = "connect"
# host = "payments.example.com"
# prot = "tls"
# peer = "payments"

## Resource limits
# [limits]
# memory = "256MiB"
# wall_time = "1h"
# cpu_time = "10m"

## Used instead of the above by `enarx run --test`
# [test]
# steward = "http://localhost:3000"
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], env: Environment) -> None:
    parser = sub.add_parser("config", help="write, check and describe Enarx.toml files")
    group = parser.add_subparsers(dest="config_command", metavar="SUBCOMMAND")
    group.required = True

    init = group.add_parser("init", help="write an Enarx.toml template (to ./Enarx.toml, or stdout with -)")
    init.add_argument("path", nargs="?", default="Enarx.toml", help="where to write it; '-' for stdout")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(handler=handle_init)

    check = group.add_parser(
        "validate", help="check an Enarx.toml and list every error with file:line",
        description="Check an Enarx.toml against the schema. Exit 0 when valid; 1 with every error listed.",
    )
    check.add_argument("file", type=Path)
    check.add_argument("--test", action="store_true", help="also validate with the [test] overlay applied")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.set_defaults(handler=handle_validate)

    schema = group.add_parser("schema", help="print the JSON Schema of Enarx.toml (for editors)")
    schema.set_defaults(handler=handle_schema)


def handle_init(args: argparse.Namespace, env: Environment) -> ExitStatus:
    if args.path == "-":
        env.stdout.write(TEMPLATE)
        return ExitStatus.OK
    path = Path(args.path)
    if path.exists() and not args.force:
        print(f"enarx: error: {path} exists; use --force to overwrite it", file=env.stderr)
        return ExitStatus.ERROR
    path.write_text(TEMPLATE)
    print(f"wrote {path}", file=env.stderr)
    return ExitStatus.OK


def handle_validate(args: argparse.Namespace, env: Environment) -> ExitStatus:
    issues: list[ConfigIssue] = []
    effective: Config | None = None
    try:
        data, text = read_toml(args.file)
        for test in (False, True) if args.test else (False,):
            try:
                raw, _ = effective_data(data, test=test)
                effective = validate(raw, source=str(args.file), text=text)
            except ConfigError as exc:
                issues.extend(i for i in exc.issues if i not in issues)
    except ConfigError as exc:
        issues.extend(exc.issues)
    if args.json:
        result = {
            "valid": not issues,
            "errors": [{"file": i.path, "line": i.line, "location": i.location, "message": i.message} for i in issues],
            "config": effective.model_dump(mode="json") if effective is not None and not issues else None,
        }
        print(json.dumps(result, indent=2), file=env.stdout)
    else:
        for issue in issues:
            print(issue, file=env.stdout)
        if not issues:
            print(f"{args.file}: valid", file=env.stdout)
    return ExitStatus.OK if not issues else ExitStatus.ERROR


def handle_schema(args: argparse.Namespace, env: Environment) -> ExitStatus:
    schema = Config.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Enarx.toml"
    print(json.dumps(schema, indent=2), file=env.stdout)
    return ExitStatus.OK
