"""Options and helpers shared by the registry commands (user, repo, package, deploy).

Every flag has an ``ENARX_*`` environment default, defined once here.
"""

from __future__ import annotations

import argparse
import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from enarx.cli.environment import Environment
from enarx.registry.errors import RegistryError
from enarx.registry.names import DEFAULT_HOST

if TYPE_CHECKING:  # httpx costs a cold start; deploying a cached package needs none of it
    from enarx.registry.client import Progress, RegistryClient

# Transfers smaller than this finish before a progress bar would be worth drawing.
PROGRESS_MIN_BYTES = 4 << 20


def add_client_options(parser: argparse.ArgumentParser, env: Environment) -> None:
    group = parser.add_argument_group("registry connection")
    group.add_argument("--ca-bundle", type=Path, default=env.getenv("ENARX_CA_BUNDLE"), metavar="PEM",
                       help="extra CA certificates to trust for the registry's TLS (env ENARX_CA_BUNDLE)")
    group.add_argument("--token", "--insecure-auth-token", dest="token",
                       default=env.getenv("ENARX_REGISTRY_TOKEN") or env.getenv("ENARX_INSECURE_AUTH_TOKEN"),
                       metavar="TOKEN", help="bearer token: an OIDC access token or a local `enarx registry token` "
                       "(env ENARX_REGISTRY_TOKEN or ENARX_INSECURE_AUTH_TOKEN)")
    group.add_argument("--client-cert", type=Path, default=env.getenv("ENARX_CLIENT_CERT"), metavar="PEM",
                       help="client certificate (e.g. a Keep's Steward-issued one) for private repositories "
                       "(env ENARX_CLIENT_CERT)")
    group.add_argument("--client-key", type=Path, default=env.getenv("ENARX_CLIENT_KEY"), metavar="PEM",
                       help="key of --client-cert (env ENARX_CLIENT_KEY)")


def default_host(env: Environment) -> str:
    return env.getenv("ENARX_REGISTRY_HOST") or DEFAULT_HOST


def make_client(args: argparse.Namespace, scheme: str, host: str) -> RegistryClient:
    from enarx.registry.client import RegistryClient

    verify: Any = True
    if args.ca_bundle is not None:
        import ssl

        if not args.ca_bundle.is_file():
            raise RegistryError(f"--ca-bundle {args.ca_bundle}: no such file", status=0, code="registry.tls")
        ctx = ssl.create_default_context()
        try:
            ctx.load_verify_locations(cafile=str(args.ca_bundle))
        except (ssl.SSLError, OSError) as exc:
            raise RegistryError(f"--ca-bundle {args.ca_bundle}: {exc}", status=0, code="registry.tls") from exc
        verify = ctx
    cert = None
    if args.client_cert is not None:
        cert = (str(args.client_cert), str(args.client_key)) if args.client_key else str(args.client_cert)
        if verify is True:
            import ssl

            verify = ssl.create_default_context()
        try:
            verify.load_cert_chain(*((cert,) if isinstance(cert, str) else cert))
        except (OSError, ValueError) as exc:
            raise RegistryError(f"--client-cert: {exc}", status=0, code="registry.tls") from exc
        cert = None
    return RegistryClient(f"{scheme}://{host}", token=args.token, verify=verify, cert=cert)


def token_subject(token: str | None) -> str | None:
    """The ``sub`` of a JWT, read without verification: only to fill in the user record, which
    the registry checks against the token it verifies."""
    if not token or token.count(".") != 2:
        return None
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return str(sub) if sub else None


@contextmanager
def progress_bars(env: Environment, quiet: bool = False) -> Iterator[Progress | None]:
    """A rich progress callback for transfers over :data:`PROGRESS_MIN_BYTES`, on stderr."""
    if quiet:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, TransferSpeedColumn
    from rich.progress import Progress as RichProgress

    console = Console(file=env.stderr)
    bars = RichProgress("{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                        console=console, transient=True)
    tasks: dict[str, Any] = {}

    def update(name: str, done: int, total: int) -> None:
        if total < PROGRESS_MIN_BYTES:
            return
        if name not in tasks:
            if not tasks:
                bars.start()
            tasks[name] = bars.add_task(name, total=total)
        bars.update(tasks[name], completed=done)

    try:
        yield update
    finally:
        if tasks:
            bars.stop()


def print_json(env: Environment, value: object) -> None:
    print(json.dumps(value, indent=2, sort_keys=True), file=env.stdout)


def read_key_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RegistryError(f"{what} {path}: {exc.strerror}", status=0, code="registry.key") from exc


def parse_target(text: str, env: Environment) -> tuple[str, str, str, bytes | None]:
    """A slug or a full tag URL -> (scheme, host, tag path under the API, pin)."""
    from urllib.parse import urlsplit

    from enarx.registry.names import API_PREFIX, is_tag_url, parse_pin, parse_slug

    if is_tag_url(text):
        url, _, pin_text = text.partition("@")
        parts = urlsplit(url)
        version_prefix, _, rest = parts.path.partition("/api/v")
        _, _, tag_path = rest.partition("/")
        if version_prefix or not tag_path:
            raise RegistryError(f"{text!r}: expected https://HOST{API_PREFIX}/USER/REPO/_tag/TAG", status=0)
        return parts.scheme, parts.netloc, "/" + tag_path, parse_pin(pin_text) if pin_text else None
    slug = parse_slug(text, default_host=default_host(env))
    return slug.scheme, slug.host, f"/{slug.user}/{slug.repo}/_tag/{slug.tag}", slug.pin
