"""The Linux configfs-tsm form of SNP evidence: ``outblob`` + ``auxblob``.

``/sys/kernel/config/tsm/report/<name>/outblob`` holds the raw ATTESTATION_REPORT;
``auxblob`` holds the certificate table of the GHCB extended guest request (AMD 56421,
"MSG_REPORT_REQ"): 24-byte entries ``{GUID, offset u32 LE, length u32 LE}`` ended by an
all-zero entry, offsets counted from the start of the blob, then the DER certificates. GUIDs
are stored big-endian (RFC 4122 byte order, as go-sev-guest reads them), not Microsoft's
mixed-endian layout.

Parse and build only, no I/O: the Keep reads the files, tests build a simulated tree.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from cryptography import x509

from enarx.attestation.errors import MalformedEvidence
from enarx.attestation.snp.abi import REPORT_SIZE, Report
from enarx.attestation.snp.certs import load_der_certificate

VCEK_GUID: Final = uuid.UUID("63da758d-e664-4564-adc5-f4b93be8accd")
VLEK_GUID: Final = uuid.UUID("a8074bc2-a25a-483e-aae6-39c045a0b8a1")
ASK_GUID: Final = uuid.UUID("4ab7b379-bbac-4fe4-a02f-05aef327c782")  # also the ASVK
ARK_GUID: Final = uuid.UUID("c0b406a4-a803-4952-9743-3fb6014cd0ae")
_NAMES: Final = {VCEK_GUID: "VCEK", VLEK_GUID: "VLEK", ASK_GUID: "ASK", ARK_GUID: "ARK"}

ENTRY_SIZE: Final = 24
#: The kernel's certificate buffer for an extended report is a few pages (SEV_FW_BLOB_MAX_SIZE
#: is 16 KiB); a table four times that is refused rather than walked.
MAX_AUXBLOB_SIZE: Final = 64 * 1024
MAX_ENTRIES: Final = 64
#: The configfs-tsm ``provider`` attribute for SEV-SNP guests.
PROVIDER: Final = "sev_guest"


def _bad(message: str, *, field: str = "auxblob", got: object = None) -> MalformedEvidence:
    return MalformedEvidence("snp.tsm.malformed", f"configfs-tsm {field}: {message}", field=field, got=got)


@dataclass(frozen=True)
class CertTableEntry:
    guid: uuid.UUID
    data: bytes

    @property
    def name(self) -> str:
        return _NAMES.get(self.guid, str(self.guid))


def parse_cert_table(auxblob: bytes) -> tuple[CertTableEntry, ...]:
    """The entries of a GHCB certificate table, each bounds-checked against the blob."""
    blob = bytes(auxblob)
    if len(blob) > MAX_AUXBLOB_SIZE:
        raise _bad(f"{len(blob)} bytes exceeds {MAX_AUXBLOB_SIZE}", got=len(blob))
    entries: list[CertTableEntry] = []
    pos = 0
    while True:
        if pos + ENTRY_SIZE > len(blob):
            raise _bad("certificate table has no terminating all-zero entry", got=len(blob))
        guid_bytes = blob[pos : pos + 16]
        offset, length = struct.unpack_from("<II", blob, pos + 16)
        pos += ENTRY_SIZE
        if not any(blob[pos - ENTRY_SIZE : pos]):
            break
        if len(entries) >= MAX_ENTRIES:
            raise _bad(f"more than {MAX_ENTRIES} entries", got=len(entries))
        guid = uuid.UUID(bytes=guid_bytes)
        if offset + length > len(blob) or length == 0:
            raise _bad(f"entry {guid} spans [{offset}, {offset + length}) outside the {len(blob)}-byte blob", got=offset)
        entries.append(CertTableEntry(guid=guid, data=blob[offset : offset + length]))
    table_end = pos
    for entry_index, entry in enumerate(entries):
        offset = struct.unpack_from("<I", blob, entry_index * ENTRY_SIZE + 16)[0]
        if offset < table_end:
            raise _bad(f"entry {entry.guid} starts at {offset}, inside the table (ends at {table_end})", got=offset)
    guids = [e.guid for e in entries]
    if len(set(guids)) != len(guids):
        raise _bad("a GUID appears twice")
    return tuple(entries)


def build_cert_table(entries: Sequence[tuple[uuid.UUID, bytes]]) -> bytes:
    """The inverse of :func:`parse_cert_table`: table, terminator, then the blobs in order."""
    table_size = ENTRY_SIZE * (len(entries) + 1)
    header = bytearray()
    body = bytearray()
    for guid, data in entries:
        header += guid.bytes + struct.pack("<II", table_size + len(body), len(data))
        body += data
    header += bytes(ENTRY_SIZE)
    return bytes(header + body)


@dataclass(frozen=True)
class TsmEvidence:
    """A report and the certificates the host attached to it."""

    report: Report
    raw_report: bytes
    entries: tuple[CertTableEntry, ...]

    @property
    def certificates(self) -> tuple[x509.Certificate, ...]:
        """The VCEK/VLEK, ASK and ARK as parsed certificates (unknown GUIDs skipped)."""
        return tuple(load_der_certificate(e.data, what=e.name) for e in self.entries if e.guid in _NAMES)


def parse_tsm(outblob: bytes, auxblob: bytes = b"") -> TsmEvidence:
    """Parse a configfs-tsm report; an empty ``auxblob`` means the host attached no certificates."""
    raw = bytes(outblob)
    if len(raw) != REPORT_SIZE:
        raise MalformedEvidence(
            "snp.report.size", f"configfs-tsm outblob is {len(raw)} bytes, expected a {REPORT_SIZE}-byte SNP report",
            field="outblob", expected=REPORT_SIZE, got=len(raw),
        )
    report = Report.from_bytes(raw)
    entries = parse_cert_table(auxblob) if auxblob else ()
    evidence = TsmEvidence(report=report, raw_report=raw, entries=entries)
    evidence.certificates  # noqa: B018 - parse every known certificate now, so garbage fails here
    return evidence


def build_tsm(report: bytes, *, vcek: bytes | None = None, vlek: bytes | None = None, ask: bytes | None = None, ark: bytes | None = None) -> tuple[bytes, bytes]:
    """``(outblob, auxblob)`` as the kernel would return them, for a simulated configfs-tsm tree."""
    entries = [(g, d) for g, d in ((VCEK_GUID, vcek), (VLEK_GUID, vlek), (ASK_GUID, ask), (ARK_GUID, ark)) if d]
    return bytes(report), build_cert_table(entries) if entries else b""
