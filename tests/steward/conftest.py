"""Fixtures: CAs made once per session, Stewards assembled per test, in-process clients."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from enarx.steward.ca import init_ca
from enarx.steward.service import Steward, build_steward
from enarx.steward.settings import load_config
from tests.conftest import postgres_dsn as postgres_dsn  # re-exported for the steward tests

# Fixed instants: the Steward CSR vectors' all-valid window is 2023-01-26T11:33:44Z ..
# 2023-02-17T18:46:52Z (MANIFEST.md); NOW is inside it. CA_EPOCH makes CAs valid then.
VECTOR_NOW = datetime(2023, 2, 1, tzinfo=UTC)
CA_EPOCH = datetime(2023, 1, 1, tzinfo=UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def ca_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A test CA and a production CA, each valid from 2023 to 2033."""
    base = tmp_path_factory.mktemp("cas")
    init_ca(base / "test", now=CA_EPOCH, test=True)
    init_ca(base / "prod", now=CA_EPOCH, test=False, curve="p384")
    return {"test": base / "test", "production": base / "prod"}


StewardFactory = Callable[..., Steward]


@pytest.fixture
def make_steward(tmp_path: Path, ca_dirs: dict[str, Path]) -> Iterator[StewardFactory]:
    """Build a Steward from TOML text; ``mode`` picks the matching CA; ``database`` may be a DSN."""
    made: list[Steward] = []

    def factory(toml: str = "", *, mode: str = "test", database: str | None = None, server: str = "") -> Steward:
        ca = tmp_path / f"ca-{len(made)}"
        shutil.copytree(ca_dirs[mode], ca)
        head = f'mode = "{mode}"\n' + ('trust_domain = "steward.example"\n' if mode == "production" else "")
        db = database or str(tmp_path / f"log-{len(made)}.db")
        text = (
            head + toml + f'\n[server]\nca_dir = "{ca}"\ndatabase = "{db}"\n'
            'public_url = "https://steward.example"\nsqlite_synchronous = "NORMAL"\n' + server
        )
        path = tmp_path / f"steward-{len(made)}.toml"
        path.write_text(text)
        steward = build_steward(load_config(path, {}), clock=lambda: VECTOR_NOW)
        made.append(steward)
        return steward

    yield factory
    for steward in made:
        steward.close()


@pytest.fixture
async def client(make_steward: StewardFactory) -> AsyncIterator[httpx.AsyncClient]:
    steward = make_steward()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=steward.app), base_url="http://steward") as c:
        c.steward = steward  # type: ignore[attr-defined]
        yield c
