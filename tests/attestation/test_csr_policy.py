"""AttestationPolicy.from_mapping: our format, Steward's steward.toml, and errors naming the key."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enarx.attestation.dcap.validate import DcapPolicy
from enarx.attestation.errors import AttestationError
from enarx.attestation.policy import AttestationPolicy
from enarx.attestation.snp.validate import SnpPolicy
from tests.vectors import vector


def test_defaults_are_secure() -> None:
    policy = AttestationPolicy.from_mapping({})
    assert policy == AttestationPolicy()
    assert policy.allow_nil is False
    assert policy.snp == SnpPolicy() and policy.snp.allow_debug is False
    assert policy.sgx == DcapPolicy() and policy.sgx.allow_debug is False


def test_steward_toml_loads() -> None:
    policy = AttestationPolicy.from_mapping(tomllib.loads(vector("enarx-csr/steward.toml").decode()))
    assert policy.snp.measurements == frozenset({bytes.fromhex("ff717ae719840c93c1fca3b7db96488454c3c21b43531488eecff51cfed3febcd91da8be87a4cbcbc52a3bae770987c3")})
    assert policy.snp.min_abi == (1, 51)
    assert len(policy.snp.author_key_digests) == 1 and len(policy.snp.id_key_digests) == 1
    assert policy.sgx.mrsigner == frozenset({bytes.fromhex("7a49a07df0f8e90a6e1d9a63e3c696d9c844f0e3f8739b21daa640f99facc48a")})
    assert policy.sgx.mrenclave == frozenset({bytes.fromhex("4046ea255f0455131a024e1265ac1ebd131fdbd1240f1712a00381f6f04e8c15")})
    assert (policy.sgx.isv_prod_id, policy.sgx.min_isv_svn) == (0, 0)
    assert policy.sgx.allow_debug is True  # steward.toml lists the Debug feature
    assert "INTEL-SA-00615" in policy.sgx.allowed_advisories
    assert "Revoked" not in policy.sgx.accepted_tcb_statuses and "OutOfDate" in policy.sgx.accepted_tcb_statuses
    assert policy.tdx == DcapPolicy()


def test_our_format_loads() -> None:
    policy = AttestationPolicy.from_mapping(
        {
            "allow_nil": True,
            "snp": {"measurements": ["ab" * 48], "min_tcb": {"microcode": 93}},
            "sgx": {"mrenclave": ["cd" * 32]},
            "tdx": {"mrtd": ["ef" * 48], "allow_debug": False},
        }
    )
    assert policy.allow_nil
    assert policy.snp.min_tcb.microcode == 93
    assert policy.sgx.mrenclave == frozenset({bytes.fromhex("cd" * 32)})
    assert policy.sgx.accepted_tcb_statuses == frozenset({"UpToDate"})  # not Steward-style: no loosening
    assert policy.tdx.mrtd == frozenset({bytes.fromhex("ef" * 48)})


@pytest.mark.parametrize(
    ("mapping", "field"),
    [
        ({"snpp": {}}, "snpp"),
        ({"allow_nil": 1}, "allow_nil"),
        ({"snp": []}, "snp"),
        ({"snp": {"hash": ["00"]}}, "snp.hash"),
        ({"sgx": {"hash": ["00"]}}, "sgx.mrenclave"),
        ({"sgx": {"hash": ["00" * 32], "mrenclave": ["00" * 32]}}, "sgx.hash"),
        ({"sgx": {"features": ["Fly"]}}, "sgx.features"),
        ({"sgx": {"hash_blacklist": ["00" * 32]}}, "sgx.hash_blacklist"),
        ({"tdx": {"mrtdd": []}}, "tdx.mrtdd"),
    ],
)
def test_errors_name_the_key(mapping: dict[str, object], field: str) -> None:
    with pytest.raises(AttestationError) as info:
        AttestationPolicy.from_mapping(mapping)
    assert info.value.code == "policy.invalid"
    assert info.value.field == field, info.value.message


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 300), st.text(max_size=8), st.sampled_from(["00" * 48, "00" * 32, ">=1.51", "1.51", "SMT", "SME"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=6)
_KEYS = st.sampled_from(
    ["allow_debug", "measurements", "hash", "signer", "min_tcb", "abi", "policy_flags", "platform_info_flags", "allowed_vmpls", "min_abi",
     "mrenclave", "features", "enclave_security_version", "allowed_advisories", "accepted_tcb_statuses", "bogus"]
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["snp", "sgx", "tdx", "allow_nil", "x"]), st.one_of(_VALUES, st.dictionaries(_KEYS, _VALUES, max_size=4)), max_size=4))
def test_fuzz_policy_mappings_give_typed_errors(data: dict[str, object]) -> None:
    try:
        policy = AttestationPolicy.from_mapping(data)
    except AttestationError as exc:
        assert exc.code == "policy.invalid"
        return
    assert isinstance(policy, AttestationPolicy)
