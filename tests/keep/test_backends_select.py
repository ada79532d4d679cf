"""Choosing a backend, plugin backends, the host cache file formats, the facade."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st

import enarx.keep.backends as facade
from enarx.attestation.csr import OID_EVIDENCE_KVM
from enarx.attestation.dcap.testing import TestOnlyIntelPki
from enarx.attestation.testing import TestOnlyAmdSignerBuilder
from enarx.keep.backends import (
    Backend,
    BackendError,
    Check,
    Evidence,
    HostCache,
    SgxBackend,
    SnpBackend,
    TdxBackend,
    plugin_backends,
    release_backends,
    release_backends_from_env,
    select_backend,
)
from enarx.keep.backends.cachefmt import (
    decode_crl_list,
    decode_tcb_package,
    encode_crl_list,
    encode_tcb_package,
)
from enarx.keep.backends.choose import UnloadableBackend
from enarx.keep.backends.snp_evidence import build_snp_evidence
from tests.keep.backend_cases import T0


class FakeBackend:
    """A backend whose checks a test decides."""

    key_curve = "P-256"
    insecure = False

    def __init__(self, name: str, *checks: Check) -> None:
        self.name = name
        self._checks = list(checks)

    def checks(self) -> list[Check]:
        return self._checks

    def available(self) -> bool:
        return bool(self._checks) and all(c.passed for c in self._checks)

    def evidence(self, report_data: bytes) -> Evidence:
        return Evidence("1.2.3", report_data)


GOOD = Check("ok", True, "fine")
BAD = Check("driver", False, "/dev/x does not exist", hint="install x")


def missing_release(tmp_path: Path) -> list[Backend]:
    return release_backends(tsm_root=tmp_path / "tsm", attestation_dev=tmp_path / "attestation", cache_root=tmp_path / "cache")


def test_release_backends_in_order(tmp_path: Path) -> None:
    backends = missing_release(tmp_path)
    assert [b.name for b in backends] == ["snp", "tdx", "sgx"]
    assert [type(b) for b in backends] == [SnpBackend, TdxBackend, SgxBackend]
    assert [b.key_curve for b in backends] == ["P-384", "P-256", "P-256"]
    assert not any(b.insecure for b in backends)
    assert all(isinstance(b, Backend) for b in backends)


def test_release_backends_from_env(tmp_path: Path) -> None:
    env = {"ENARX_TSM_ROOT": str(tmp_path / "t"), "ENARX_ATTESTATION_DEV": str(tmp_path / "a"), "ENARX_CACHE_ROOT": str(tmp_path / "c")}
    snp, tdx, sgx = release_backends_from_env(env)
    assert isinstance(snp, SnpBackend) and snp.client.root == tmp_path / "t" and snp.cache.root == tmp_path / "c"
    assert isinstance(tdx, TdxBackend) and tdx.client.root == tmp_path / "t"
    assert isinstance(sgx, SgxBackend) and sgx.dev == tmp_path / "a"
    defaults = release_backends_from_env({"ENARX_TSM_ROOT": ""})
    assert isinstance(defaults[0], SnpBackend) and str(defaults[0].client.root) == "/sys/kernel/config/tsm/report"
    assert isinstance(defaults[2], SgxBackend) and str(defaults[2].dev) == "/dev/attestation"


def test_select_first_available() -> None:
    chosen = select_backend(None, [FakeBackend("a", BAD), FakeBackend("b", GOOD), FakeBackend("c", GOOD)])
    assert chosen.name == "b"


def test_select_by_name() -> None:
    backends = [FakeBackend("a", GOOD), FakeBackend("b", GOOD)]
    assert select_backend("b", backends).name == "b"


def test_select_unknown_name() -> None:
    with pytest.raises(BackendError) as info:
        select_backend("kvm", [FakeBackend("a", GOOD), FakeBackend("b", GOOD)])
    assert info.value.code == "backend.unknown"
    assert "'kvm'" in str(info.value) and "a, b" in str(info.value)


def test_select_named_but_unavailable_names_the_checks_and_hints() -> None:
    with pytest.raises(BackendError) as info:
        select_backend("a", [FakeBackend("a", GOOD, BAD)])
    assert info.value.code == "backend.unavailable"
    assert "driver: /dev/x does not exist (hint: install x)" in str(info.value)
    assert "ok: fine" not in str(info.value)


def test_nothing_available_names_every_failed_check(tmp_path: Path) -> None:
    with pytest.raises(BackendError) as info:
        select_backend(None, missing_release(tmp_path))
    message = str(info.value)
    assert info.value.code == "backend.unavailable"
    assert "\n" not in message  # one line
    for expected in ("snp: configfs-tsm:", "provider sev_guest", "AMD CRL cache", "tdx: configfs-tsm:", "provider tdx_guest",
                     "sgx: Gramine attestation:", "Intel CRL cache", "Intel TCB cache", "hint: configfs-tsm needs Linux 6.7"):  # fmt: skip
        assert expected in message
    with pytest.raises(BackendError) as info:
        select_backend(None, [])
    assert info.value.code == "backend.unavailable"


# --- plugins ---------------------------------------------------------------------------------


def make_plugin_backend() -> FakeBackend:
    return FakeBackend("plug", GOOD)


def make_snp_impostor() -> FakeBackend:
    return FakeBackend("snp", GOOD)


def make_nothing() -> object:
    return object()


def _ep(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group="enarx.backends")


def test_plugin_backends_load_and_fail_softly() -> None:
    here = __name__
    eps = [
        _ep("plug", f"{here}:make_plugin_backend"),
        _ep("broken", "enarx_no_such_module:Backend"),
        _ep("impostor", f"{here}:make_snp_impostor"),
        _ep("junk", f"{here}:make_nothing"),
    ]
    loaded = plugin_backends(["snp", "tdx", "sgx"], load=lambda: eps)
    by_name = {b.name: b for b in loaded}
    assert sorted(by_name) == ["broken", "impostor", "junk", "plug"]
    assert by_name["plug"].available()
    for name, words in (("broken", "failed to load: ModuleNotFoundError"), ("impostor", "would replace the backend 'snp'"), ("junk", "did not return a backend")):
        backend = by_name[name]
        assert isinstance(backend, UnloadableBackend) and not backend.available()
        (check,) = backend.checks()
        assert words in check.detail and check.hint
        with pytest.raises(BackendError) as info:
            backend.evidence(bytes(64))
        assert info.value.code == "backend.unavailable"


def test_a_plugin_cannot_be_selected_in_place_of_a_release_backend(tmp_path: Path) -> None:
    release = missing_release(tmp_path)
    plugins = plugin_backends([b.name for b in release], load=lambda: [_ep("impostor", f"{__name__}:make_snp_impostor")])
    with pytest.raises(BackendError) as info:
        select_backend("snp", [*release, *plugins])
    assert info.value.code == "backend.unavailable" and "configfs-tsm" in str(info.value)


def test_nil_from_the_debug_distribution(tmp_path: Path) -> None:
    nil_module = pytest.importorskip("enarx_debug.nil", reason="the enarx-debug distribution is not installed")
    nil = nil_module.NilBackend()
    assert isinstance(nil, Backend)
    assert (nil.name, nil.key_curve, nil.insecure) == ("nil", "P-256", True)
    assert nil.checks() == [Check("no TEE", True, "debug build only (no isolation, no evidence)")]
    assert nil.evidence(bytes(64)) == Evidence(OID_EVIDENCE_KVM, b"")
    with pytest.raises(BackendError):
        nil.evidence(b"short")
    # Last resort on a host without a TEE, as Enarx's nil.
    assert select_backend(None, [*missing_release(tmp_path), nil]) is nil


def test_no_nil_in_the_release_package() -> None:
    src = Path(facade.__file__).parent
    assert not any("nil" in p.name for p in src.rglob("*.py"))
    assert not any(b.insecure for b in release_backends())


# --- cache file formats ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki() -> TestOnlyIntelPki:
    return TestOnlyIntelPki.create(not_before=T0, not_after=T0.replace(year=T0.year + 1))


def test_crl_list_round_trip(pki: TestOnlyIntelPki) -> None:
    entries = (("https://a.invalid/root", pki.crl("root")), ("https://a.invalid/pck", pki.crl("pck_ca")))
    der = encode_crl_list(entries)
    assert decode_crl_list(der) == entries
    assert encode_crl_list(decode_crl_list(der)) == der
    assert decode_crl_list(encode_crl_list([])) == ()


def test_tcb_package_round_trip(pki: TestOnlyIntelPki) -> None:
    tcb_info = pki.tcb_info("sgx")
    der = encode_tcb_package(pki.tcb_signing_chain, tcb_info)
    chain, info = decode_tcb_package(der)
    assert chain == pki.tcb_signing_chain and info == tcb_info
    assert encode_tcb_package(chain, info) == der


@pytest.mark.parametrize("data", [b"", b"\x30\x00\x00", b"\x04\x01\x00", b"\x30\x03\x30\x01\x00", bytes(2 << 20)])
def test_malformed_cache_files(data: bytes) -> None:
    with pytest.raises(BackendError) as info:
        decode_crl_list(data)
    assert info.value.code == "cache.malformed" and info.value.hint is not None
    with pytest.raises(BackendError) as info:
        decode_tcb_package(data)
    assert info.value.code == "cache.malformed"


def test_a_certificate_where_a_crl_belongs(pki: TestOnlyIntelPki) -> None:
    from enarx.attestation import der

    entry = der.encode_sequence([b"\x0c\x01u", pki.root.public_bytes(Encoding.DER)])  # url "u", a certificate
    with pytest.raises(BackendError) as info:
        decode_crl_list(der.encode_sequence([der.encode_sequence([entry])]), "x/crls.der")
    assert info.value.code == "cache.malformed" and "crls[0] (u)" in info.value.reason


def test_host_cache_picks_up_amd_keys_and_skips_junk(tmp_path: Path) -> None:
    signer = TestOnlyAmdSignerBuilder().build()
    amd = tmp_path / "amd-sev"
    amd.mkdir()
    (amd / "a.der").write_bytes(signer.vcek.public_bytes(Encoding.DER))
    (amd / "b.pem").write_bytes(signer.ask.public_bytes(Encoding.PEM))
    (amd / "junk.der").write_bytes(b"not a certificate")
    (amd / "crls.der").write_bytes(encode_crl_list([("u", signer.crl())]))
    cache = HostCache(tmp_path)
    keys = cache.amd_keys()
    assert set(keys) == {signer.vcek, signer.ask}
    assert all(isinstance(k, x509.Certificate) for k in keys)
    assert [url for url, _ in cache.amd_crls()] == ["u"]
    assert HostCache(tmp_path / "none").amd_keys() == ()


def test_facade_exports_exactly_its_public_names() -> None:
    public = {n for n, v in vars(facade).items() if not n.startswith("_") and not isinstance(v, type(facade))}
    assert set(facade.__all__) == public
    assert len(facade.__all__) == len(set(facade.__all__))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_cache_decoders_raise_only_backend_errors(data: bytes) -> None:
    for decode in (decode_crl_list, decode_tcb_package):
        try:
            decode(data)
        except BackendError as exc:
            assert exc.code == "cache.malformed"


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=1300), st.binary(min_size=1184, max_size=1184)), st.binary(max_size=200))
def test_snp_evidence_builder_raises_only_backend_errors(outblob: bytes, auxblob: bytes) -> None:
    # report_data (offset 0x50) taken from the blob itself, so parsing goes past the binding check.
    try:
        build_snp_evidence(outblob, auxblob, outblob[0x50:0x90].ljust(64, b"\0"))
    except BackendError as exc:
        assert exc.code in ("snp.outblob", "tsm.report_data", "snp.unsigned", "snp.vcek.missing")


def test_nil_csr_verifies_only_where_nil_is_allowed() -> None:
    nil_module = pytest.importorskip("enarx_debug.nil", reason="the enarx-debug distribution is not installed")
    from cryptography.hazmat.primitives.asymmetric import ec

    from enarx.attestation.csr import verify_enarx_csr
    from enarx.attestation.errors import PolicyViolation
    from enarx.attestation.options import VerifyOptions
    from enarx.attestation.policy import AttestationPolicy
    from tests.keep.backend_cases import NOW, dcap_report_data, make_csr

    key = ec.generate_private_key(ec.SECP256R1())
    csr = make_csr(key, nil_module.NilBackend().evidence(dcap_report_data(key)))
    assert verify_enarx_csr(csr, options=VerifyOptions(now=NOW), policy=AttestationPolicy(allow_nil=True)).verdict.tee == "nil"
    with pytest.raises(PolicyViolation):
        verify_enarx_csr(csr, options=VerifyOptions(now=NOW), policy=AttestationPolicy())


def test_report_data_for_is_enarx_binding(tmp_path: Path) -> None:
    import hashlib

    from enarx.keep.backends import report_data_for

    snp, tdx, sgx = missing_release(tmp_path)
    spki = b"0\x59 any SubjectPublicKeyInfo DER"
    assert report_data_for(snp, spki) == hashlib.sha384(spki).digest() + bytes(16)
    assert report_data_for(tdx, spki) == report_data_for(sgx, spki) == hashlib.sha256(spki).digest() + bytes(32)


def test_cache_formats_are_byte_for_byte_enarxs() -> None:
    """A CrlList and a TcbPackage cut out of real Enarx evidence (the same shapes as the cache
    files) decode, and encode back to the very same bytes."""
    from cryptography import x509 as x509_

    from enarx.attestation import der
    from tests.vectors import vector

    def evidence(path: str) -> der.Reader:
        value = x509_.load_der_x509_csr(vector(path)).extensions[0].value.value  # type: ignore[attr-defined]
        return der.Reader(bytes(value)).sequence()

    snp = evidence("enarx-csr/milan.signed.crl.csr")
    crts = snp.sequence()
    crts.any()  # the VCEK
    crl_list = crts.any()
    assert [url for url, _ in decode_crl_list(crl_list)][-1].endswith("/Milan/crl")
    assert encode_crl_list(decode_crl_list(crl_list)) == crl_list

    sgx = evidence("sgx/steward/icelake.signed.tcb.crl.multi.xeon.csr")
    sgx.any()  # the quote
    sgx_crls = sgx.any()
    tcb = sgx.any()
    assert encode_crl_list(decode_crl_list(sgx_crls)) == sgx_crls
    chain, tcb_info = decode_tcb_package(tcb)
    assert b'"tcbInfo"' in tcb_info and len(chain) >= 1
    assert encode_tcb_package(chain, tcb_info) == tcb
