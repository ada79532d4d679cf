"""The Steward: an attestation CA that names attested workloads (docs/steward.md)."""

from typing import TYPE_CHECKING

from enarx._lazy import attach

if TYPE_CHECKING:
    from enarx.steward.app import AppLimits, create_app
    from enarx.steward.ca import CertificateAuthority, init_ca, issue_workload_certificate, load_ca
    from enarx.steward.errors import ConfigError, StewardError
    from enarx.steward.issuer import Issued, Issuer
    from enarx.steward.log import IssuanceLog, IssuanceRecord
    from enarx.steward.policy import ApplicationRule, StewardPolicy
    from enarx.steward.service import Steward, build_steward
    from enarx.steward.settings import Settings, StewardConfig, load_config

__all__ = [
    "AppLimits",
    "ApplicationRule",
    "CertificateAuthority",
    "ConfigError",
    "IssuanceLog",
    "IssuanceRecord",
    "Issued",
    "Issuer",
    "Settings",
    "Steward",
    "StewardConfig",
    "StewardError",
    "StewardPolicy",
    "build_steward",
    "create_app",
    "init_ca",
    "issue_workload_certificate",
    "load_ca",
    "load_config",
]

__getattr__, __dir__ = attach(
    __name__,
    {
        "AppLimits": "enarx.steward.app",
        "create_app": "enarx.steward.app",
        "CertificateAuthority": "enarx.steward.ca",
        "init_ca": "enarx.steward.ca",
        "issue_workload_certificate": "enarx.steward.ca",
        "load_ca": "enarx.steward.ca",
        "ConfigError": "enarx.steward.errors",
        "StewardError": "enarx.steward.errors",
        "Issued": "enarx.steward.issuer",
        "Issuer": "enarx.steward.issuer",
        "IssuanceLog": "enarx.steward.log",
        "IssuanceRecord": "enarx.steward.log",
        "ApplicationRule": "enarx.steward.policy",
        "StewardPolicy": "enarx.steward.policy",
        "Steward": "enarx.steward.service",
        "build_steward": "enarx.steward.service",
        "Settings": "enarx.steward.settings",
        "StewardConfig": "enarx.steward.settings",
        "load_config": "enarx.steward.settings",
    },
)
