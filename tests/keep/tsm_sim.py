"""TEST ONLY: simulated configfs-tsm and Gramine ``/dev/attestation`` trees.

The backends talk to their pseudo-files through :class:`~enarx.keep.backends.pseudofs.PseudoFs`;
these simulators *are* :class:`OsFs` (real ``mkdir``/``open``/``write``/``rmdir`` on a temp
directory) plus the one thing a plain directory cannot do: what the kernel does behind the
files.

configfs-tsm (Documentation/ABI/testing/configfs-tsm), emulated:

- ``mkdir <root>/<entry>`` creates the attributes: ``provider``, ``generation`` (0),
  ``inblob``, ``outblob``, ``privlevel``, ``privlevel_floor``, and ``auxblob`` for
  ``sev_guest``;
- writing ``inblob`` (at most 64 bytes, else EINVAL) or ``privlevel`` increments
  ``generation``; writing a read-only attribute is EACCES;
- reading ``outblob``/``auxblob`` generates the report for the current ``inblob`` with a test
  signer (the fake AMD chain for SNP, the fake Intel PCK for TDX) and returns it;
- ``rmdir`` removes the entry with its attributes (configfs does this; ``rmdir(2)`` on a plain
  directory would fail).

``after_read`` lets a test act as another process between the backend's reads (a racing
writer).
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from enarx.attestation.dcap.testing import TestOnlyIntelPki, test_only_sgx_body, test_only_td_body
from enarx.attestation.snp.tsm import build_tsm
from enarx.attestation.testing import TestOnlyAmdSigner
from enarx.keep.backends import HostCache, SnpBackend, TdxBackend
from enarx.keep.backends.pseudofs import OsFs

Generator = Callable[[bytes, int | None], tuple[bytes, bytes]]

_WRITABLE = ("inblob", "privlevel")
MAX_INBLOB = 64


class SimulatedTsm(OsFs):
    __test__ = False

    def __init__(self, root: Path, provider: str, generate: Generator) -> None:
        self.root = root
        self.provider = provider
        self.generate = generate
        self.after_read: Callable[[Path], None] | None = None
        self.created: list[Path] = []
        self.removed: list[Path] = []
        self.reports = 0  # how many times the "TEE" was asked
        root.mkdir(parents=True, exist_ok=True)

    def mkdir(self, path: Path) -> None:
        super().mkdir(path)
        self.created.append(path)
        files = {
            "provider": f"{self.provider}\n".encode(),
            "generation": b"0\n",
            "inblob": b"",
            "outblob": b"",
            "privlevel": b"0\n",
            "privlevel_floor": b"0\n",
        }
        if self.provider == "sev_guest":
            files["auxblob"] = b""
        for name, data in files.items():
            (path / name).write_bytes(data)

    def rmdir(self, path: Path) -> None:
        for child in path.iterdir():
            child.unlink()
        super().rmdir(path)
        self.removed.append(path)

    def write(self, path: Path, data: bytes) -> None:
        if path.name not in _WRITABLE:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        if path.name == "inblob" and len(data) > MAX_INBLOB:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL), str(path))
        super().write(path, data)
        self.bump(path.parent)

    def bump(self, entry: Path) -> None:
        """Increment ``generation`` (what any write to the entry does)."""
        gen = entry / "generation"
        gen.write_bytes(f"{int(gen.read_bytes()) + 1}\n".encode())

    def read(self, path: Path) -> bytes:
        if path.name in ("outblob", "auxblob"):
            entry = path.parent
            privlevel = int((entry / "privlevel").read_bytes())
            self.reports += 1
            out, aux = self.generate((entry / "inblob").read_bytes(), privlevel)
            (entry / "outblob").write_bytes(out)
            if (entry / "auxblob").exists():
                (entry / "auxblob").write_bytes(aux)
        data = super().read(path)
        if self.after_read is not None:
            self.after_read(path)
        return data


class SimulatedGramine(OsFs):
    """Gramine's ``/dev/attestation``: ``quote`` is generated from ``user_report_data`` on read."""

    __test__ = False

    def __init__(self, dev: Path, pki: TestOnlyIntelPki, *, attestation_type: str = "dcap") -> None:
        self.dev = dev
        self.pki = pki
        dev.mkdir(parents=True, exist_ok=True)
        (dev / "attestation_type").write_bytes(f"{attestation_type}\n".encode())
        (dev / "user_report_data").write_bytes(bytes(64))
        (dev / "quote").write_bytes(b"")

    def write(self, path: Path, data: bytes) -> None:
        if path.name != "user_report_data" or len(data) != 64:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL), str(path))
        super().write(path, data)

    def read(self, path: Path) -> bytes:
        if path.name == "quote":
            report_data = (self.dev / "user_report_data").read_bytes()
            path.write_bytes(self.pki.quote(test_only_sgx_body(report_data=report_data)))
        return super().read(path)


