"""``enarx repo``: create and inspect package repositories."""

from __future__ import annotations

import argparse
from pathlib import Path

from enarx.cli.environment import Environment
from enarx.cli.parser import RawDescriptionHelpFormatter
from enarx.cli.registry_common import (
    add_client_options,
    default_host,
    make_client,
    print_json,
    read_key_file,
)
from enarx.cli.status import ExitStatus
from enarx.registry.names import parse_repo_spec
from enarx.registry.repoconfig import RepoConfig
from enarx.registry.signing import load_public_key

DESCRIPTION = """\
A repository holds the tagged versions of one package. Public repositories are readable by
anyone; private ones by their owner and by Keeps presenting a certificate from the registry's
Steward CA. A repository can require every tag to be signed by one of its publisher keys.

  enarx repo register localhost:8080/alice/hello
  enarx repo register localhost:8080/alice/payments --private --require-signed --signer-key pub.pem
  enarx repo info localhost:8080/alice/hello --json
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], env: Environment) -> None:
    parser = sub.add_parser("repo", help="create and inspect package repositories", description=DESCRIPTION,
                            formatter_class=RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="repo_command", metavar="COMMAND")
    commands.required = True
    reg = commands.add_parser("register", help="create a repository",
                              description="Create [SCHEME://][HOST/]USER/REPO; USER must be yours.")
    reg.add_argument("repo", metavar="[HOST/]USER/REPO")
    reg.add_argument("--private", action="store_true", help="readable only by you and Steward-attested Keeps")
    reg.add_argument("--signer-key", type=Path, action="append", default=[], metavar="PEM",
                     help="a publisher's P-256 public key (PEM or JWK); repeatable")
    reg.add_argument("--require-signed", action="store_true",
                     help="refuse tags not signed by a --signer-key")
    add_client_options(reg, env)
    reg.set_defaults(handler=handle_register)
    info = commands.add_parser("info", help="show a repository's config and tags")
    info.add_argument("repo", metavar="[HOST/]USER/REPO")
    info.add_argument("--json", action="store_true", help="print JSON (default: text)")
    add_client_options(info, env)
    info.set_defaults(handler=handle_info)


def handle_register(args: argparse.Namespace, env: Environment) -> ExitStatus:
    scheme, host, user, repo = parse_repo_spec(args.repo, default_host=default_host(env))
    keys = tuple(load_public_key(read_key_file(p, "--signer-key")) for p in args.signer_key)
    config = RepoConfig.parse(RepoConfig(not args.private, args.require_signed, keys).to_bytes())
    with make_client(args, scheme, host) as client:
        client.register_repo(user, repo, config)
    print(f"registered repository {user}/{repo} on {host} ({'private' if args.private else 'public'})",
          file=env.stderr)
    return ExitStatus.OK


def handle_info(args: argparse.Namespace, env: Environment) -> ExitStatus:
    scheme, host, user, repo = parse_repo_spec(args.repo, default_host=default_host(env))
    with make_client(args, scheme, host) as client:
        info = client.repo_info(user, repo)
    if args.json:
        print_json(env, info)
    else:
        config = info["config"]
        print(f"{user}/{repo} on {host}: {'public' if config['public'] else 'private'}"
              + (", signed tags required" if config.get("require_signed") else ""), file=env.stdout)
        for tag in info["tags"]:
            print(f"  {tag}", file=env.stdout)
    return ExitStatus.OK
