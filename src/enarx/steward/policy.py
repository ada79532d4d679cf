"""The Steward's policy: which evidence it accepts and which workloads are which application.

Loaded from the same TOML as the settings (docs/steward.md) and validated at start; the
decision itself (:func:`decide`) is sans-IO and collects every violation before refusing.

Modes are explicit. ``mode = "test"`` accepts the nil backend's empty evidence, issues only
under the trust domain ``enarx.test`` (from a CA made with ``enarx steward init --test``) and
records insecure reasons in the certificate. ``mode = "production"`` (the default) refuses nil
evidence and every insecure reason the matched application does not allow, each with its own
code (``insecure.<reason>``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509

from enarx._log import get_logger
from enarx.attestation.errors import AttestationError
from enarx.attestation.policy import AttestationPolicy
from enarx.identity.claims import INSECURE_REASONS, Claims
from enarx.identity.errors import IdentityError
from enarx.identity.san import (
    TEST_TRUST_DOMAIN,
    WorkloadNames,
    validate_app_name,
    validate_trust_domain,
)
from enarx.steward.errors import StewardError
from enarx.steward.tomltable import Source, Table

log = get_logger("enarx.steward")

Mode = Literal["production", "test"]
TEE_TABLES = ("snp", "sgx", "tdx")
DEFAULT_VALIDITY = timedelta(hours=24)
MAX_VALIDITY = timedelta(days=90)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class ApplicationRule:
    """Which deployments are the application ``name``: by slug, publisher key or digest."""

    name: str
    slugs: frozenset[str] = frozenset()  # "user/repo" (any tag) or "user/repo:1.2.3", optional "host/" prefix
    signers: frozenset[bytes] = frozenset()  # SHA-256 of the publisher's key
    digests: frozenset[bytes] = frozenset()  # application digests
    allow_insecure: frozenset[str] = frozenset()

    def matches(self, claims: Claims) -> bool:
        if claims.signer is not None and claims.signer in self.signers:
            return True
        if claims.application_digest in self.digests:
            return True
        return claims.slug is not None and any(_slug_matches(rule, claims.slug) for rule in self.slugs)


def _slug_matches(rule: str, slug: str) -> bool:
    # A rule without a tag names the repository, so a new version needs no policy change.
    repo, tag = _split_tag(slug)
    rule_repo, rule_tag = _split_tag(rule)
    if rule_tag is not None and rule_tag != tag:
        return False
    # Exact repository only: "user/repo" does not match "other.host/user/repo", which
    # another registry could serve with different contents.
    return repo == rule_repo


def _split_tag(slug: str) -> tuple[str, str | None]:
    head, sep, tail = slug.rpartition(":")
    if sep and "/" not in tail:
        return head, tail
    return slug, None


@dataclass(frozen=True)
class StewardPolicy:
    mode: Mode
    trust_domain: str
    attestation: AttestationPolicy
    applications: Mapping[str, ApplicationRule] = field(default_factory=dict)
    validity: timedelta = DEFAULT_VALIDITY
    clock: datetime | None = None  # fixed "now" for tests and replays only
    # Trust anchors beyond the pinned vendor roots: a test-only ARK/PCK root for simulated
    # TEEs, or a vendor root this version does not pin yet. Logged loudly at start. The files
    # may hold whole chains (AMD's cert_chain: ASK, ARK): self-signed certificates become
    # anchors, the others intermediates offered as collateral (never trusted by themselves).
    extra_roots: tuple[x509.Certificate, ...] = ()
    extra_intermediates: tuple[x509.Certificate, ...] = ()

    @property
    def test(self) -> bool:
        return self.mode == "test"


@dataclass(frozen=True)
class Decision:
    """What the Steward decided for one CSR; logged with the certificate."""

    names: WorkloadNames | None
    insecure: tuple[str, ...]
    matched: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "apps": list(self.names.apps) if self.names else [],
            "insecure": list(self.insecure),
            "matched": list(self.matched),
        }


def decide(policy: StewardPolicy, claims: Claims | None, *, tee: str, debug: bool) -> Decision:
    """Map verified claims to application names; refuse what the policy does not allow.

    ``tee`` and ``debug`` come from the verified evidence, so the Steward adds ``nil-backend``
    and ``tee-debug`` itself even when the runtime did not claim them.
    """
    insecure = set(claims.insecure) if claims else set()
    if tee == "nil":
        insecure.add("nil-backend")
    if debug and tee != "nil":  # the verifier marks nil as debug; nil-backend already says more
        insecure.add("tee-debug")
    violations: list[StewardError] = []
    apps: list[str] = []
    matched = tuple(name for name, rule in policy.applications.items() if claims is not None and rule.matches(claims))
    if claims is not None:
        requested = claims.apps or matched
        for app in requested:
            rule = policy.applications.get(app)
            if app in matched or (policy.test and rule is None):
                apps.append(app)
            else:
                violations.append(
                    StewardError(
                        "identity.app_not_allowed",
                        f"policy does not name this deployment {app!r}",
                        status=403, field="apps", got=app, expected=", ".join(matched) or "no application matches",
                    )
                )
    if not policy.test:
        rules = [policy.applications[a] for a in apps if a in policy.applications]
        for reason in sorted(insecure, key=INSECURE_REASONS.index):
            if not rules or not all(reason in r.allow_insecure for r in rules):
                violations.append(
                    StewardError(
                        f"insecure.{reason}", f"insecure deployment refused: {reason}", status=403,
                        field="insecure", got=reason,
                    )
                )
    if violations:
        first = violations[0]
        raise StewardError(
            first.code, "; ".join(v.message for v in violations), status=403,
            field=first.field, got=first.got, expected=first.expected, violations=tuple(violations),
        )
    names = None
    if claims is not None:
        names = WorkloadNames(
            trust_domain=policy.trust_domain, apps=tuple(apps),
            application_digest=claims.application_digest, deployment_digest=claims.deployment_digest,
        )
    ordered = tuple(sorted(insecure, key=INSECURE_REASONS.index))
    return Decision(names=names, insecure=ordered, matched=matched)


def load_policy(top: Table, source: Source, base: Path | None = None) -> StewardPolicy:
    """Read the policy keys of the Steward's TOML (the settings are read by settings.py)."""
    mode = top.get("mode", str, "production")
    if mode not in ("production", "test"):
        raise top.error("mode", f'must be "production" or "test", got {mode!r}')
    default_td = TEST_TRUST_DOMAIN if mode == "test" else None
    td = top.opt_str("trust_domain") or default_td
    if td is None:
        raise top.error("trust_domain", "a production Steward needs a trust_domain (e.g. steward.example)")
    try:
        validate_trust_domain(td)
    except IdentityError as exc:
        raise top.error("trust_domain", exc.message) from exc
    if mode == "test" and td != TEST_TRUST_DOMAIN:
        raise top.error("trust_domain", f"a test Steward issues only under {TEST_TRUST_DOMAIN!r}, got {td!r}")
    if mode == "production" and (td == TEST_TRUST_DOMAIN or td.endswith("." + TEST_TRUST_DOMAIN)):
        raise top.error("trust_domain", f"{TEST_TRUST_DOMAIN!r} is reserved for test Stewards")
    validity = _duration(top, "validity", DEFAULT_VALIDITY)
    if validity > MAX_VALIDITY:
        raise top.error("validity", f"at most {MAX_VALIDITY.days} days")
    clock = top.opt_datetime("clock")
    extra_certs = _roots(top, "extra_roots", base)
    extra_roots = tuple(c for c in extra_certs if c.issuer == c.subject)
    extra_intermediates = tuple(c for c in extra_certs if c.issuer != c.subject)
    if extra_certs and not extra_roots:
        raise top.error("extra_roots", "no self-signed root among the certificates")
    tee_tables = {name: top.mapping(name) for name in TEE_TABLES}
    attestation_doc: dict[str, object] = {k: v for k, v in tee_tables.items() if v is not None}
    attestation_doc["allow_nil"] = mode == "test"
    try:
        attestation = AttestationPolicy.from_mapping(attestation_doc)
    except (AttestationError, ValueError, TypeError) as exc:
        key = getattr(exc, "field", None) or next(iter(k for k in TEE_TABLES if tee_tables[k] is not None), "snp")
        raise top.error(str(key), f"attestation policy: {exc}") from exc
    apps: dict[str, ApplicationRule] = {}
    app_table = top.table("applications")
    if app_table is not None:
        for name in app_table.keys():  # noqa: SIM118 (Table is not a Mapping)
            rule_table = app_table.table(name)
            assert rule_table is not None
            try:
                validate_app_name(name)
            except IdentityError as exc:
                raise app_table.error(name, exc.message) from exc
            apps[name] = _rule(name, rule_table)
        app_table.done()
    return StewardPolicy(
        mode=mode,  # type: ignore[arg-type]
        trust_domain=td, attestation=attestation, applications=apps, validity=validity, clock=clock,
        extra_roots=extra_roots, extra_intermediates=extra_intermediates,
    )


