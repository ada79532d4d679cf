"""Linux configfs-tsm (``/sys/kernel/config/tsm/report``): one report, race-checked.

The kernel's ABI (Documentation/ABI/testing/configfs-tsm) and the procedure here, as
go-configfs-tsm does it:

1. ``mkdir <root>/<entry>``: a private report item; the kernel creates its attributes
   (``inblob``, ``outblob``, ``auxblob``, ``provider``, ``generation``, ``privlevel``...);
2. ``provider`` names the driver (``sev_guest``, ``tdx_guest``): refuse the wrong TEE before
   asking it for anything;
3. read ``generation``, then write ``inblob`` (and ``privlevel``), each write incrementing it;
4. read ``outblob`` (the kernel asks the TEE now) and ``auxblob``, then ``generation`` again:
   if it moved past our own writes, another writer changed the inputs between our write and
   the read, and the blob may be about *their* report data - refused (``tsm.generation``);
5. ``rmdir`` the item, also on failure, so nothing stays behind.

Every ``OSError`` becomes a :class:`BackendError` with a hint; nothing here parses reports.
"""

from __future__ import annotations

import errno
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from enarx._log import get_logger
from enarx.keep.backends.base import BackendError
from enarx.keep.backends.pseudofs import OS_FS, PseudoFs

DEFAULT_TSM_ROOT: Final = Path("/sys/kernel/config/tsm/report")
PROVIDER_SNP: Final = "sev_guest"
PROVIDER_TDX: Final = "tdx_guest"

#: ``generation`` and ``provider`` are short decimal/ASCII values; anything longer is not
#: configfs-tsm.
_MAX_TEXT: Final = 64

_log = get_logger(__name__)

HINT_MISSING: Final = (
    "configfs-tsm needs Linux 6.7 or later with CONFIG_TSM_REPORTS, run inside an SNP or TDX "
    "guest, and configfs mounted (mount -t configfs none /sys/kernel/config)"
)
HINT_PERMISSION: Final = "creating report entries needs root (or write access to the report directory)"


@dataclass(frozen=True)
class TsmReport:
    """What the kernel returned for one ``inblob``."""

    provider: str
    outblob: bytes
    auxblob: bytes
    generation: int


def _entry_name() -> str:
    return f"enarx-{secrets.token_hex(8)}"


class TsmClient:
    """Reports from one configfs-tsm root through a :class:`PseudoFs`."""

    def __init__(self, root: Path = DEFAULT_TSM_ROOT, *, fs: PseudoFs = OS_FS, entry_name: Callable[[], str] = _entry_name) -> None:
        self.root = Path(root)
        self.fs = fs
        self._entry_name = entry_name

    def probe_provider(self) -> str:
        """The provider of this root: creates and removes an empty entry, asks the TEE nothing."""
        entry = self._mkdir()
        try:
            return self._text(entry / "provider")
        finally:
            self._rmdir(entry)

    def report(self, inblob: bytes, *, provider: str, privlevel: int | None = None, auxblob: bool = True) -> TsmReport:
        """Steps 1-5 of the module procedure for ``inblob``, from a ``provider`` root."""
        entry = self._mkdir()
        try:
            # 2. The right TEE.
            got = self._text(entry / "provider")
            if got != provider:
                raise BackendError(
                    f"configfs-tsm at {self.root} is provided by {got!r}, expected {provider!r}",
                    code="tsm.provider",
                    hint=f"this guest is not the TEE asked for; pick the backend for {got!r} (`enarx platform info`)",
                )
            # 3. Our writes, counted.
            expected = self._generation(entry)
            self._write(entry / "inblob", inblob)
            expected += 1
            if privlevel is not None:
                self._write(entry / "privlevel", f"{privlevel}\n".encode())
                expected += 1
            # 4. Read, then check nobody wrote in between.
            out = self._read(entry / "outblob")
            self._check_generation(entry, expected)
            aux = b""
            if auxblob and self.fs.exists(entry / "auxblob"):
                aux = self._read(entry / "auxblob")
                self._check_generation(entry, expected)
            if not out:
                raise BackendError(
                    f"configfs-tsm {entry}/outblob is empty", code="tsm.outblob",
                    hint="the TEE driver returned no report; check the guest kernel log (dmesg)",
                )  # fmt: skip
            return TsmReport(provider=got, outblob=out, auxblob=aux, generation=expected)
        finally:
            # 5. Always remove the entry.
            self._rmdir(entry)

    # --- steps ------------------------------------------------------------------------------

    def _mkdir(self) -> Path:
        if not self.fs.is_dir(self.root):
            raise BackendError(f"configfs-tsm report directory {self.root} does not exist", code="tsm.missing", hint=HINT_MISSING)
        entry = self.root / self._entry_name()
        try:
            self.fs.mkdir(entry)
        except PermissionError as exc:
            raise BackendError(f"cannot create {entry}: {exc.strerror}", code="tsm.permission", hint=HINT_PERMISSION) from None
        except OSError as exc:
            raise _io_error(f"cannot create {entry}", exc) from None
        return entry

    def _rmdir(self, entry: Path) -> None:
        try:
            self.fs.rmdir(entry)
        except OSError as exc:  # the report is already in hand (or already failed): say so, go on
            _log.warning("could not remove configfs-tsm entry %s: %s", entry, exc)

    def _read(self, path: Path) -> bytes:
        try:
            return self.fs.read(path)
        except OSError as exc:
            raise _io_error(f"cannot read {path}", exc) from None

    def _write(self, path: Path, data: bytes) -> None:
        try:
            self.fs.write(path, data)
        except OSError as exc:
            raise _io_error(f"cannot write {path}", exc) from None

    def _text(self, path: Path) -> str:
        raw = self._read(path)
        if len(raw) > _MAX_TEXT:
            raise BackendError(f"{path} holds {len(raw)} bytes, not a configfs-tsm value", code="tsm.io", hint=HINT_MISSING)
        return raw.decode("ascii", errors="replace").strip()

    def _generation(self, entry: Path) -> int:
        text = self._text(entry / "generation")
        try:
            return int(text)
        except ValueError:
            raise BackendError(f"{entry}/generation is {text!r}, not a number", code="tsm.io", hint=HINT_MISSING) from None

    def _check_generation(self, entry: Path, expected: int) -> None:
        got = self._generation(entry)
        if got != expected:
            raise BackendError(
                f"configfs-tsm entry {entry} changed while being read (generation {got}, expected {expected}): "
                "another process wrote to it, so the report may not carry our report_data",
                code="tsm.generation",
                hint="retry; make sure no other process writes to this Keep's report entries",
            )


def _io_error(what: str, exc: OSError) -> BackendError:
    reason = exc.strerror or str(exc)
    if isinstance(exc, PermissionError):
        return BackendError(f"{what}: {reason}", code="tsm.permission", hint=HINT_PERMISSION)
    if exc.errno in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        hint = "the TEE driver refused the request; check privlevel and the guest kernel log (dmesg)"
        return BackendError(f"{what}: {reason}", code="tsm.refused", hint=hint)
    return BackendError(f"{what}: {reason}", code="tsm.io", hint=HINT_MISSING)
