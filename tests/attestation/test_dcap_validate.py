"""DcapPolicy: strict loading with precise errors, and validation that lists every violation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from enarx.attestation.dcap import DcapPolicy
from enarx.attestation.dcap.abi import Quote
from enarx.attestation.dcap.tcb import TcbEvaluation
from enarx.attestation.dcap.testing import test_only_sgx_body, test_only_td_body
from enarx.attestation.dcap.validate import enforce, sgx_violations, tdx_violations
from enarx.attestation.errors import AttestationError, PolicyViolation
from tests.attestation.dcap_cases import OCCLUM
from tests.vectors import vector

UP = TcbEvaluation("UpToDate", (), "UpToDate", datetime(2024, 3, 13, tzinfo=UTC), 17)
OLD = TcbEvaluation("OutOfDate", ("INTEL-SA-00615",), "OutOfDate", datetime(2021, 11, 10, tzinfo=UTC), 14)


def test_defaults_are_secure() -> None:
    policy = DcapPolicy()
    assert policy.accepted_tcb_statuses == frozenset({"UpToDate"})
    assert not policy.allow_debug and policy.require_qe_identity
    assert policy.allowed_advisories == frozenset()


def test_from_mapping_full() -> None:
    policy = DcapPolicy.from_mapping(
        {
            "accepted_tcb_statuses": ["UpToDate", "SWHardeningNeeded"],
            "allowed_advisories": ["INTEL-SA-00615"],
            "allow_debug": False,
            "require_qe_identity": False,
            "mrenclave": ["aa" * 32],
            "mrsigner": ["BB" * 32],
            "isv_prod_id": 0,
            "min_isv_svn": 2,
            "mrtd": ["cc" * 48],
            "rtmr3": ["dd" * 48],
            "mrconfigid": ["00" * 48],
            "mrowner": ["00" * 48],
        }
    )
    assert policy.mrsigner == frozenset({b"\xbb" * 32})
    assert policy.min_isv_svn == 2 and not policy.require_qe_identity


@pytest.mark.parametrize(
    ("data", "field", "got"),
    [
        ({"mrenclav": []}, "mrenclav", "mrenclav"),
        ({"mrenclave": ["aa" * 31]}, "mrenclave", "aa" * 31 + " (31 bytes)"),
        ({"mrenclave": ["zz"]}, "mrenclave", "zz"),
        ({"mrenclave": "aa" * 32}, "mrenclave", "aa" * 32),
        ({"mrtd": ["aa" * 32]}, "mrtd", "aa" * 32 + " (32 bytes)"),
        ({"accepted_tcb_statuses": ["Fine"]}, "accepted_tcb_statuses", "Fine"),
        ({"accepted_tcb_statuses": ["Revoked"]}, "accepted_tcb_statuses", "Revoked"),
        ({"accepted_tcb_statuses": []}, "accepted_tcb_statuses", "[]"),
        ({"allow_debug": "yes"}, "allow_debug", "yes"),
        ({"isv_prod_id": True}, "isv_prod_id", True),
        ({"min_isv_svn": 70000}, "min_isv_svn", 70000),
        ({"allowed_advisories": [5]}, "allowed_advisories", 5),
    ],
)
def test_from_mapping_errors_name_the_key(data: dict[str, object], field: str, got: object) -> None:
    with pytest.raises(AttestationError) as info:
        DcapPolicy.from_mapping(data)
    assert (info.value.code, info.value.field, info.value.got) == ("dcap.policy.invalid", field, got)
    assert field in info.value.message


def test_occlum_debug_enclave_refused() -> None:
    body = Quote.from_bytes(vector(OCCLUM)).sgx_body
    assert [v.code for v in sgx_violations(body, UP, DcapPolicy())] == ["sgx.debug"]
    assert sgx_violations(body, UP, DcapPolicy(allow_debug=True)) == []


def test_every_sgx_violation_collected() -> None:
    body = test_only_sgx_body(debug=True, isv_prod_id=1, isv_svn=0)
    policy = DcapPolicy(mrenclave=frozenset({b"\x00" * 32}), mrsigner=frozenset({b"\x00" * 32}), isv_prod_id=2, min_isv_svn=1)
    violations = sgx_violations(body, OLD, policy)
    assert [v.code for v in violations] == [
        "sgx.tcb.status", "sgx.tcb.advisory", "sgx.debug", "sgx.mrenclave", "sgx.mrsigner", "sgx.isv_prod_id", "sgx.isv_svn",
    ]  # fmt: skip
    with pytest.raises(PolicyViolation) as info:
        enforce(violations)
    assert len(info.value.violations) == 7
    assert info.value.to_json()["violations"][3]["got"] == "aa" * 32  # type: ignore[index]
    assert "mrenclave" in info.value.message and "isv_svn is 0, expected >= 1" in info.value.message


def test_every_tdx_violation_collected() -> None:
    body = test_only_td_body(debug=True)
    policy = DcapPolicy(
        mrtd=frozenset({b"\x00" * 48}), rtmr0=frozenset({b"\x00" * 48}), rtmr1=frozenset({b"\x00" * 48}),
        rtmr2=frozenset({b"\x00" * 48}), rtmr3=frozenset({b"\x00" * 48}), mrconfigid=frozenset({b"\x01" * 48}),
        mrowner=frozenset({b"\x01" * 48}),
    )  # fmt: skip
    codes = [v.code for v in tdx_violations(body, UP, policy)]
    assert codes == ["tdx.debug", "tdx.mrtd", "tdx.rtmr0", "tdx.rtmr1", "tdx.rtmr2", "tdx.rtmr3", "tdx.mrconfigid", "tdx.mrowner"]
    ok = DcapPolicy(allow_debug=True, mrtd=frozenset({body.mr_td}), rtmr2=frozenset({body.rtmrs[2]}))
    assert tdx_violations(body, UP, ok) == []


def test_enforce_nothing() -> None:
    enforce([])
