"""``enarx package``: build, publish, inspect and fetch packages (main.wasm + Enarx.toml)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from enarx.cli.environment import Environment
from enarx.cli.parser import RawDescriptionHelpFormatter
from enarx.cli.registry_common import (
    add_client_options,
    make_client,
    parse_target,
    print_json,
    progress_bars,
    read_key_file,
)
from enarx.cli.status import ExitStatus
from enarx.registry.errors import RegistryError

DESCRIPTION = """\
A package is a directory holding main.wasm (a WASI command) and Enarx.toml, plus any other
files it needs. Registries store it as a Drawbridge tree: every file and directory is named by
its digest, and a tag names the root, so a fetched package is verified file by file.

  enarx package build ./hello                       check it, print its digests
  enarx package publish localhost:8080/alice/hello:1.0.0 ./hello
  enarx package info localhost:8080/alice/hello:1.0.0
  enarx package fetch localhost:8080/alice/hello:1.0.0@sha-256:<tree digest> -o ./hello-copy
  enarx deploy localhost:8080/alice/hello:1.0.0     fetch, verify and run

docs/packages.md explains the digests; docs/registry.md the registry.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], env: Environment) -> None:
    parser = sub.add_parser("package", help="build, publish and fetch packages", description=DESCRIPTION,
                            formatter_class=RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="package_command", metavar="COMMAND")
    commands.required = True

    build = commands.add_parser(
        "build", help="check a package directory and print its digests",
        description="Check DIR (main.wasm compiles and exports _start; Enarx.toml is valid) and print the "
        "tree digest (what a tag names and @sha-256: pins), the application digest (without Enarx.toml) "
        "and the deployment digest (application + effective configuration).")
    build.add_argument("dir", type=Path)
    build.add_argument("--test", action="store_true", help="apply the [test] table for the deployment digest")
    build.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="config override, as for enarx run; changes the deployment digest")
    build.add_argument("--json", action="store_true", help="print JSON")
    build.set_defaults(handler=handle_build)

    publish = commands.add_parser("publish", help="upload a package under a tag",
                                  description="Build DIR, then upload it as [HOST/]USER/REPO:TAG (create-only). "
                                  "DIR may also be a single .wasm module, published bare as Enarx does.")
    publish.add_argument("slug", metavar="[HOST/]USER/REPO:TAG")
    publish.add_argument("dir", type=Path)
    publish.add_argument("--sign-key", type=Path, default=env.getenv("ENARX_SIGN_KEY"), metavar="PEM",
                         help="sign the tag with this P-256 private key (env ENARX_SIGN_KEY)")
    publish.add_argument("--json", action="store_true", help="print the result as JSON")
    add_client_options(publish, env)
    publish.set_defaults(handler=handle_publish)

    info = commands.add_parser("info", help="print a tag's entry (its root digest)")
    info.add_argument("slug", metavar="[HOST/]USER/REPO:TAG")
    add_client_options(info, env)
    info.set_defaults(handler=handle_info)

    fetch = commands.add_parser("fetch", help="download and verify a package into a directory")
    fetch.add_argument("slug", metavar="[HOST/]USER/REPO:TAG[@sha-256:DIGEST]")
    fetch.add_argument("-o", "--output", type=Path, required=True, help="directory to create")
    add_trust_options(fetch, env)
    add_client_options(fetch, env)
    fetch.set_defaults(handler=handle_fetch)


def add_trust_options(parser: argparse.ArgumentParser, env: Environment) -> None:
    group = parser.add_argument_group("trust")
    group.add_argument("--signer", type=Path, action="append", default=[], metavar="PEM",
                       help="trust tags signed by this public key (PEM or JWK); repeatable (env ENARX_SIGNER)")
    group.add_argument("--require-signed", action="store_true",
                       default=env.getenv("ENARX_REQUIRE_SIGNED") == "1",
                       help="refuse unsigned tags (env ENARX_REQUIRE_SIGNED=1)")
    if env.getenv("ENARX_SIGNER"):
        parser.set_defaults(signer=[Path(p) for p in str(env.getenv("ENARX_SIGNER")).split(",")])