# --- what the "TEE" returns -------------------------------------------------------------------


def _pad(inblob: bytes) -> bytes:
    # The kernel zero-pads a short inblob to the TEE's 64-byte REPORTDATA.
    return inblob + bytes(64 - len(inblob))


def snp_generator(signer: TestOnlyAmdSigner, *, attach_vcek: bool = True, **report_fields: object) -> Generator:
    """SNP reports signed by the fake AMD chain; the auxblob holds the VCEK and ASK like a host's."""

    def generate(inblob: bytes, privlevel: int | None) -> tuple[bytes, bytes]:
        report = signer.signed_report(report_data=_pad(inblob), vmpl=privlevel or 0, **report_fields)
        if not attach_vcek:
            return build_tsm(report)
        return build_tsm(report, vcek=signer.vcek.public_bytes(Encoding.DER), ask=signer.ask.public_bytes(Encoding.DER))

    return generate


def tdx_generator(pki: TestOnlyIntelPki, **body_fields: object) -> Generator:
    """TDX quotes (v4) signed through the fake Intel PCK; TDX has no auxblob."""

    def generate(inblob: bytes, privlevel: int | None) -> tuple[bytes, bytes]:
        del privlevel  # TDX has no privilege levels
        body = test_only_td_body(report_data=_pad(inblob), **body_fields)  # type: ignore[arg-type]
        return pki.quote(body), b""

    return generate


def measurement(label: str) -> bytes:
    return hashlib.sha384(label.encode()).digest()


# --- whole simulated Keeps, for tests that need a working backend ------------------------------


def simulated_snp_backend(base: Path, signer: TestOnlyAmdSigner, **report_fields: object) -> tuple[SnpBackend, SimulatedTsm]:
    """An ``snp`` backend in a simulated SEV-SNP guest with a filled host cache under ``base``.

    Its evidence verifies with ``signer.options(now, collateral=Collateral(certificates=(signer.ask,)))``.
    """
    from tests.keep.backend_cases import write_amd_cache

    sim = SimulatedTsm(base / "tsm" / "report", "sev_guest", snp_generator(signer, **report_fields))  # type: ignore[arg-type]
    write_amd_cache(base / "cache", signer)
    return SnpBackend(tsm_root=sim.root, cache=HostCache(base / "cache"), fs=sim), sim


def simulated_tdx_backend(base: Path, pki: TestOnlyIntelPki, **body_fields: object) -> tuple[TdxBackend, SimulatedTsm]:
    """A ``tdx`` backend in a simulated TD whose cache carries the collateral: its evidence
    verifies with ``VerifyOptions(now, extra_roots=(pki.root,), trust_vendor_roots=False)``."""
    from tests.keep.backend_cases import write_intel_cache

    sim = SimulatedTsm(base / "tsm" / "report", "tdx_guest", tdx_generator(pki, **body_fields))
    write_intel_cache(base / "cache", pki, "tdx")
    return TdxBackend(tsm_root=sim.root, cache=HostCache(base / "cache"), fs=sim), sim
