"""Intel PCS collateral: TCB info (v2/v3, SGX and TDX) and QE identity (v2), signed bytes and all.

Intel signs the *exact bytes* of the ``tcbInfo`` / ``enclaveIdentity`` value as served, so
this module finds that value's byte span in the document and both verifies and parses those
bytes; it never re-serialises JSON (Steward sliced fixed offsets ``[11:-144]``, which breaks on
any other whitespace or key order). Duplicate keys are refused anywhere, so the parsed meaning
cannot differ from the signed bytes' meaning under another JSON reader.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Generic, TypeVar

from cryptography import x509

from enarx.attestation.dcap.sig import p256_key, verify_raw_signature
from enarx.attestation.dcap.validate import TCB_STATUSES
from enarx.attestation.errors import MalformedEvidence, VerificationFailed

#: Collateral documents are a few KB; refuse anything absurd before decoding it.
MAX_COLLATERAL_SIZE: Final = 256 * 1024
_SGX_COMPONENTS: Final = 16
_TDX_COMPONENTS: Final = 16


@dataclass(frozen=True)
class TcbComponent:
    svn: int
    category: str | None = None
    type: str | None = None


@dataclass(frozen=True)
class TcbLevel:
    """One platform TCB level: SGX components, PCESVN and (TDX) TEE TCB components."""

    sgx_components: tuple[TcbComponent, ...]
    pce_svn: int
    tdx_components: tuple[TcbComponent, ...] | None
    tcb_date: datetime
    tcb_status: str
    advisory_ids: tuple[str, ...]


@dataclass(frozen=True)
class IsvTcbLevel:
    """A TCB level keyed by one ISVSVN (QE identity levels, TDX module identity levels)."""

    isv_svn: int
    tcb_date: datetime
    tcb_status: str
    advisory_ids: tuple[str, ...]


@dataclass(frozen=True)
class TdxModuleIdentity:
    """``tdxModule`` (id empty) or one of ``tdxModuleIdentities`` (``TDX_01``, ``TDX_03``...)."""

    id: str
    mrsigner: bytes
    attributes: bytes
    attributes_mask: bytes
    tcb_levels: tuple[IsvTcbLevel, ...] = ()


@dataclass(frozen=True)
class TcbInfo:
    id: str  # "SGX" or "TDX"; v2 documents have no id and are SGX
    version: int
    issue_date: datetime
    next_update: datetime
    fmspc: bytes
    pce_id: bytes
    tcb_type: int
    tcb_evaluation_data_number: int
    tcb_levels: tuple[TcbLevel, ...]
    tdx_module: TdxModuleIdentity | None = None
    tdx_module_identities: tuple[TdxModuleIdentity, ...] = ()


@dataclass(frozen=True)
class QeIdentity:
    id: str  # "QE", "TD_QE", "QVE"
    version: int
    issue_date: datetime
    next_update: datetime
    tcb_evaluation_data_number: int
    miscselect: int
    miscselect_mask: int
    attributes: bytes
    attributes_mask: bytes
    mrsigner: bytes
    isv_prod_id: int
    tcb_levels: tuple[IsvTcbLevel, ...]


_T = TypeVar("_T")


@dataclass(frozen=True)
class Signed(Generic[_T]):
    """A collateral document: its parsed value, the exact signed bytes and the r||s signature."""

    value: _T
    body: bytes
    signature: bytes


# --- locating the signed bytes ------------------------------------------------------------


def _malformed(what: str, field: str, expected: object, got: object) -> MalformedEvidence:
    return MalformedEvidence(
        f"dcap.{what}.malformed", f"{field} is {got!r}, expected {expected}", field=field, expected=expected, got=got
    )


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constants(name: str) -> object:
    raise ValueError(f"non-standard JSON constant {name}")


_DECODER: Final = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
_WS: Final = " \t\n\r"


def _split_document(raw: bytes, key: str, what: str) -> tuple[bytes, bytes]:
    """Return (exact bytes of the ``key`` value, signature bytes) of ``{key: {...}, "signature": hex}``."""
    if len(raw) > MAX_COLLATERAL_SIZE:
        raise _malformed(what, what, f"at most {MAX_COLLATERAL_SIZE} bytes", f"{len(raw)} bytes")
    try:
        text = raw.decode("utf-8")
        spans = _top_level_spans(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _malformed(what, what, "a JSON object", f"undecodable ({exc})") from None
    for name in (key, "signature"):
        if name not in spans:
            raise _malformed(what, f"{what}.{name}", "present", "missing")
    start, end = spans[key]
    # UTF-8 decoding is exact, so re-encoding a slice of the text gives the served bytes.
    body = text[start:end].encode("utf-8")
    sig_hex = json.loads(text[slice(*spans["signature"])])
    if not isinstance(sig_hex, str):
        raise _malformed(what, f"{what}.signature", "a hex string", sig_hex)
    try:
        signature = bytes.fromhex(sig_hex)
    except ValueError:
        raise _malformed(what, f"{what}.signature", "a hex string", sig_hex) from None
    if len(signature) != 64:
        raise _malformed(what, f"{what}.signature", "64 bytes (P-256 r||s)", f"{len(signature)} bytes")
    return body, signature


def _top_level_spans(text: str) -> dict[str, tuple[int, int]]:
    """Character spans of each top-level member's value; duplicates are refused."""

    def skip(i: int) -> int:
        while i < len(text) and text[i] in _WS:
            i += 1
        return i

    i = skip(0)
    if i >= len(text) or text[i] != "{":
        raise ValueError("not a JSON object")
    spans: dict[str, tuple[int, int]] = {}
    i = skip(i + 1)
    if i < len(text) and text[i] == "}":
        i += 1
    else:
        while True:
            key, i = _DECODER.raw_decode(text, i)
            if not isinstance(key, str):
                raise ValueError("object key is not a string")
            i = skip(i)
            if i >= len(text) or text[i] != ":":
                raise ValueError("expected ':'")
            start = skip(i + 1)
            _, end = _DECODER.raw_decode(text, start)
            if key in spans:
                raise ValueError(f"duplicate key {key!r}")
            spans[key] = (start, end)
            i = skip(end)
            if i < len(text) and text[i] == ",":
                i = skip(i + 1)
                continue
            if i < len(text) and text[i] == "}":
                i += 1
                break
            raise ValueError("expected ',' or '}'")
    if skip(i) != len(text):
        raise ValueError("data after the JSON object")
    return spans


