"""The strict DER reader: what DER allows reads, what only BER allows (or nothing) does not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.der import encoder as pyasn1_encoder
from pyasn1.type import char, univ

from enarx.attestation.der import (
    OCTET_STRING,
    SEQUENCE,
    UTF8_STRING,
    DerError,
    Reader,
    encode_integer,
    encode_length,
    encode_sequence,
)


def test_reads_nested_values_and_any() -> None:
    inner = bytes([0x0C, 2]) + b"hi" + bytes([0x04, 3]) + b"abc"
    data = bytes([SEQUENCE, len(inner)]) + inner
    outer = Reader(data)
    seq = outer.sequence()
    outer.done()
    assert seq.any() == bytes([0x0C, 2]) + b"hi"
    assert seq.primitive(OCTET_STRING) == b"abc"
    assert seq.at_end()
    seq.done()


def test_long_form_lengths() -> None:
    body = b"x" * 300
    data = bytes([OCTET_STRING, 0x82, 0x01, 0x2C]) + body
    assert Reader(data).primitive(OCTET_STRING) == body


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "truncated"),
        (b"\x04", "truncated"),
        (b"\x04\x05abc", "runs past"),
        (b"\x04\x80abc\x00\x00", "indefinite"),  # BER only
        (b"\x04\x81\x03abc", "minimal"),  # a short length in long form
        (b"\x04\x82\x00\x03abc", "minimal"),  # a leading zero octet
        (b"\x04\x85\x01\x00\x00\x00\x00", "bad length"),  # more length octets than we accept
        (b"\x1f\x22\x01\x00", "high tag"),
        (b"\x30\x03\x04\x01a", "expected tag 0x0c"),
    ],
)
def test_what_is_not_der_is_refused(data: bytes, why: str) -> None:
    reader = Reader(data)
    with pytest.raises(DerError, match=why):
        if data.startswith(b"\x30"):
            reader.sequence().primitive(UTF8_STRING)
        else:
            reader.primitive(OCTET_STRING)


def test_leftovers_and_wrong_constructed_tags_are_refused() -> None:
    with pytest.raises(DerError, match="unexpected bytes"):
        reader = Reader(b"\x04\x01a\x00")
        reader.primitive(OCTET_STRING)
        reader.done()
    with pytest.raises(DerError, match="expected a SEQUENCE"):
        Reader(b"\x31\x00").sequence()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=40), st.binary(max_size=400)), max_size=6))
def test_agrees_with_pyasn1_on_what_pyasn1_encodes(items: list[tuple[str, bytes]]) -> None:
    encoded_items = []
    for text, blob in items:
        pair = univ.Sequence()
        pair.setComponentByPosition(0, char.UTF8String(text))
        pair.setComponentByPosition(1, univ.OctetString(blob))
        encoded_items.append(pyasn1_encoder.encode(pair))
    data = bytes([SEQUENCE]) + _length(sum(map(len, encoded_items))) + b"".join(encoded_items)
    outer = Reader(data)
    entries = outer.sequence()
    outer.done()
    got = []
    while not entries.at_end():
        entry = entries.sequence()
        got.append((entry.primitive(UTF8_STRING).decode(), entry.primitive(OCTET_STRING)))
        entry.done()
    assert got == items


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


@pytest.mark.parametrize("size", [0, 1, 127, 128, 255, 256, 65535, 65536])
def test_encode_sequence_reads_back_at_every_length_boundary(size: int) -> None:
    element = bytes([OCTET_STRING]) + _length(size) + b"\x5a" * size
    data = encode_sequence([element, element])
    reader = Reader(data)
    seq = reader.sequence()
    reader.done()
    assert seq.any() == element and seq.primitive(OCTET_STRING) == b"\x5a" * size
    seq.done()
    assert encode_length(size) == _length(size)


@pytest.mark.parametrize(("content", "value"), [(b"\x00", 0), (b"\x01", 1), (b"\x7f", 127), (b"\x00\x80", 128), (b"\xff", -1), (b"\x80", -128)])
def test_integers_in_minimal_form(content: bytes, value: int) -> None:
    reader = Reader(bytes([0x02, len(content)]) + content)
    assert reader.peek_tag() == 0x02 and reader.integer() == value and reader.peek_tag() is None
    assert encode_integer(value) == bytes([0x02, len(content)]) + content


@pytest.mark.parametrize("content", [b"", b"\x00\x01", b"\xff\xff"])
def test_integers_not_in_minimal_form_are_refused(content: bytes) -> None:
    with pytest.raises(DerError):
        Reader(bytes([0x02, len(content)]) + content).integer()
