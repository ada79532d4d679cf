"""Intel PCS collateral: exact signed bytes, the 2025 TCB signing certificate, CRL matching."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from enarx.attestation.dcap import collateral as coll
from enarx.attestation.dcap import revocation
from enarx.attestation.dcap.enarx import decode_enarx_sgx_evidence
from enarx.attestation.dcap.testing import TestOnlyIntelPki
from enarx.attestation.errors import MalformedEvidence, VerificationFailed
from tests.attestation.dcap_cases import (
    GO_TDX,
    T_END,
    T_NOW,
    XEON_CSR,
    chain_2025,
    csr_parts,
    fake_pki,
)
from tests.vectors import vector

TCB_2018_CHAIN = GO_TDX + "tcb_info_issuer_chain.pem"


def _signer_2018() -> x509.Certificate:
    return x509.load_pem_x509_certificates(vector(TCB_2018_CHAIN))[0]


@pytest.mark.parametrize(
    ("path", "tee", "fmspc", "levels", "eval_number"),
    [
        (GO_TDX + "sample_tcbInfo_response", "TDX", "50806f000000", 2, 15),
        (GO_TDX + "sample_tcbinfo_response_v5", "TDX", "90c06f000000", 3, 18),
        ("tdx/trustee/tcbInfo.json", "TDX", "00a06d080000", 2, 17),
    ],
)
def test_tcb_info_vectors(path: str, tee: str, fmspc: str, levels: int, eval_number: int) -> None:
    doc = coll.parse_tcb_info(vector(path))
    assert (doc.value.id, doc.value.version, doc.value.fmspc.hex()) == (tee, 3, fmspc)
    assert len(doc.value.tcb_levels) == levels
    assert doc.value.tcb_evaluation_data_number == eval_number
    # The signed bytes are exactly the served value: {"tcbInfo": <body>, "signature": ...}.
    raw = vector(path)
    assert raw[len(b'{"tcbInfo":') : len(b'{"tcbInfo":') + len(doc.body)] == doc.body
    # Same key in the 2018 certificate and in its 2025 re-issue (MANIFEST caveat).
    coll.check_signed(doc, _signer_2018(), "tcb_info")
    coll.check_signed(doc, chain_2025()[0], "tcb_info")


def test_tdx_module_identities() -> None:
    info = coll.parse_tcb_info(vector(GO_TDX + "sample_tcbinfo_response_v5")).value
    assert [m.id for m in info.tdx_module_identities] == ["TDX_03", "TDX_01"]
    tdx01 = info.tdx_module_identities[1]
    assert [(lv.isv_svn, lv.tcb_status) for lv in tdx01.tcb_levels] == [(6, "UpToDate"), (4, "OutOfDate"), (2, "OutOfDate")]
    assert info.tcb_levels[1].advisory_ids[0] == "INTEL-SA-01036"
    old = coll.parse_tcb_info(vector(GO_TDX + "sample_tcbInfo_response")).value
    assert old.tdx_module_identities == () and old.tdx_module is not None
    assert [c.svn for c in old.tcb_levels[0].tdx_components or ()][:3] == [3, 0, 5]
    assert len(old.tcb_levels[1].advisory_ids) == 13


@pytest.mark.parametrize(
    ("path", "issue"),
    [(GO_TDX + "sample_qeIdentity_response", "2023-06-08"), ("tdx/trustee/enclaveIdentity.json", "2025-10-28")],
)
def test_qe_identity_vectors(path: str, issue: str) -> None:
    doc = coll.parse_qe_identity(vector(path))
    qe = doc.value
    assert (qe.id, qe.version, qe.isv_prod_id) == ("TD_QE", 2, 2)
    assert qe.mrsigner.hex().upper() == "DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5"
    assert qe.issue_date.date().isoformat() == issue
    assert [(lv.isv_svn, lv.tcb_status) for lv in qe.tcb_levels] == [(4, "UpToDate")]
    coll.check_signed(doc, _signer_2018(), "qe_identity")


def test_sgx_tcb_info_in_the_xeon_csr() -> None:
    _, carried = decode_enarx_sgx_evidence(csr_parts(XEON_CSR).evidence)
    assert carried.tcb_info is not None
    doc = coll.parse_tcb_info(carried.tcb_info)
    assert (doc.value.id, doc.value.fmspc.hex().upper(), len(doc.value.tcb_levels)) == ("SGX", "00606A000000", 5)
    # Steward sliced [11:-144]; we find the span, and it is the same here.
    assert doc.body == carried.tcb_info[11:-144]
    coll.check_signed(doc, carried.tcb_info_issuer_chain[0], "tcb_info")


def test_reserialised_json_does_not_verify() -> None:
    """Re-serialising changes the bytes; a verifier that re-encoded JSON would accept forgeries."""
    raw = vector(GO_TDX + "sample_tcbInfo_response")
    doc = json.loads(raw)
    pretty = json.dumps(doc, indent=1).encode()
    reparsed = coll.parse_tcb_info(pretty)
    assert reparsed.value == coll.parse_tcb_info(raw).value
    with pytest.raises(VerificationFailed) as info:
        coll.check_signed(reparsed, _signer_2018(), "tcb_info")
    assert info.value.code == "dcap.tcb_info.signature"


@pytest.mark.parametrize(
    ("old", "new"),
    [(b'"tcbEvaluationDataNumber":15', b'"tcbEvaluationDataNumber":16'), (b'"UpToDate"', b'"OutOfDate"')],
)
def test_flipped_tcb_info_body_fails_signature(old: bytes, new: bytes) -> None:
    raw = vector(GO_TDX + "sample_tcbInfo_response")
    assert old in raw
    doc = coll.parse_tcb_info(raw.replace(old, new, 1))
    with pytest.raises(VerificationFailed) as info:
        coll.check_signed(doc, _signer_2018(), "tcb_info")
    assert info.value.code == "dcap.tcb_info.signature"


def test_flipped_qe_identity_body_fails_signature() -> None:
    raw = vector(GO_TDX + "sample_qeIdentity_response")
    doc = coll.parse_qe_identity(raw.replace(b'"isvprodid":2', b'"isvprodid":3'))
    with pytest.raises(VerificationFailed) as info:
        coll.check_signed(doc, _signer_2018(), "qe_identity")
    assert info.value.code == "dcap.qe_identity.signature"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda s: s.replace(b'"signature"', b'"sig"'), "tcb_info.signature"),
        (lambda s: s.replace(b'"tcbInfo"', b'"tcb"'), "tcb_info.tcbInfo"),
        (lambda s: s.replace(b'"version":3', b'"version":4'), "tcbInfo.version"),
        (lambda s: s.replace(b'"fmspc":"50806f000000"', b'"fmspc":"50806f"'), "tcbInfo.fmspc"),
        (lambda s: s.replace(b'"tcbStatus":"UpToDate"', b'"tcbStatus":"Fine"'), "tcbInfo.tcbLevels[0].tcbStatus"),
        (lambda s: s.replace(b'"issueDate":"2023-06-18T08:42:58Z"', b'"issueDate":"soon"'), "tcbInfo.issueDate"),
        (lambda s: s.replace(b'"pcesvn":11', b'"pcesvn":true'), "tcbInfo.tcbLevels[0].tcb.pcesvn"),
        (lambda s: s.replace(b'"tcbType":0', b'"tcbType":0,"tcbType":1'), "tcb_info"),
        (lambda s: s[:-1] + b',"signature":"00"}', "tcb_info"),
        (lambda s: s + b"x", "tcb_info"),
        (lambda s: b"\xff" + s, "tcb_info"),
    ],
)
def test_malformed_tcb_info_names_the_field(mutate: object, field: str) -> None:
    raw = vector(GO_TDX + "sample_tcbInfo_response")
    with pytest.raises(MalformedEvidence) as info:
        coll.parse_tcb_info(mutate(raw))  # type: ignore[operator]
    assert info.value.code == "dcap.tcb_info.malformed"
    assert info.value.field == field


def test_check_current_boundaries() -> None:
    doc = coll.parse_tcb_info(vector(GO_TDX + "sample_tcbInfo_response")).value
    coll.check_current("tcb_info", doc.issue_date, doc.next_update, doc.issue_date)
    coll.check_current("tcb_info", doc.issue_date, doc.next_update, doc.next_update)
    with pytest.raises(VerificationFailed) as info:
        coll.check_current("tcb_info", doc.issue_date, doc.next_update, doc.next_update + timedelta(seconds=1))
    assert (info.value.code, info.value.field) == ("dcap.collateral.expired", "tcb_info.nextUpdate")
    with pytest.raises(VerificationFailed) as info:
        coll.check_current("tcb_info", doc.issue_date, doc.next_update, doc.issue_date - timedelta(seconds=1))
    assert info.value.code == "dcap.collateral.not_yet_valid"


# --- CRLs ------------------------------------------------------------------------------------


def _path(pki: TestOnlyIntelPki) -> list[x509.Certificate]:
    return [pki.pck, pki.pck_ca, pki.root]


def test_crls_clean() -> None:
    pki = fake_pki()
    revocation.check_revocation(_path(pki), pki.crls(), T_NOW)


def test_revoked_pck() -> None:
    pki = fake_pki()
    crls = (pki.crl("root"), pki.crl("pck_ca", revoked=[12345, pki.pck.serial_number]))
    with pytest.raises(VerificationFailed) as info:
        revocation.check_revocation(_path(pki), crls, T_NOW)
    assert info.value.code == "dcap.crl.revoked"
    assert info.value.got == f"{pki.pck.serial_number:#x}"


def test_revoked_intermediate() -> None:
    pki = fake_pki()
    crls = (pki.crl("root", revoked=[pki.pck_ca.serial_number]), pki.crl("pck_ca"))
    with pytest.raises(VerificationFailed) as info:
        revocation.check_revocation(_path(pki), crls, T_NOW)
    assert info.value.code == "dcap.crl.revoked"


def test_missing_crl_fails_closed() -> None:
    pki = fake_pki()
    with pytest.raises(VerificationFailed) as info:
        revocation.check_revocation(_path(pki), (pki.crl("root"),), T_NOW)
    assert info.value.code == "dcap.crl.missing"
    assert "PCK Platform CA" in str(info.value.expected)


def test_expired_crl_and_a_current_one() -> None:
    pki = fake_pki()
    stale = pki.crl("pck_ca", this_update=T_NOW - timedelta(days=20), next_update=T_NOW - timedelta(seconds=1))
    with pytest.raises(VerificationFailed) as info:
        revocation.check_revocation(_path(pki), (pki.crl("root"), stale), T_NOW)
    assert info.value.code == "dcap.crl.expired"
    # A current CRL from the same issuer is enough; the stale one is then ignored.
    revocation.check_revocation(_path(pki), (pki.crl("root"), stale, pki.crl("pck_ca")), T_NOW)


def test_crl_with_the_issuers_name_but_another_key() -> None:
    pki = fake_pki()
    impostor = ec.generate_private_key(ec.SECP256R1())
    forged = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.pck_ca.subject)
        .last_update(T_NOW - timedelta(days=1))
        .next_update(T_END)
        .sign(impostor, hashes.SHA256())
    )
    with pytest.raises(VerificationFailed) as info:
        revocation.check_revocation(_path(pki), (pki.crl("root"), forged), T_NOW)
    assert info.value.code == "dcap.crl.signature"


def test_unrelated_crls_are_ignored() -> None:
    pki = fake_pki()
    other = TestOnlyIntelPki.create(not_before=pki.not_before, not_after=pki.not_after)
    with pytest.raises(VerificationFailed) as info:
        revocation.check_revocation(_path(pki), (pki.crl("root"), other.crl("pck_ca")), T_NOW)
    # Same subject name, other key: matched by name, refused by signature.
    assert info.value.code == "dcap.crl.signature"


def test_real_intel_crls_for_the_platform_chain() -> None:
    """go-tdx-guest's PCK CRL and root CRL against the trustee TDX quote's chain."""
    from enarx.attestation.dcap.abi import Quote
    from enarx.attestation.dcap.verify import load_pem_chain
    from tests.attestation.dcap_cases import GO_TDX_NOW, TRUSTEE_4

    quote = Quote.from_bytes(vector(TRUSTEE_4))
    chain = load_pem_chain(quote.signature_data.qe.certification_data.data, "pck")
    crls = [x509.load_der_x509_crl(vector(GO_TDX + name)) for name in ("pckcrl", "rootcrl.der")]
    revocation.check_revocation(chain, crls, GO_TDX_NOW)
    assert len(crls[0]) == 44


def test_sgx_tcb_info_version_2() -> None:
    """PCS v3 API format: components as sgxtcbcompNNsvn keys, no id."""
    pki = fake_pki()
    tcb = {f"sgxtcbcomp{i:02d}svn": 1 for i in range(1, 17)} | {"pcesvn": 13}
    value = {
        "version": 2, "issueDate": "2024-01-01T00:00:00Z", "nextUpdate": "2025-01-01T00:00:00Z",
        "fmspc": pki.fmspc.hex(), "pceId": "0000", "tcbType": 0, "tcbEvaluationDataNumber": 9,
        "tcbLevels": [{"tcb": tcb, "tcbDate": "2023-01-01T00:00:00Z", "tcbStatus": "SWHardeningNeeded",
                       "advisoryIDs": ["INTEL-SA-00615"]}],
    }  # fmt: skip
    doc = coll.parse_tcb_info(pki.sign_document("tcbInfo", value))
    assert (doc.value.id, doc.value.version) == ("SGX", 2)
    level = doc.value.tcb_levels[0]
    assert [c.svn for c in level.sgx_components] == [1] * 16 and level.tdx_components is None
    assert (level.pce_svn, level.tcb_status, level.advisory_ids) == (13, "SWHardeningNeeded", ("INTEL-SA-00615",))
    coll.check_signed(doc, pki.tcb_signing, "tcb_info")