# --- typed field access ---------------------------------------------------------------------


class _Obj:
    """A JSON object with typed getters whose errors name the JSON path."""

    def __init__(self, data: object, path: str, what: str) -> None:
        if not isinstance(data, dict):
            raise _malformed(what, path, "an object", data)
        self.data: dict[str, object] = data
        self.path = path
        self.what = what

    def _get(self, key: str) -> object:
        if key not in self.data:
            raise _malformed(self.what, f"{self.path}.{key}", "present", "missing")
        return self.data[key]

    def has(self, key: str) -> bool:
        return key in self.data

    def get_int(self, key: str) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _malformed(self.what, f"{self.path}.{key}", "a non-negative integer", value)
        return value

    def get_str(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str):
            raise _malformed(self.what, f"{self.path}.{key}", "a string", value)
        return value

    def get_hex(self, key: str, size: int) -> bytes:
        value = self.get_str(key)
        try:
            out = bytes.fromhex(value)
        except ValueError:
            raise _malformed(self.what, f"{self.path}.{key}", f"{size} bytes of hex", value) from None
        if len(out) != size:
            raise _malformed(self.what, f"{self.path}.{key}", f"{size} bytes of hex", value)
        return out

    def get_time(self, key: str) -> datetime:
        value = self.get_str(key)
        try:
            out = datetime.fromisoformat(value)
        except ValueError:
            raise _malformed(self.what, f"{self.path}.{key}", "an ISO 8601 UTC time", value) from None
        if out.tzinfo is None:
            raise _malformed(self.what, f"{self.path}.{key}", "an ISO 8601 UTC time", value)
        return out

    def get_status(self, key: str) -> str:
        value = self.get_str(key)
        if value not in TCB_STATUSES:
            raise _malformed(self.what, f"{self.path}.{key}", f"one of {', '.join(TCB_STATUSES)}", value)
        return value

    def get_list(self, key: str) -> list[object]:
        value = self._get(key)
        if not isinstance(value, list):
            raise _malformed(self.what, f"{self.path}.{key}", "a list", value)
        return value

    def get_obj(self, key: str) -> _Obj:
        return _Obj(self._get(key), f"{self.path}.{key}", self.what)

    def get_objs(self, key: str) -> list[_Obj]:
        return [_Obj(v, f"{self.path}.{key}[{i}]", self.what) for i, v in enumerate(self.get_list(key))]

    def advisories(self) -> tuple[str, ...]:
        if not self.has("advisoryIDs"):
            return ()
        out = []
        for i, item in enumerate(self.get_list("advisoryIDs")):
            if not isinstance(item, str):
                raise _malformed(self.what, f"{self.path}.advisoryIDs[{i}]", "a string", item)
            out.append(item)
        return tuple(out)


