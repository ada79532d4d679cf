"""A strict DER reader (and SEQUENCE writer) for the few fixed structures read or written on
every request: Enarx's SNP evidence, and the Steward's SEQUENCE OF wire formats.

pyasn1 decodes Enarx's SNP evidence correctly but spends half a millisecond building objects
for it, a tenth of a Steward's whole SNP issuance (benchmarks/steward_http.py). The evidence is
three nested SEQUENCEs of known shape, so it is read here by hand, with DER's rules enforced:
definite lengths in minimal form, low tag numbers only, every constructed value consumed to
the byte. Anything else raises :class:`DerError` (a ``ValueError``).
"""

from __future__ import annotations

from collections.abc import Iterable

SEQUENCE = 0x30
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
UTF8_STRING = 0x0C

_MAX_LENGTH_OCTETS = 4  # nothing here is 4 GiB long


class DerError(ValueError):
    pass


class Reader:
    """Reads consecutive TLVs of ``data[start:end]``."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = start
        self.end = len(data) if end is None else end

    def at_end(self) -> bool:
        return self.pos >= self.end

    def _header(self) -> tuple[int, int, int]:
        """``(tag, content start, content end)`` of the TLV at the cursor."""
        data, pos, end = self.data, self.pos, self.end
        if pos + 2 > end:
            raise DerError(f"truncated at byte {pos}")
        tag, first = data[pos], data[pos + 1]
        if tag & 0x1F == 0x1F:
            raise DerError(f"high tag number form at byte {pos}")
        pos += 2
        if first < 0x80:
            length = first
        elif first == 0x80:
            raise DerError(f"indefinite length at byte {pos - 2} (BER, not DER)")
        else:
            count = first & 0x7F
            if count > _MAX_LENGTH_OCTETS or pos + count > end:
                raise DerError(f"bad length at byte {pos - 2}")
            length = int.from_bytes(data[pos : pos + count], "big")
            if data[pos] == 0 or length < 0x80:
                raise DerError(f"length not in minimal form at byte {pos - 2}")
            pos += count
        if pos + length > end:
            raise DerError(f"value at byte {self.pos} runs past its enclosing value")
        return tag, pos, pos + length

    def peek_tag(self) -> int | None:
        """The tag of the next TLV, or ``None`` at the end (to read OPTIONAL fields)."""
        return None if self.at_end() else self.data[self.pos]

    def integer(self) -> int:
        """The next TLV as a DER INTEGER (two's complement, in minimal form)."""
        content = self.primitive(INTEGER)
        if not content:
            raise DerError(f"empty INTEGER before byte {self.pos}")
        if len(content) > 1 and ((content[0] == 0 and content[1] < 0x80) or (content[0] == 0xFF and content[1] >= 0x80)):
            raise DerError(f"INTEGER not in minimal form before byte {self.pos}")
        return int.from_bytes(content, "big", signed=True)

    def any(self) -> bytes:
        """The whole next TLV (header included), whatever its tag: an ASN.1 ``ANY``."""
        _, _, stop = self._header()
        value = self.data[self.pos : stop]
        self.pos = stop
        return value

    def primitive(self, tag: int) -> bytes:
        """The content of the next TLV, which must have ``tag``."""
        found, start, stop = self._header()
        if found != tag:
            raise DerError(f"expected tag {tag:#04x} at byte {self.pos}, found {found:#04x}")
        self.pos = stop
        return self.data[start:stop]

    def elements(self) -> list[bytes]:
        """Every remaining TLV, whole: the elements of a SEQUENCE OF ``ANY``."""
        out = []
        while not self.at_end():
            out.append(self.any())
        return out

    def sequence(self) -> Reader:
        """A reader over the next TLV's content, which must be a SEQUENCE."""
        found, start, stop = self._header()
        if found != SEQUENCE:
            raise DerError(f"expected a SEQUENCE at byte {self.pos}, found tag {found:#04x}")
        self.pos = stop
        return Reader(self.data, start, stop)

    def done(self) -> None:
        """Nothing may follow the values read."""
        if self.pos != self.end:
            raise DerError(f"{self.end - self.pos} unexpected bytes at byte {self.pos}")


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes((length,))
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(octets),)) + octets


def encode_primitive(tag: int, content: bytes) -> bytes:
    """One TLV: an OCTET STRING, a UTF8String, an implicitly tagged field..."""
    return bytes((tag,)) + encode_length(len(content)) + content


def encode_integer(value: int) -> bytes:
    """A DER INTEGER, in minimal two's complement form."""
    magnitude = ~value if value < 0 else value  # the bits a two's complement form must hold
    return encode_primitive(INTEGER, value.to_bytes(magnitude.bit_length() // 8 + 1, "big", signed=True))


def encode_sequence(elements: Iterable[bytes]) -> bytes:
    """A SEQUENCE (or SEQUENCE OF) of already-encoded elements."""
    content = b"".join(elements)
    return bytes((SEQUENCE,)) + encode_length(len(content)) + content


def read_crl_list(reader: Reader) -> list[tuple[str, bytes]]:
    """The next value of ``reader`` as Enarx's ``CrlList``: its ``(url, CRL DER)`` entries.

        CrlList ::= SEQUENCE { crls SEQUENCE OF SEQUENCE { url UTF8String, crl ANY } }

    (in SNP and SGX evidence, and in the host cache's ``crls.der``). Raises :class:`DerError`,
    or ``UnicodeError`` for a URL that is not UTF-8.
    """
    crl_list = reader.sequence()
    entries = crl_list.sequence()
    crl_list.done()
    out = []
    while not entries.at_end():
        entry = entries.sequence()
        out.append((entry.primitive(UTF8_STRING).decode("utf-8"), entry.any()))
        entry.done()
    return out


def read_tcb_package(reader: Reader) -> tuple[list[bytes], bytes]:
    """The next value of ``reader`` as Enarx's ``TcbPackage``: the certificates' DER and the
    TCB info JSON. ``TcbPackage ::= SEQUENCE { crts SEQUENCE OF Certificate, report OCTET STRING }``
    (in SGX evidence, and in the host cache's ``tcb.der``)."""
    package = reader.sequence()
    certificates = package.sequence().elements()
    report = package.primitive(OCTET_STRING)
    package.done()
    return certificates, report


def encode_crl_list(entries: Iterable[tuple[str, bytes]]) -> bytes:
    """Enarx's ``CrlList`` of ``(url, CRL DER)`` entries (the inverse of :func:`read_crl_list`)."""
    return encode_sequence([
        encode_sequence(encode_sequence([encode_primitive(UTF8_STRING, url.encode("utf-8")), crl]) for url, crl in entries)
    ])


def encode_tcb_package(certificates: Iterable[bytes], report: bytes) -> bytes:
    """Enarx's ``TcbPackage`` (the inverse of :func:`read_tcb_package`)."""
    return encode_sequence([encode_sequence(certificates), encode_primitive(OCTET_STRING, report)])
