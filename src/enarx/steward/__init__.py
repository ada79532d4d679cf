"""The Steward: an attestation CA that names attested workloads (docs/steward.md)."""

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