def _load(body: bytes, key: str, what: str) -> _Obj:
    try:
        value = _DECODER.decode(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _malformed(what, key, "a JSON object", f"undecodable ({exc})") from None
    return _Obj(value, key, what)


# --- TCB info ----------------------------------------------------------------------------


def parse_tcb_info(raw: bytes) -> Signed[TcbInfo]:
    """Parse an Intel PCS TCB info response body (``{"tcbInfo": ..., "signature": ...}``)."""
    body, signature = _split_document(raw, "tcbInfo", "tcb_info")
    o = _load(body, "tcbInfo", "tcb_info")
    version = o.get_int("version")
    if version not in (2, 3):
        raise _malformed("tcb_info", "tcbInfo.version", "2 or 3", version)
    tcb_id = o.get_str("id") if version == 3 else "SGX"
    if tcb_id not in ("SGX", "TDX"):
        raise _malformed("tcb_info", "tcbInfo.id", "SGX or TDX", tcb_id)
    levels = tuple(_tcb_level(level, version, tcb_id) for level in o.get_objs("tcbLevels"))
    if not levels:
        raise _malformed("tcb_info", "tcbInfo.tcbLevels", "at least one level", "[]")
    module = identities = None
    if tcb_id == "TDX":
        module = _module(o.get_obj("tdxModule"), with_levels=False)
        if o.has("tdxModuleIdentities"):
            identities = tuple(_module(m, with_levels=True) for m in o.get_objs("tdxModuleIdentities"))
    info = TcbInfo(
        id=tcb_id,
        version=version,
        issue_date=o.get_time("issueDate"),
        next_update=o.get_time("nextUpdate"),
        fmspc=o.get_hex("fmspc", 6),
        pce_id=o.get_hex("pceId", 2),
        tcb_type=o.get_int("tcbType"),
        tcb_evaluation_data_number=o.get_int("tcbEvaluationDataNumber"),
        tcb_levels=levels,
        tdx_module=module,
        tdx_module_identities=identities or (),
    )
    return Signed(info, body, signature)


def _tcb_level(o: _Obj, version: int, tcb_id: str) -> TcbLevel:
    tcb = o.get_obj("tcb")
    tdx: tuple[TcbComponent, ...] | None = None
    if version == 2:
        sgx = tuple(TcbComponent(tcb.get_int(f"sgxtcbcomp{i:02d}svn")) for i in range(1, 17))
    else:
        sgx = _components(tcb, "sgxtcbcomponents", _SGX_COMPONENTS)
        if tcb_id == "TDX":
            tdx = _components(tcb, "tdxtcbcomponents", _TDX_COMPONENTS)
    return TcbLevel(
        sgx_components=sgx,
        pce_svn=tcb.get_int("pcesvn"),
        tdx_components=tdx,
        tcb_date=o.get_time("tcbDate"),
        tcb_status=o.get_status("tcbStatus"),
        advisory_ids=o.advisories(),
    )


def _components(tcb: _Obj, key: str, count: int) -> tuple[TcbComponent, ...]:
    items = tcb.get_objs(key)
    if len(items) != count:
        raise _malformed("tcb_info", f"{tcb.path}.{key}", f"{count} components", f"{len(items)}")
    out = []
    for item in items:
        category = item.get_str("category") if item.has("category") else None
        kind = item.get_str("type") if item.has("type") else None
        svn = item.get_int("svn")
        if svn > 0xFF:
            raise _malformed("tcb_info", f"{item.path}.svn", "0..255", svn)
        out.append(TcbComponent(svn, category, kind))
    return tuple(out)


def _module(o: _Obj, *, with_levels: bool) -> TdxModuleIdentity:
    return TdxModuleIdentity(
        id=o.get_str("id") if with_levels else "",
        mrsigner=o.get_hex("mrsigner", 48),
        attributes=o.get_hex("attributes", 8),
        attributes_mask=o.get_hex("attributesMask", 8),
        tcb_levels=tuple(_isv_level(level) for level in o.get_objs("tcbLevels")) if with_levels else (),
    )


def _isv_level(o: _Obj) -> IsvTcbLevel:
    return IsvTcbLevel(
        isv_svn=o.get_obj("tcb").get_int("isvsvn"),
        tcb_date=o.get_time("tcbDate"),
        tcb_status=o.get_status("tcbStatus"),
        advisory_ids=o.advisories(),
    )


# --- QE identity -------------------------------------------------------------------------


def parse_qe_identity(raw: bytes) -> Signed[QeIdentity]:
    """Parse an Intel PCS QE identity response body (``{"enclaveIdentity": ..., "signature": ...}``)."""
    body, signature = _split_document(raw, "enclaveIdentity", "qe_identity")
    o = _load(body, "enclaveIdentity", "qe_identity")
    version = o.get_int("version")
    if version != 2:
        raise _malformed("qe_identity", "enclaveIdentity.version", 2, version)
    levels = tuple(_isv_level(level) for level in o.get_objs("tcbLevels"))
    if not levels:
        raise _malformed("qe_identity", "enclaveIdentity.tcbLevels", "at least one level", "[]")
    identity = QeIdentity(
        id=o.get_str("id"),
        version=version,
        issue_date=o.get_time("issueDate"),
        next_update=o.get_time("nextUpdate"),
        tcb_evaluation_data_number=o.get_int("tcbEvaluationDataNumber"),
        miscselect=int.from_bytes(o.get_hex("miscselect", 4), "big"),
        miscselect_mask=int.from_bytes(o.get_hex("miscselectMask", 4), "big"),
        attributes=o.get_hex("attributes", 16),
        attributes_mask=o.get_hex("attributesMask", 16),
        mrsigner=o.get_hex("mrsigner", 32),
        isv_prod_id=o.get_int("isvprodid"),
        tcb_levels=levels,
    )
    return Signed(identity, body, signature)


# --- signatures and time -----------------------------------------------------------------


def check_signed(doc: Signed[TcbInfo] | Signed[QeIdentity], signer: x509.Certificate, what: str) -> None:
    """The collateral signature, by the (already chain-verified) TCB signing certificate."""
    key = p256_key(signer)
    if key is None:
        raise VerificationFailed(
            f"dcap.{what}.signature", f"{what} signing key is not P-256", field=f"{what}.signature"
        )
    if not verify_raw_signature(key, doc.signature, doc.body):
        raise VerificationFailed(
            f"dcap.{what}.signature",
            f"{what} signature does not verify with the TCB signing key over the served bytes",
            field=f"{what}.signature",
        )


def check_current(what: str, issue_date: datetime, next_update: datetime, now: datetime) -> None:
    """``issueDate <= now <= nextUpdate``, else ``dcap.collateral.expired`` / ``.not_yet_valid``."""
    if now < issue_date:
        raise VerificationFailed(
            "dcap.collateral.not_yet_valid",
            f"{what} issueDate {issue_date.isoformat()} is after now {now.isoformat()}",
            field=f"{what}.issueDate",
            expected=f"<= {now.isoformat()}",
            got=issue_date.isoformat(),
        )
    if now > next_update:
        raise VerificationFailed(
            "dcap.collateral.expired",
            f"{what} nextUpdate {next_update.isoformat()} is before now {now.isoformat()}",
            field=f"{what}.nextUpdate",
            expected=f">= {now.isoformat()}",
            got=next_update.isoformat(),
        )
