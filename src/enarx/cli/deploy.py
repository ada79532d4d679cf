"""``enarx deploy``: fetch a package, verify it, and run it in a Keep."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from enarx._log import get_logger
from enarx.cli.environment import Environment
from enarx.cli.package import add_trust_options, trust_policy
from enarx.cli.parser import RawDescriptionHelpFormatter
from enarx.cli.registry_common import add_client_options, make_client, parse_target, progress_bars
from enarx.cli.status import ExitStatus
from enarx.errors import EnarxError

log = get_logger("enarx")

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
  enarx deploy --unsafe file://$PWD/hello                          (hello uses host stdio)
  enarx deploy localhost:8080/alice/hello:1.0.0@sha-256:5f1c...   (pinned: the safest form)
  enarx deploy store.example/alice/payments:2.1.0 --signer alice.pub.pem --require-signed

Like `enarx run`, deploy is secure by default: it refuses a package whose configuration is
insecure (host stdio, plaintext TCP, host directories, no TEE) and names every reason; --test
and --unsafe (debug build) allow them and the Keep's certificate records them. The slug and,
for a signed tag, the signer's key digest go into the Keep's claims.

exit status: 3 the package failed verification (nothing ran); 4 insecure deployment refused;
1 it could not be fetched; otherwise as `enarx run` (the workload's own code, 125/126/134/137).
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], env: Environment) -> None:
    parser = sub.add_parser(
        "deploy", help="fetch, verify and run a package", epilog=EPILOG,
        description="Fetch a package (main.wasm + Enarx.toml) from a directory or a registry, verify "
        "it, and run it in a Keep as `enarx run` would.",
        formatter_class=RawDescriptionHelpFormatter,
    )
    parser.add_argument("package", metavar="PACKAGE", help="file:// path, slug or tag URL (see below)")
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--test", action="store_true",
                       help="run against a test Steward: the package's [test] table, or an embedded one "
                       "(insecure features allowed and recorded; debug build only)")
    modes.add_argument("--unsafe", action="store_true",
                       help="permit insecure features (host stdio, plaintext TCP, no TEE); the certificate says "
                       "so (debug build only)")
    parser.add_argument("--backend", default=env.getenv("ENARX_BACKEND"),
                        help="Keep backend: snp, tdx, sgx (or nil in the debug build) (env ENARX_BACKEND)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, as for enarx run")
    parser.add_argument("--no-cache", action="store_true", default=env.getenv("ENARX_NO_CACHE") == "1",
                        help="neither use nor fill the package and compiled-module caches (env ENARX_NO_CACHE=1)")
    add_trust_options(parser, env)
    add_client_options(parser, env)
    parser.set_defaults(handler=handle)


class UnanchoredFetch(EnarxError):
    """A secure deploy would trust whatever a plain-http registry (or anyone between) serves."""

    code = "deploy.unanchored"


def handle(args: argparse.Namespace, env: Environment) -> ExitStatus | int:
    from enarx.keep.engine import ModuleError
    from enarx.keep.modes import InsecureDeployment
    from enarx.registry.errors import VerificationError

    try:
        wasm, config_path, name, slug, signer, files = _resolve(args, env)
        return _run(args, env, wasm, config_path, name, slug, signer, files)
    except VerificationError as exc:
        print(f"enarx: error: {exc.message} (nothing was run)", file=env.stderr)
        return ExitStatus.REFUSED
    except ModuleError as exc:
        print(f"enarx: error: {exc}", file=env.stderr)
        return ExitStatus.MODULE_INVALID
    except (InsecureDeployment, UnanchoredFetch) as exc:
        print(f"enarx: error: {exc}", file=env.stderr)
        return ExitStatus.INSECURE
    except EnarxError as exc:
        print(f"enarx: error: {exc}", file=env.stderr)
        # A bad package or an unreachable registry is not the runtime failing to start a workload.
        from enarx.package.build import PackageError
        from enarx.registry.errors import RegistryError

        return ExitStatus.ERROR if isinstance(exc, RegistryError | PackageError) else ExitStatus.RUNTIME_ERROR


def _resolve(
    args: argparse.Namespace, env: Environment
) -> tuple[bytes, Path | None, str, str | None, bytes | None, Mapping[str, bytes] | None]:
    """The module, the Enarx.toml to use (None: stdio only), a display name, for a registry
    package its slug and signer (SHA-256 of the publisher key), which go into the Keep's claims,
    and the package's files (its application digest covers all of them but Enarx.toml)."""
    from enarx.identity.digests import CONFIG_NAME, MODULE_NAME
    from enarx.package.build import PackageError, build_package, check_files

    text: str = args.package
    if text.startswith("file://"):
        path = Path(unquote(urlsplit(text).path))
        if path.is_file():
            return path.read_bytes(), None, str(path), None, None, None
        if not path.is_dir():
            raise PackageError(f"{path}: no such file or directory")
        report = build_package(path, test=args.test, overrides=args.overrides, compile_module=False)
        _log_digests(text, report.tree.sha256, report.application_digest, report.deployment_digest)
        return report.files[MODULE_NAME], path / CONFIG_NAME, str(path / MODULE_NAME), None, None, report.files
    if "://" in text and not text.startswith(("http://", "https://")):
        raise PackageError(f"{text!r}: unsupported scheme (use file://, https:// or a slug)")

    directory, files, signer, slug = _fetch(args, env, text)
    # The runner compiles (from its cache) and checks for _start and foreign imports itself;
    # compiling here as well would double a cold start.
    check_files(files)
    log.info("deploying %s%s", slug, f" signed by {signer}" if signer else "")
    signer_digest = None
    if signer:
        from enarx.registry.signing import b64url_decode

        signer_digest = b64url_decode(signer)  # the RFC 7638 thumbprint: SHA-256 of the key
    config = (directory / CONFIG_NAME) if CONFIG_NAME in files else None
    return files[MODULE_NAME], config, text, slug, signer_digest, files


