"""Assemble a Steward from its configuration: CA, log, issuer and ASGI app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from starlette.applications import Starlette

from enarx._log import get_logger
from enarx.identity.san import TEST_TRUST_DOMAIN
from enarx.steward.app import AppLimits, create_app
from enarx.steward.ca import CertificateAuthority, load_ca
from enarx.steward.errors import ConfigError
from enarx.steward.groupcommit import GroupCommit
from enarx.steward.issuer import Issuer
from enarx.steward.log import IssuanceLog, IssuanceRecord
from enarx.steward.settings import StewardConfig

log = get_logger("enarx.steward")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Steward:
    config: StewardConfig
    ca: CertificateAuthority
    log: IssuanceLog
    issuer: Issuer
    app: Starlette
    committer: GroupCommit[IssuanceRecord]

    def close(self) -> None:
        self.committer.close()
        self.log.close()


def is_test_ca(ca: CertificateAuthority) -> bool:
    """A test CA is name-constrained to ``enarx.test`` (``enarx steward init --test``)."""
    try:
        nc = ca.certificate.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return False
    return [n.value for n in nc.permitted_subtrees or []] == [TEST_TRUST_DOMAIN]


def build_steward(config: StewardConfig, *, clock: Callable[[], datetime] = _utcnow) -> Steward:
    """Load the CA and log named by ``config`` and assemble the app; raise ConfigError if they disagree."""
    settings, policy = config.settings, config.policy
    ca = load_ca(settings.ca_dir)
    if policy.test and not is_test_ca(ca):
        raise ConfigError(f"{config.source}: mode = \"test\" needs a test CA (enarx steward init --test); {settings.ca_dir} is not one", field="mode")
    if not policy.test and is_test_ca(ca):
        raise ConfigError(f"{config.source}: {settings.ca_dir} holds a TEST CA; a production Steward refuses to use it", field="mode")
    if policy.clock is not None:
        log.warning(
            "CLOCK OVERRIDE: this Steward verifies evidence and issues certificates as of %s, not the real time. "
            "For tests and replays only.", policy.clock.isoformat(),
        )
    for root in policy.extra_roots:
        log.warning("EXTRA TRUST ANCHOR: evidence chaining to %s is accepted", root.subject.rfc4514_string())
    if policy.test:
        log.warning("TEST MODE: nil evidence and insecure deployments are accepted; certificates are under %s", TEST_TRUST_DOMAIN)
    issuance_log = IssuanceLog(settings.database, sqlite_synchronous=settings.sqlite_synchronous)
    issuer = Issuer(policy=policy, ca=ca, log=issuance_log, clock=clock, crl_url=settings.crl_url)
    limits = AppLimits(
        max_body_bytes=settings.max_body_bytes, max_bundle=settings.max_bundle,
        crl_validity=timedelta(hours=settings.crl_validity_hours),
    )
    committer = GroupCommit(issuance_log.record, inline=not issuance_log.commit_waits)
    app = create_app(issuer, limits=limits, committer=committer)
    return Steward(config=config, ca=ca, log=issuance_log, issuer=issuer, app=app, committer=committer)
