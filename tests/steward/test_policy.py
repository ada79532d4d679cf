"""Policy: loading with precise errors, and the decision (applications, insecure reasons)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from enarx.identity import Claims
from enarx.steward.errors import ConfigError, StewardError
from enarx.steward.policy import StewardPolicy, decide, load_policy
from enarx.steward.settings import load_config
from enarx.steward.tomltable import Source, Table
from tests.steward.csrs import APP_DIGEST, SIGNER, claims


def _policy(text: str) -> StewardPolicy:
    top = Table(tomllib.loads(text), Source("steward.toml", text))
    policy = load_policy(top, Source("steward.toml", text))
    top.done()
    return policy


APPS = f"""
[applications.pay]
slugs = ["acme/pay"]
allow_insecure = ["host-stdio"]

[applications.ledger]
signers = ["{SIGNER.hex()}"]

[applications.pinned]
slugs = ["acme/pinned:1.0.0"]
digests = ["{APP_DIGEST.hex()}"]
"""
PROD = 'mode = "production"\ntrust_domain = "steward.example"\n' + APPS
TEST = 'mode = "test"\n' + APPS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('mode = "debug"', 'steward.toml:1: mode: must be "production" or "test"'),
        ("", "steward.toml: trust_domain: a production Steward needs a trust_domain"),
        ('mode = "test"\ntrust_domain = "steward.example"', "steward.toml:2: trust_domain: a test Steward issues only under 'enarx.test'"),
        ('trust_domain = "enarx.test"', "steward.toml:1: trust_domain: 'enarx.test' is reserved"),
        ('trust_domain = "Bad_Domain"', "steward.toml:1: trust_domain: trust domain 'Bad_Domain' is not"),
        ('mode = "test"\nvalidity = "forever"', "steward.toml:2: validity: expected a duration"),
        ('mode = "test"\nvalidity = "91d"', "steward.toml:2: validity: at most 90 days"),
        ('mode = "test"\nclock = "yesterday"', "steward.toml:2: clock: not an RFC 3339 date-time"),
        ('mode = "test"\nclock = 2023-02-01T00:00:00', "clock: expected an offset date-time"),
        ('mode = "test"\n[applications.Pay]\nslugs = ["a/b"]', "steward.toml:2: applications.Pay: application name 'Pay'"),
        ('mode = "test"\n[applications.pay]\nslugs = ["nope"]', "steward.toml:3: applications.pay.slugs[0]: 'nope' is not [host/]user/repo[:tag]"),
        ('mode = "test"\n[applications.pay]\nsigners = ["abc"]', "steward.toml:3: applications.pay.signers[0]: expected 64 hex"),
        ('mode = "test"\n[applications.pay]\nallow_insecure = ["yolo"]\nslugs=["a/b"]', "applications.pay.allow_insecure[0]: unknown reason 'yolo'"),
        ('mode = "test"\n[applications.pay]\nallow_insecure = []', "application 'pay' needs at least one of slugs, signers, digests"),
        ('mode = "test"\n[applications.pay]\nslugs = ["a/b"]\nslug = ["x/y"]', "steward.toml:4: applications.pay.slug: unknown key"),
        ('mode = "test"\n[snp]\nmeasurements = ["zz"]', "snp"),
        ('mode = "test"\n[sgx]\nhash = ["00"]', "sgx"),
        ('mode = "test"\nbogus = 1', "steward.toml:2: bogus: unknown key"),
        ('mode = "test"\nextra_roots = ["/nonexistent/ark.pem"]', "steward.toml:2: extra_roots[0]: cannot read /nonexistent/ark.pem"),
        ('mode = "test"\nextra_roots = "ark.pem"', "steward.toml:2: extra_roots: expected a list of strings"),
    ],
)
def test_config_errors_name_file_line_and_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        _policy(text)
    assert message in str(info.value)


def test_settings_and_env(tmp_path: Path) -> None:
    path = tmp_path / "steward.toml"
    path.write_text('mode = "test"\n[server]\nport = 4000\ndatabase = "x.db"\nca_dir = "myca"\n')
    config = load_config(path, {"STEWARD_PORT": "5000", "STEWARD_PUBLIC_URL": "https://s.example/"})
    assert config.settings.port == 5000
    assert config.settings.database == str(tmp_path / "x.db")
    assert config.settings.ca_dir == tmp_path / "myca"
    assert config.settings.crl_url == "https://s.example/v1/crl"
    with pytest.raises(ConfigError, match="STEWARD_PORT='x': expected an integer"):
        load_config(path, {"STEWARD_PORT": "x"})
    path.write_text('mode = "test"\n[server]\nprot = 1\n')
    with pytest.raises(ConfigError, match=r"server\.prot: unknown key"):
        load_config(path, {})
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml", {})


def test_vector_policy_file_loads() -> None:
    from tests.vectors import vector

    text = 'trust_domain = "steward.example"\n' + vector("enarx-csr/steward.toml").decode()
    policy = _policy(text)
    assert policy.mode == "production" and not policy.attestation.allow_nil
    assert policy.attestation.sgx.mrenclave


def _c(**kw: object) -> Claims:
    """Claims whose digest matches no rule, unless given."""
    base: dict[str, object] = {"application_digest": bytes(32)}
    base.update(kw)
    return claims(**base)


@pytest.mark.parametrize(
    ("kw", "apps"),
    [
        ({"slug": "acme/pay:2.0.0"}, ("pay",)),  # repository rule: any tag
        ({"slug": "other.host/acme/pay:2.0.0"}, None),  # a different registry is not the same repo
        ({"signer": SIGNER}, ("ledger", "pinned")),  # ledger by signer; pinned by digest
        ({"slug": "acme/pinned:1.0.0"}, ("pinned",)),
    ],
)
def test_matching(kw: dict[str, object], apps: tuple[str, ...] | None) -> None:
    policy = _policy(PROD)
    c = _c(application_digest=APP_DIGEST, signer=SIGNER) if "signer" in kw else _c(**kw)
    if apps is None:
        assert decide(policy, c, tee="snp", debug=False).names.apps == ()  # type: ignore[union-attr]
    else:
        assert decide(policy, c, tee="snp", debug=False).names.apps == apps  # type: ignore[union-attr]


def test_production_refuses_each_insecure_reason_with_its_code() -> None:
    policy = _policy(PROD)
    c = _c(slug="acme/pay:1.0.0", insecure=frozenset({"host-stdio", "raw-tcp", "http-steward"}))
    with pytest.raises(StewardError) as info:
        decide(policy, c, tee="snp", debug=True)
    codes = [v.code for v in info.value.violations]
    # host-stdio is allowed for pay; the rest are refused, each with its own code, in vocabulary order.
    assert codes == ["insecure.raw-tcp", "insecure.http-steward", "insecure.tee-debug"]
    assert info.value.status == 403 and info.value.code == "insecure.raw-tcp"


def test_production_allows_what_the_app_allows() -> None:
    decision = decide(_policy(PROD), _c(slug="acme/pay:1.0.0", insecure=frozenset({"host-stdio"})), tee="snp", debug=False)
    assert decision.insecure == ("host-stdio",) and decision.names.apps == ("pay",)  # type: ignore[union-attr]


def test_production_refuses_unmatched_requested_app() -> None:
    with pytest.raises(StewardError) as info:
        decide(_policy(PROD), _c(slug="acme/pay:1.0.0", apps=("ledger",)), tee="snp", debug=False)
    assert info.value.code == "identity.app_not_allowed" and info.value.got == "ledger"


def test_production_without_claims_names_nothing() -> None:
    decision = decide(_policy(PROD), None, tee="sgx", debug=False)
    assert decision.names is None and decision.insecure == ()


def test_production_refuses_insecure_without_an_app() -> None:
    with pytest.raises(StewardError) as info:
        decide(_policy(PROD), _c(insecure=frozenset({"host-dirs"})), tee="snp", debug=False)
    assert info.value.code == "insecure.host-dirs"


def test_test_mode_records_and_grants_unlisted_names() -> None:
    decision = decide(_policy(TEST), _c(apps=("web",), insecure=frozenset({"raw-tcp"})), tee="nil", debug=True)
    assert decision.names.apps == ("web",)  # type: ignore[union-attr]
    assert decision.insecure == ("nil-backend", "raw-tcp")
    # A listed application still needs its rule in test mode.
    with pytest.raises(StewardError):
        decide(_policy(TEST), _c(apps=("pay",)), tee="nil", debug=True)
