"""`enarx steward`: run the attestation CA that names attested workloads.

Thin: every command parses its options and calls :mod:`enarx.steward`.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path

from enarx.cli.environment import Environment
from enarx.cli.parser import RawDescriptionHelpFormatter
from enarx.cli.status import ExitStatus
from enarx.steward.ca import CA_CERT, CA_KEY, ROOT_CERT, ROOT_KEY, init_ca
from enarx.steward.log import REASONS, IssuanceLog, parse_serial
from enarx.steward.settings import load_config

DESCRIPTION = textwrap.dedent(
    """\
    The Steward verifies a Keep's attestation evidence (carried in its CSR), checks its policy,
    and issues a short-lived certificate naming the workload: <app>.app.<trust-domain>, digests
    of the application and deployment, and spiffe://<trust-domain>/app/<app>.

    Start:   enarx steward init --dir ca            (root + issuing CA; --test for a test CA)
             enarx steward serve --config steward.toml
    Operate: enarx steward log --config steward.toml
             enarx steward revoke SERIAL --config steward.toml

    docs/steward.md describes steward.toml, the modes, and the HTTP API.
    """
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], env: Environment) -> None:
    """Register the `steward` command group."""
    parser = sub.add_parser(
        "steward", help="run the attestation CA (Steward)", description=DESCRIPTION,
        formatter_class=RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="steward_command", metavar="COMMAND")
    commands.required = True

    init = commands.add_parser(
        "init", help="create a root CA and an issuing CA",
        description=(
            f"Create {ROOT_CERT}/{ROOT_KEY} (root) and {CA_CERT}/{CA_KEY} (issuing CA) in DIR. Keys are "
            "PKCS#8 PEM, mode 0600. Existing files are never overwritten unless --force. Keep "
            f"{ROOT_KEY} offline in production: the Steward needs only the issuing CA's key."
        ),
    )
    init.add_argument("--dir", type=Path, default=Path(env.getenv("ENARX_STEWARD_CA_DIR", "ca") or "ca"),
                      help="directory for the CA files (env ENARX_STEWARD_CA_DIR; default: ca)")
    init.add_argument("--curve", choices=("p256", "p384"), default=env.getenv("ENARX_STEWARD_CURVE", "p256"),
                      help="key curve (env ENARX_STEWARD_CURVE; default: p256)")
    init.add_argument("--test", action="store_true",
                      help='a TEST CA for mode = "test": marked TEST ONLY and name-constrained to enarx.test')
    init.add_argument("--name", default="Enarx Steward", help="common name prefix of the CA certificates")
    init.add_argument("--force", action="store_true", help="replace existing CA files (old keys are lost)")
    init.add_argument("--json", action="store_true", help="print the result as JSON")
    init.set_defaults(handler=_init)

    config_help = "the Steward's TOML (env ENARX_STEWARD_CONFIG; default: steward.toml)"
    default_config = Path(env.getenv("ENARX_STEWARD_CONFIG", "steward.toml") or "steward.toml")

    serve = commands.add_parser(
        "serve", help="serve the Steward over HTTP",
        description=(
            "Serve the Steward with uvicorn. Settings come from the [server] table of the config "
            "and STEWARD_HOST, STEWARD_PORT, STEWARD_CA_DIR, STEWARD_DATABASE, STEWARD_PUBLIC_URL, "
            "STEWARD_MAX_BODY_BYTES, STEWARD_WORKERS (which override the file). Put TLS in front "
            "(a load balancer or proxy): Keeps refuse plain-http Stewards outside test mode."
        ),
    )
    serve.add_argument("--config", type=Path, default=default_config, help=config_help)
    serve.add_argument("--check", action="store_true", help="validate the config and CA, print a summary, exit")
    serve.add_argument("--json", action="store_true", help="with --check: print the summary as JSON")
    serve.set_defaults(handler=_serve)

    revoke = commands.add_parser(
        "revoke", help="revoke an issued certificate",
        description="Mark SERIAL revoked in the issuance log; GET /v1/crl lists it from then on.",
    )
    revoke.add_argument("serial", help="hex serial, as `enarx steward log` or `openssl x509 -serial` print it")
    revoke.add_argument("--reason", default="unspecified", choices=REASONS, help="CRL reason code")
    revoke.add_argument("--config", type=Path, default=default_config, help=config_help)
    revoke.add_argument("--json", action="store_true", help="print the revoked record as JSON")
    revoke.set_defaults(handler=_revoke)

    show = commands.add_parser("log", help="list issued certificates", description="Newest first, from the issuance log.")
    show.add_argument("--config", type=Path, default=default_config, help=config_help)
    show.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    show.add_argument("--serial", help="show one certificate, with its PEM")
    show.add_argument("--json", action="store_true", help="JSON lines, one record each")
    show.set_defaults(handler=_log)


def _init(args: argparse.Namespace, env: Environment) -> ExitStatus:
    ca = init_ca(args.dir, now=env.clock(), curve=args.curve, test=args.test, common_name=args.name, force=args.force)
    out = {
        "directory": str(args.dir),
        "root": str(args.dir / ROOT_CERT),
        "issuing_ca": str(args.dir / CA_CERT),
        "curve": args.curve,
        "test": args.test,
        "root_subject": ca.root.subject.rfc4514_string(),
    }
    if args.json:
        print(json.dumps(out), file=env.stdout)
    else:
        print(f"created {'TEST ' if args.test else ''}CA in {args.dir}: {ROOT_CERT}, {ROOT_KEY}, {CA_CERT}, {CA_KEY}", file=env.stdout)
        print(f"clients trust {args.dir / ROOT_CERT}; keep {args.dir / ROOT_KEY} offline", file=env.stdout)
    return ExitStatus.OK


def _serve(args: argparse.Namespace, env: Environment) -> ExitStatus:
    config = load_config(args.config, env.environ)
    if args.check:
        from enarx.steward.service import build_steward

        steward = build_steward(config, clock=env.clock)
        try:
            policy = config.policy
            if args.json:
                summary = {
                    "config": str(args.config), "mode": policy.mode, "trust_domain": policy.trust_domain,
                    "applications": sorted(policy.applications), "log": steward.log.engine,
                    "listen": f"{config.settings.host}:{config.settings.port}",
                    "clock_override": policy.clock.isoformat() if policy.clock else None,
                }
                print(json.dumps(summary), file=env.stdout)
                return ExitStatus.OK
            print(
                f"{args.config}: ok: mode {policy.mode}, trust domain {policy.trust_domain}, "
                f"{len(policy.applications)} application(s), log {steward.log.engine}, "
                f"listen {config.settings.host}:{config.settings.port}",
                file=env.stdout,
            )
        finally:
            steward.close()
        return ExitStatus.OK
    from enarx.steward.serve import serve

    serve(config, args.config, log_level="info")
    return ExitStatus.OK


def _open_log(path: Path, env: Environment) -> IssuanceLog:
    settings = load_config(path, env.environ).settings
    return IssuanceLog(settings.database, sqlite_synchronous=settings.sqlite_synchronous)


def _revoke(args: argparse.Namespace, env: Environment) -> ExitStatus:
    serial = parse_serial(args.serial)
    log = _open_log(args.config, env)
    try:
        record = log.revoke(serial, at=env.clock(), reason=args.reason)
    finally:
        log.close()
    if args.json:
        print(json.dumps(record.to_json()), file=env.stdout)
    else:
        print(f"revoked {args.serial} ({args.reason}); the next GET /v1/crl lists it", file=env.stdout)
    return ExitStatus.OK


def _log(args: argparse.Namespace, env: Environment) -> ExitStatus:
    log = _open_log(args.config, env)
    try:
        if args.serial:
            one = log.get(parse_serial(args.serial))
            records = [one] if one else []
            if not records:
                print(f"enarx: error: no certificate with serial {args.serial}", file=env.stderr)
                return ExitStatus.ERROR
        else:
            records = log.records(limit=args.limit)
    finally:
        log.close()
    for rec in records:
        if args.json:
            doc = rec.to_json()
            if args.serial:
                doc["certificate"] = rec.certificate_pem
            print(json.dumps(doc), file=env.stdout)
        else:
            state = f"REVOKED {rec.revoked_at:%Y-%m-%dT%H:%M:%SZ}" if rec.revoked_at else "valid"
            apps = ",".join(rec.apps) or "-"
            print(f"{rec.serial:x}  {rec.issued_at:%Y-%m-%dT%H:%M:%SZ}  {rec.tee:<4} {apps:<20} {state}", file=env.stdout)
            if args.serial:
                print(rec.certificate_pem, file=env.stdout, end="")
    return ExitStatus.OK