def _fetch(args: argparse.Namespace, env: Environment, text: str) -> tuple[Path, dict[str, bytes], str | None, str]:
    from enarx.package.cache import PackageCache

    scheme, host, tag_path, pin = parse_target(text, env)
    user, repo, _, tag = tag_path.strip("/").split("/")
    slug = f"{host}/{user}/{repo}:{tag}"
    if scheme == "http" and pin is None and not args.require_signed and not (args.test or args.unsafe):
        # Over plain http whoever is on the path can serve a consistent but different tree; a
        # pin or a required signature anchors it, TLS alone would not be checked here anyway.
        raise UnanchoredFetch(
            f"refusing to fetch {slug} over plain http without an anchor: pin it (@sha-256:...), "
            "require a signature (--signer KEY --require-signed), use https, or run with --test/--unsafe"
        )
    cache = None if args.no_cache else PackageCache(env.cache_dir / "packages")
    # A pinned, cached package needs no network (and no HTTP client): the pin names the tree
    # and the cache entry is re-hashed against it. Signed tags still need the registry.
    if cache is not None and pin is not None and not args.require_signed and not args.signer:
        hit = cache.load(pin)
        if hit is not None:
            log.info("using cached package sha-256:%s", pin.hex())
            return hit[0], hit[1], None, slug

    from enarx.registry.fetch import TrustPolicy, fetch_tag, fetch_tree

    policy = trust_policy(args, pin)
    assert isinstance(policy, TrustPolicy)
    with make_client(args, scheme, host) as client:
        entry, signer = fetch_tag(client, tag_path, policy)
        digest = entry.digest["sha-256"]
        hit = cache.load(digest) if cache is not None else None
        if hit is not None:
            return hit[0], hit[1], signer, slug
        with progress_bars(env) as progress:
            files = fetch_tree(client, tag_path, entry, progress)
    if cache is None:
        import tempfile

        directory = Path(tempfile.mkdtemp(prefix="enarx-deploy-"))
        return PackageCache(directory).store(digest, files), files, signer, slug
    return cache.store(digest, files), files, signer, slug


def _run(args: argparse.Namespace, env: Environment, wasm: bytes, config_path: Path | None, name: str,
         slug: str | None, signer: bytes | None, files: Mapping[str, bytes] | None) -> int:
    """Run exactly as ``enarx run`` does (secure unless --test/--unsafe), with the slug and
    signer added to the Keep's claims."""
    from enarx.keep.launch import Launch, launch
    from enarx.keep.modes import Mode

    mode = Mode.TEST if args.test else Mode.UNSAFE if args.unsafe else Mode.SECURE
    request = Launch(
        wasm=wasm, name=name, config_path=config_path, mode=mode, overrides=args.overrides, backend=args.backend,
        cache_dir=None if args.no_cache else env.cache_dir, environ=env.environ, slug=slug, signer=signer,
        package_files=files,
    )
    outcome = launch(request, stderr=env.stderr)
    if outcome.message:
        print(f"enarx: {outcome.message}", file=env.stderr)
        if outcome.backtrace:
            log.debug("wasm backtrace:\n  %s", "\n  ".join(outcome.backtrace))
    return outcome.status


def _log_digests(what: str, tree: bytes, app: bytes, deployment: bytes) -> None:
    log.info("deploying %s: tree sha-256:%s application sha-256:%s deployment sha-256:%s", what, tree.hex(),
             app.hex(), deployment.hex())
