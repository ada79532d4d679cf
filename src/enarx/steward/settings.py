"""The Steward's settings: the ``[server]`` table of its TOML, then ``STEWARD_*`` variables.

Environment variables override the file (12-factor deployments), but only for operational
settings; the mode, trust domain and policy come from the file alone, so what a Steward
accepts is always written down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from enarx.steward.errors import ConfigError
from enarx.steward.policy import StewardPolicy, load_policy
from enarx.steward.tomltable import Source, Table, read_toml

DEFAULT_MAX_BODY = 1 << 20  # 1 MiB: the largest real CSR (SGX with collateral) is ~15 KB
DEFAULT_MAX_BUNDLE = 64

# env var -> (setting, type)
ENV_VARS: dict[str, tuple[str, type]] = {
    "STEWARD_HOST": ("host", str),
    "STEWARD_PORT": ("port", int),
    "STEWARD_CA_DIR": ("ca_dir", str),
    "STEWARD_DATABASE": ("database", str),
    "STEWARD_PUBLIC_URL": ("public_url", str),
    "STEWARD_MAX_BODY_BYTES": ("max_body_bytes", int),
    "STEWARD_WORKERS": ("workers", int),
}


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 3000
    ca_dir: Path = Path("ca")
    database: str = "steward.db"  # a SQLite path, or a postgresql:// DSN
    public_url: str | None = None  # where clients reach us; the CRL distribution point hangs off it
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_bundle: int = DEFAULT_MAX_BUNDLE
    crl_validity_hours: int = 24
    workers: int = 1
    sqlite_synchronous: str = "FULL"

    @property
    def crl_url(self) -> str | None:
        return f"{self.public_url.rstrip('/')}/v1/crl" if self.public_url else None


@dataclass(frozen=True)
class StewardConfig:
    settings: Settings
    policy: StewardPolicy
    source: str


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> StewardConfig:
    """Read and validate ``path`` (and ``STEWARD_*`` from ``environ``); raise ConfigError."""
    data, source = read_toml(path)
    return config_from_mapping(data, source, environ or {}, base=path.parent)


def config_from_mapping(
    data: Mapping[str, object], source: Source, environ: Mapping[str, str], *, base: Path
) -> StewardConfig:
    top = Table(data, source)
    server = top.table("server") or Table({}, source, "server")
    values: dict[str, object] = {
        "host": server.get("host", str, Settings.host),
        "port": server.get("port", int, Settings.port),
        "ca_dir": server.get("ca_dir", str, str(Settings.ca_dir)),
        "database": server.get("database", str, Settings.database),
        "public_url": server.opt_str("public_url"),
        "max_body_bytes": server.get("max_body_bytes", int, Settings.max_body_bytes),
        "max_bundle": server.get("max_bundle", int, Settings.max_bundle),
        "crl_validity_hours": server.get("crl_validity_hours", int, Settings.crl_validity_hours),
        "workers": server.get("workers", int, Settings.workers),
        "sqlite_synchronous": server.get("sqlite_synchronous", str, Settings.sqlite_synchronous),
    }
    server.done()
    for var, (key, kind) in ENV_VARS.items():
        if var in environ:
            raw = environ[var]
            if kind is int:
                try:
                    values[key] = int(raw)
                except ValueError as exc:
                    raise ConfigError(f"{var}={raw!r}: expected an integer", field=var) from exc
            else:
                values[key] = raw
    for key in ("port", "max_body_bytes", "max_bundle", "crl_validity_hours", "workers"):
        if int(values[key]) < (0 if key == "port" else 1):  # type: ignore[call-overload]
            raise ConfigError(f"{source.where('server.' + key)}: must be positive", field=f"server.{key}")
    if str(values["sqlite_synchronous"]).upper() not in ("FULL", "NORMAL", "EXTRA"):
        raise ConfigError(f"{source.where('server.sqlite_synchronous')}: one of FULL, NORMAL, EXTRA")
    ca_dir = Path(str(values.pop("ca_dir")))
    database = str(values.pop("database"))
    if not database.startswith(("postgresql://", "postgres://")) and not Path(database).is_absolute():
        database = str(base / database)
    settings = Settings(
        ca_dir=ca_dir if ca_dir.is_absolute() else base / ca_dir,
        database=database,
        **values,  # type: ignore[arg-type]
    )
    policy = load_policy(top, source, base)
    top.done()
    return StewardConfig(settings=settings, policy=policy, source=source.name)
