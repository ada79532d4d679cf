"""``enarx registry``: run a Drawbridge-compatible package registry."""

from __future__ import annotations

import argparse
from pathlib import Path

from enarx.cli.environment import Environment
from enarx.cli.parser import RawDescriptionHelpFormatter
from enarx.cli.status import ExitStatus

DESCRIPTION = """\
A package registry speaking Drawbridge's API (/api/v0.1.0/), so Enarx's own client works with
it. Embedded by default: metadata in SQLite and blobs on disk under --data. Scale out with
--database postgresql://... and --s3-bucket (any number of `serve` processes can share them).

Start one for yourself:
  enarx registry serve --data ./registry                      http://127.0.0.1:8080
  TOKEN=$(enarx registry token --data ./registry --subject alice)
  enarx user register http://127.0.0.1:8080/alice --token $TOKEN --subject alice

Behind an identity provider (tokens are RS256 JWTs with scopes manage:drawbridge_*):
  enarx registry serve --oidc-issuer https://auth.example/ --oidc-audience https://registry.example/ \\
      --oidc-jwks-url https://auth.example/.well-known/jwks.json --tls-cert c.pem --tls-key k.pem

Let Keeps read private repositories with their Steward certificates:
  enarx registry serve ... --steward-ca steward-ca.pem

docs/registry.md describes the API, storage and authentication.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], env: Environment) -> None:
    parser = sub.add_parser("registry", help="run a package registry", description=DESCRIPTION,
                            formatter_class=RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="registry_command", metavar="COMMAND")
    commands.required = True

    serve = commands.add_parser("serve", help="serve the registry API",
                                description="Serve until interrupted. Every flag has an ENARX_REGISTRY_* env default.")
    _data_options(serve, env)
    e = env.getenv
    net = serve.add_argument_group("listening")
    net.add_argument("--host", default=e("ENARX_REGISTRY_LISTEN_HOST", "127.0.0.1"),
                     help="address to listen on (env ENARX_REGISTRY_LISTEN_HOST; default 127.0.0.1)")
    net.add_argument("--port", type=int, default=int(e("ENARX_REGISTRY_PORT", "8080") or 8080),
                     help="port (env ENARX_REGISTRY_PORT; default 8080)")
    net.add_argument("--tls-cert", type=Path, default=e("ENARX_REGISTRY_TLS_CERT"), help="server certificate (PEM)")
    net.add_argument("--tls-key", type=Path, default=e("ENARX_REGISTRY_TLS_KEY"), help="server key (PEM)")
    net.add_argument("--steward-ca", type=Path, default=e("ENARX_REGISTRY_STEWARD_CA"), metavar="PEM",
                     help="Steward CA certificates: Keeps with certificates from it may read private repositories")
    store = serve.add_argument_group("storage")
    store.add_argument("--s3-bucket", default=e("ENARX_REGISTRY_S3_BUCKET"),
                       help="keep blobs in this S3-compatible bucket (needs boto3) instead of --data/blobs")
    store.add_argument("--s3-endpoint", default=e("ENARX_REGISTRY_S3_ENDPOINT"), help="S3 endpoint URL (MinIO, Ceph)")
    store.add_argument("--s3-prefix", default=e("ENARX_REGISTRY_S3_PREFIX", ""), help="object name prefix")
    store.add_argument("--max-file-bytes", type=int, default=int(e("ENARX_REGISTRY_MAX_FILE_BYTES", "100000000") or 0),
                       help="largest file accepted (default 100000000, Enarx's module limit)")
    auth = serve.add_argument_group("authentication")
    auth.add_argument("--oidc-issuer", default=e("ENARX_REGISTRY_OIDC_ISSUER"), help="accept JWTs from this issuer")
    auth.add_argument("--oidc-audience", default=e("ENARX_REGISTRY_OIDC_AUDIENCE"), help="... for this audience")
    auth.add_argument("--oidc-jwks-url", default=e("ENARX_REGISTRY_OIDC_JWKS_URL"), help="the issuer's JWKS")
    auth.add_argument("--oidc-key", type=Path, action="append", default=[], metavar="PEM",
                      help="an issuer public key (PEM), instead of --oidc-jwks-url; repeatable")
    auth.add_argument("--no-local-tokens", action="store_true",
                      default=e("ENARX_REGISTRY_NO_LOCAL_TOKENS") == "1", help="accept only OIDC tokens")
    serve.add_argument("--workers", type=int, default=int(e("ENARX_REGISTRY_WORKERS", "1") or 1),
                       help="worker processes sharing the port, database and blobs (env ENARX_REGISTRY_WORKERS)")
    serve.add_argument("--log-level", dest="server_log_level", default="info",
                       choices=("critical", "error", "warning", "info", "debug"), help="uvicorn's log level")
    serve.set_defaults(handler=handle_serve)

    token = commands.add_parser(
        "token", help="make a local bearer token for a subject",
        description="Print a new local token (shown once; only its digest is stored). Local tokens are for "
        "the embedded setup; with an identity provider use its OIDC tokens.")
    _data_options(token, env)
    token.add_argument("--subject", required=True, help="the identity the token stands for")
    token.add_argument("--scopes", default=None, help="space-separated scopes (default: all manage:drawbridge_*)")
    token.set_defaults(handler=handle_token)


def _data_options(parser: argparse.ArgumentParser, env: Environment) -> None:
    parser.add_argument("--data", type=Path, default=Path(env.getenv("ENARX_REGISTRY_DATA", "registry") or "registry"),
                        help="data directory (env ENARX_REGISTRY_DATA; default ./registry)")
    parser.add_argument("--database", default=env.getenv("ENARX_REGISTRY_DATABASE"),
                        help="postgresql:// DSN for metadata (env ENARX_REGISTRY_DATABASE; default SQLite in --data)")


def handle_serve(args: argparse.Namespace, env: Environment) -> ExitStatus:
    from enarx.registry.app import Registry
    from enarx.registry.serve import Listen, serve, serve_workers
    from enarx.registry.settings import ServeOptions

    options = ServeOptions(
        str(args.data), database=args.database, s3_bucket=args.s3_bucket, s3_prefix=args.s3_prefix,
        s3_endpoint=args.s3_endpoint, oidc_issuer=args.oidc_issuer, oidc_audience=args.oidc_audience,
        oidc_jwks_url=args.oidc_jwks_url, oidc_keys=tuple(str(p) for p in args.oidc_key),
        local_tokens=not args.no_local_tokens, steward_ca=str(args.steward_ca) if args.steward_ca else None,
        max_file_bytes=args.max_file_bytes,
    )
    # Built here even with workers: a bad option fails now, in one line, not in every worker.
    registry = Registry(options.settings(clock=env.clock))
    listen = Listen(args.host, args.port, args.tls_cert, args.tls_key, args.steward_ca)
    scheme = "https" if args.tls_cert else "http"
    print(f"enarx registry: serving {scheme}://{args.host}:{args.port}/api/v0.1.0/ with {args.workers} "
          f"worker(s) (metadata: {registry.meta.engine}, blobs: {'s3' if args.s3_bucket else args.data / 'blobs'})",
          file=env.stderr)
    try:
        if args.workers > 1:
            registry.close()
            serve_workers(options.to_json(), listen, args.workers, log_level=args.server_log_level)
        else:
            serve(registry.app, listen, log_level=args.server_log_level)
    finally:
        registry.close()
    return ExitStatus.OK


def handle_token(args: argparse.Namespace, env: Environment) -> ExitStatus:
    from enarx.registry.auth import ALL_SCOPES, new_local_token
    from enarx.registry.meta import MetaStore
    from enarx.registry.settings import RegistrySettings

    args.data.mkdir(parents=True, exist_ok=True)
    meta = MetaStore(RegistrySettings(args.data, database=args.database).database_url())
    try:
        token, digest = new_local_token()
        meta.add_token(digest, args.subject, args.scopes or ALL_SCOPES)
    finally:
        meta.close()
    print(token, file=env.stdout)
    return ExitStatus.OK