def trust_policy(args: argparse.Namespace, pin: bytes | None) -> object:
    from enarx.registry.fetch import TrustPolicy
    from enarx.registry.signing import load_public_key

    keys = tuple(load_public_key(read_key_file(p, "--signer")) for p in args.signer)
    return TrustPolicy(pin=pin, trusted_keys=keys, require_signed=args.require_signed)


def handle_build(args: argparse.Namespace, env: Environment) -> ExitStatus:
    from enarx.package.build import build_package

    report = build_package(args.dir, test=args.test, overrides=args.overrides)
    if args.json:
        print_json(env, report.to_json())
        return ExitStatus.OK
    doc = report.to_json()
    for key in ("tree_digest", "application_digest", "deployment_digest"):
        print(f"{key.replace('_', ' ')}: {doc[key]}", file=env.stdout)
    return ExitStatus.OK


def handle_publish(args: argparse.Namespace, env: Environment) -> ExitStatus:
    from enarx.package.build import build_package
    from enarx.registry.signing import load_private_key

    scheme, host, tag_path, pin = parse_target(args.slug, env)
    if pin is not None:
        raise RegistryError("publish takes USER/REPO:TAG without @digest (the digest is computed)", status=0)
    user, repo, _, tag = tag_path.strip("/").split("/")
    key = load_private_key(read_key_file(args.sign_key, "--sign-key")) if args.sign_key else None
    if args.dir.is_file():
        # A bare module, as Enarx's `package publish SPEC main.wasm`: run with the default config.
        from enarx.package.build import check_module

        wasm = args.dir.read_bytes()
        check_module(wasm, str(args.dir))
        with make_client(args, scheme, host) as client, progress_bars(env) as progress:
            digest = client.publish_module(user, repo, tag, wasm, signing_key=key, progress=progress).digest["sha-256"]
        document: dict[str, object] = {"module": str(args.dir)}
    else:
        report = build_package(args.dir)
        with make_client(args, scheme, host) as client, progress_bars(env) as progress:
            digest = client.publish(user, repo, tag, report.files, signing_key=key, progress=progress).sha256
        document = report.to_json()
    # The pinned slug to deploy; the scheme is spelled out only when it is not the default.
    slug = f"{'' if scheme == 'https' else scheme + '://'}{host}/{user}/{repo}:{tag}@sha-256:{digest.hex()}"
    if args.json:
        print_json(env, {"slug": slug, **document, "signed": key is not None})
    else:
        print(f"published {slug}", file=env.stdout)
    return ExitStatus.OK


def handle_info(args: argparse.Namespace, env: Environment) -> ExitStatus:
    scheme, host, tag_path, _pin = parse_target(args.slug, env)
    user, repo, _, tag = tag_path.strip("/").split("/")
    with make_client(args, scheme, host) as client:
        info = client.tag(user, repo, tag)
    value = json.loads(info.body)
    if info.signed:
        from enarx.registry.signing import jws_payload

        value = {"signed": value, "entry": json.loads(jws_payload(info.body))}
    print_json(env, value)
    return ExitStatus.OK


def handle_fetch(args: argparse.Namespace, env: Environment) -> ExitStatus:
    from enarx.package.cache import PackageCache
    from enarx.registry.fetch import TrustPolicy, fetch_package

    scheme, host, tag_path, pin = parse_target(args.slug, env)
    if args.output.exists() and any(args.output.iterdir()):
        raise RegistryError(f"{args.output} exists and is not empty", status=0)
    policy = trust_policy(args, pin)
    assert isinstance(policy, TrustPolicy)
    with make_client(args, scheme, host) as client, progress_bars(env) as progress:
        package = fetch_package(client, tag_path, policy, progress)
    # Written whole or not at all: a sibling temp directory renamed into place.
    args.output.parent.mkdir(parents=True, exist_ok=True)
    staged = PackageCache(args.output.parent.resolve()).store(package.tree_digest, package.files)
    if args.output.exists():
        args.output.rmdir()
    staged.rename(args.output)
    print(f"fetched {host}{tag_path} (sha-256:{package.tree_digest.hex()}"
          + (f", signed by {package.signer}" if package.signer else "") + f") into {args.output}", file=env.stderr)
    return ExitStatus.OK
