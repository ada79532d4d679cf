"""The host's vendor cache as a Keep sees it: collateral that travels with the evidence.

Layout (Rust Enarx's for AMD and SGX, so one cache serves both; ``intel-tdx`` is ours)::

    <root>/amd-sev/crls.der            CrlList: AMD ARK/ASK CRLs
    <root>/amd-sev/<any>.der|.pem      VCEK/VLEK certificates (used when the auxblob has none)
    <root>/intel-sgx/crls.der          CrlList: Intel root CA and PCK CA CRLs
    <root>/intel-sgx/tcb.der           TcbPackage: TCB signing chain + SGX TCB info JSON
    <root>/intel-tdx/crls.der          the same for TDX (optional)
    <root>/intel-tdx/tcb.der           TcbPackage with the TDX TCB info (optional)
    <root>/intel-tdx/qe-identity.json  TD QE identity as served by Intel PCS (optional)

``enarx platform update`` fills it on the host; a confidential VM or enclave reads it from a
shared, read-only mount (nothing in it is trusted: the verifier checks every signature).
The root is ``/var/cache`` or ``$ENARX_CACHE_ROOT``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509

from enarx.keep.backends.base import BackendError, Check
from enarx.keep.backends.cachefmt import (
    HINT_UPDATE,
    MAX_CACHE_FILE,
    CrlEntries,
    decode_crl_list,
    decode_tcb_package,
)

DEFAULT_CACHE_ROOT: Final = Path("/var/cache")
#: At most this many files of ``amd-sev/`` are looked at for an endorsement key.
MAX_KEY_FILES: Final = 256


@dataclass(frozen=True)
class IntelCollateral:
    crls: CrlEntries = ()
    tcb_signing_chain: tuple[x509.Certificate, ...] = ()
    tcb_info: bytes | None = None
    qe_identity: bytes | None = None

    @property
    def empty(self) -> bool:
        return not self.crls and self.tcb_info is None and self.qe_identity is None


@dataclass(frozen=True)
class HostCache:
    root: Path = DEFAULT_CACHE_ROOT

    @property
    def amd(self) -> Path:
        return self.root / "amd-sev"

    def intel(self, tee: str) -> Path:
        return self.root / ("intel-tdx" if tee == "tdx" else "intel-sgx")

    # --- AMD

    def amd_crls(self) -> CrlEntries:
        return decode_crl_list(self._read(self.amd / "crls.der"), str(self.amd / "crls.der"))

    def amd_keys(self) -> tuple[x509.Certificate, ...]:
        """Every certificate in ``amd-sev/``; the SNP backend picks the one for its report."""
        try:
            files = sorted(p for p in self.amd.iterdir() if p.suffix in (".der", ".pem", ".crt") and p.name != "crls.der")
        except OSError:
            return ()
        out: list[x509.Certificate] = []
        for path in files[:MAX_KEY_FILES]:
            try:
                data = path.read_bytes() if path.stat().st_size <= MAX_CACHE_FILE else b""
                cert = x509.load_pem_x509_certificate(data) if data.lstrip().startswith(b"-----") else x509.load_der_x509_certificate(data)
                cert.subject  # noqa: B018 - parse now; a broken file is skipped, not fatal
            except (OSError, ValueError, TypeError, x509.InvalidVersion):
                continue
            out.append(cert)
        return tuple(out)

    # --- Intel

    def intel_collateral(self, tee: str, *, required: bool) -> IntelCollateral:
        """``crls.der`` + ``tcb.der`` (+ the QE identity): all required for SGX (Enarx's evidence
        carries them), each optional for TDX (the verifier may hold its own)."""
        base = self.intel(tee)
        crls: CrlEntries = ()
        chain: tuple[x509.Certificate, ...] = ()
        tcb_info: bytes | None = None
        qe_identity: bytes | None = None
        if required or _is_file(base / "crls.der"):
            crls = decode_crl_list(self._read(base / "crls.der"), str(base / "crls.der"))
        if required or _is_file(base / "tcb.der"):
            chain, tcb_info = decode_tcb_package(self._read(base / "tcb.der"), str(base / "tcb.der"))
        if _is_file(base / "qe-identity.json"):
            qe_identity = self._read(base / "qe-identity.json")
        return IntelCollateral(crls=crls, tcb_signing_chain=chain, tcb_info=tcb_info, qe_identity=qe_identity)

    # --- checks for `platform info`

    def file_check(self, name: str, path: Path, *, required: bool = True) -> Check:
        if _is_file(path):
            return Check(name, True, str(path))
        if not required:
            return Check(name, True, f"{path} not cached: the verifier must supply it")
        return Check(name, False, f"{path} is missing", hint=f"{HINT_UPDATE} (mounted at {self.root})")

    def _read(self, path: Path) -> bytes:
        try:
            size = path.stat().st_size
            if size > MAX_CACHE_FILE:
                raise BackendError(f"cache file {path} is {size} bytes, more than {MAX_CACHE_FILE}", code="cache.malformed", hint=HINT_UPDATE)
            return path.read_bytes()
        except FileNotFoundError:
            raise BackendError(f"cache file {path} is missing", code="cache.missing", hint=f"{HINT_UPDATE} (mounted at {self.root})") from None
        except OSError as exc:
            raise BackendError(f"cannot read cache file {path}: {exc.strerror or exc}", code="cache.io", hint=HINT_UPDATE) from None


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # e.g. EACCES on a parent: not usable, so not there
        return False