def _roots(table: Table, key: str, base: Path | None) -> tuple[x509.Certificate, ...]:
    roots: list[x509.Certificate] = []
    for i, name in enumerate(table.str_list(key)):
        path = Path(name) if base is None or Path(name).is_absolute() else base / name
        try:
            roots.extend(x509.load_pem_x509_certificates(path.read_bytes()))
        except OSError as exc:
            raise table.error(f"{key}[{i}]", f"cannot read {path}: {exc.strerror}") from exc
        except ValueError as exc:
            raise table.error(f"{key}[{i}]", f"{path} is not PEM certificates: {exc}") from exc
    return tuple(roots)


def _rule(name: str, table: Table) -> ApplicationRule:
    slugs = table.str_list("slugs")
    for i, slug in enumerate(slugs):
        if slug.count("/") not in (1, 2) or not all(slug.split("/")):
            raise table.error(f"slugs[{i}]", f"{slug!r} is not [host/]user/repo[:tag]")
    signers = _hex_list(table, "signers")
    digests = _hex_list(table, "digests")
    insecure = table.str_list("allow_insecure")
    for i, reason in enumerate(insecure):
        if reason not in INSECURE_REASONS:
            raise table.error(f"allow_insecure[{i}]", f"unknown reason {reason!r}; one of {', '.join(INSECURE_REASONS)}")
    if not (slugs or signers or digests):
        raise table.error("slugs", f"application {name!r} needs at least one of slugs, signers, digests")
    table.done()
    return ApplicationRule(
        name=name, slugs=frozenset(slugs), signers=frozenset(signers), digests=frozenset(digests),
        allow_insecure=frozenset(insecure),
    )


def _hex_list(table: Table, key: str) -> list[bytes]:
    out = []
    for i, value in enumerate(table.str_list(key)):
        if not _HEX64.fullmatch(value.lower()):
            raise table.error(f"{key}[{i}]", f"expected 64 hex characters (sha-256), got {value!r}")
        out.append(bytes.fromhex(value))
    return out


def _duration(table: Table, key: str, default: timedelta) -> timedelta:
    value = table.raw(key)
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.fullmatch(value)
        if match and int(match.group(1)) > 0:
            return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    raise table.error(key, f'expected a duration such as "24h", "90m" or seconds, got {value!r}')
