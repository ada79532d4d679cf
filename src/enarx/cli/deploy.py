"""``enarx deploy``: fetch a package, verify it, and run it in a Keep."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

from enarx.cli.environment import Environment
from enarx.cli.package import add_trust_options, trust_policy
from enarx.cli.registry_common import add_client_options, make_client, parse_target, progress_bars
from enarx.cli.status import ExitStatus
from enarx.errors import EnarxError

log = logging.getLogger("enarx")

EPILOG = """\
PACKAGE is one of:
  file:///path/to/dir                    a local package directory (main.wasm + Enarx.toml)
  file:///path/to/module.wasm            a bare module, run with stdio only
  [HOST/]USER/REPO:TAG[@sha-256:DIGEST]  a package in a registry (default host: $ENARX_REGISTRY_HOST)
  https://HOST/api/v0.1.0/USER/REPO/_tag/TAG   the same, as a URL

A registry package is verified before anything runs: the tag (and its signature, when signed
or --require-signed), the pin (@sha-256:, the tree digest `enarx package build` prints), the
root directory against the tag, and every file against the directory. Verified packages are
cached by tree digest; a pinned deploy of a cached package needs no network.

examples:
  enarx package build ./hello
  enarx deploy file://$PWD/hello
  enarx deploy localhost:8080/alice/hello:1.0.0@sha-256:5f1c...   (pinned: the safest form)
  enarx deploy store.example/alice/payments:2.1.0 --signer alice.pub.pem --require-signed

exit status: 3 the package failed verification (nothing ran); 1 it could not be fetched;
otherwise as `enarx run` (the workload's own code, 125/126/134/137...).
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], env: Environment) -> None:
    parser = sub.add_parser(
        "deploy", help="fetch, verify and run a package", epilog=EPILOG,
        description="Fetch a package (main.wasm + Enarx.toml) from a directory or a registry, verify "
        "it, and run it in a Keep as `enarx run` would.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("package", metavar="PACKAGE", help="file:// path, slug or tag URL (see below)")
    parser.add_argument("--test", action="store_true", help="apply the package's [test] table (a test Steward)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, as for enarx run")
    parser.add_argument("--no-cache", action="store_true", default=env.getenv("ENARX_NO_CACHE") == "1",
                        help="neither use nor fill the package and compiled-module caches (env ENARX_NO_CACHE=1)")
    add_trust_options(parser, env)
    add_client_options(parser, env)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, env: Environment) -> ExitStatus | int:
    from enarx.config.load import ConfigError
    from enarx.keep.engine import ModuleError
    from enarx.keep.workload import SetupError
    from enarx.registry.errors import VerificationError

    try:
        wasm, config_path, name = _resolve(args, env)
        return _run(args, env, wasm, config_path, name)
    except VerificationError as exc:
        print(f"enarx: error: {exc.message} (nothing was run)", file=env.stderr)
        return ExitStatus.REFUSED
    except ModuleError as exc:
        print(f"enarx: error: {exc}", file=env.stderr)
        return ExitStatus.MODULE_INVALID
    except (ConfigError, SetupError) as exc:
        print(f"enarx: error: {exc}", file=env.stderr)
        return ExitStatus.RUNTIME_ERROR
    except EnarxError as exc:
        print(f"enarx: error: {exc}", file=env.stderr)
        return ExitStatus.ERROR


def _resolve(args: argparse.Namespace, env: Environment) -> tuple[bytes, Path | None, str]:
    """The module, the Enarx.toml to use (None: stdio only) and a display name."""
    from enarx.identity.digests import CONFIG_NAME, MODULE_NAME
    from enarx.package.build import PackageError, build_package, check_files, check_module

    text: str = args.package
    if text.startswith("file://"):
        path = Path(unquote(urlsplit(text).path))
        if path.is_file():
            wasm = path.read_bytes()
            check_module(wasm, str(path))
            return wasm, None, str(path)
        if not path.is_dir():
            raise PackageError(f"{path}: no such file or directory")
        report = build_package(path, test=args.test, overrides=args.overrides)
        _log_digests(text, report.tree.sha256, report.application_digest, report.deployment_digest, None)
        return report.files[MODULE_NAME], path / CONFIG_NAME, str(path / MODULE_NAME)
    if "://" in text and not text.startswith(("http://", "https://")):
        raise PackageError(f"{text!r}: unsupported scheme (use file://, https:// or a slug)")

    directory, files, signer = _fetch(args, env, text)
    check_files(files)
    check_module(files[MODULE_NAME], f"{text} {MODULE_NAME}")
    log.info("deploying %s%s", text, f" signed by {signer}" if signer else "")
    return files[MODULE_NAME], (directory / CONFIG_NAME) if CONFIG_NAME in files else None, text


def _fetch(args: argparse.Namespace, env: Environment, text: str) -> tuple[Path, dict[str, bytes], str | None]:
    from enarx.package.cache import PackageCache
    from enarx.registry.fetch import TrustPolicy, fetch_tag, fetch_tree

    scheme, host, tag_path, pin = parse_target(text, env)
    policy = trust_policy(args, pin)
    assert isinstance(policy, TrustPolicy)
    cache = None if args.no_cache else PackageCache(env.cache_dir / "packages")
    # A pinned, cached, unsigned-allowed package needs no network: the pin names the tree and
    # the cache entry is re-hashed against it.
    if cache is not None and pin is not None and not policy.require_signed and not policy.trusted_keys:
        hit = cache.load(pin)
        if hit is not None:
            log.info("using cached package sha-256:%s", pin.hex())
            return hit[0], hit[1], None
    with make_client(args, scheme, host) as client:
        entry, signer = fetch_tag(client, tag_path, policy)
        digest = entry.digest["sha-256"]
        hit = cache.load(digest) if cache is not None else None
        if hit is not None:
            return hit[0], hit[1], signer
        with progress_bars(env) as progress:
            files = fetch_tree(client, tag_path, entry, progress)
    if cache is None:
        import tempfile

        directory = Path(tempfile.mkdtemp(prefix="enarx-deploy-"))
        return PackageCache(directory).store(digest, files), files, signer
    return cache.store(digest, files), files, signer


def _run(args: argparse.Namespace, env: Environment, wasm: bytes, config_path: Path | None, name: str) -> int:
    from enarx.config.load import load_config
    from enarx.keep.engine import ModuleCache
    from enarx.keep.runner import run_module

    loaded = load_config(config_path, test=args.test, overrides=args.overrides)
    cache = None if args.no_cache else ModuleCache(env.cache_dir / "modules")
    outcome = run_module(wasm, loaded, cache=cache, name=name)
    if outcome.message:
        print(f"enarx: {outcome.message}", file=env.stderr)
        if outcome.backtrace:
            log.debug("wasm backtrace:\n  %s", "\n  ".join(outcome.backtrace))
    return outcome.status


def _log_digests(what: str, tree: bytes, app: bytes, deployment: bytes, signer: str | None) -> None:
    log.info("deploying %s: tree sha-256:%s application sha-256:%s deployment sha-256:%s%s", what, tree.hex(),
             app.hex(), deployment.hex(), f" signer {signer}" if signer else "")
