"""TLS helpers for the benchmarks: a TLS echo Keep's config, a baseline server, a client."""

from __future__ import annotations

import datetime
import ssl
import textwrap
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from benchmarks._common import EXAMPLES

MESSAGE = 64 * 1024

ASYNCIO_TLS_SERVER = textwrap.dedent(
    """
    import asyncio, ssl, sys
    async def echo(reader, writer):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()
    async def main():
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        context.load_cert_chain(sys.argv[2])
        server = await asyncio.start_server(echo, "127.0.0.1", int(sys.argv[1]), ssl=context)
        async with server:
            await server.serve_forever()
    asyncio.run(main())
    """
)


def keep_config(directory: Path, port: int) -> Path:
    """The C echo server behind a TLS listener, named ``echo``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "main.wasm").write_bytes((EXAMPLES / "echo-tcp" / "main.wasm").read_bytes())
    config = directory / "Enarx.toml"
    config.write_text(
        'app = "echo"\n[[files]]\nkind = "null"\n[[files]]\nkind = "null"\n[[files]]\nkind = "null"\n'
        f'[[files]]\nkind = "listen"\nname = "ingest"\nprot = "tls"\naddr = "127.0.0.1"\nport = {port}\n'
    )
    return config


def self_signed(directory: Path, name: str = "baseline.test") -> Path:
    """A P-256 certificate and key in one PEM file, for the baseline server."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    path = directory / "baseline.pem"
    path.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


def client_context(cafile: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cafile))
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    return context
