"""The registry facade: every exported name resolves, the list is sorted, imports stay lazy."""

from __future__ import annotations

import subprocess
import sys

import enarx.registry


def test_every_exported_name_resolves_and_all_is_sorted() -> None:
    assert enarx.registry.__all__ == sorted(enarx.registry.__all__)
    for name in enarx.registry.__all__:
        assert getattr(enarx.registry, name).__name__ == name


def test_names_and_errors_do_not_import_the_http_stack() -> None:
    code = ("import sys, enarx.registry.names, enarx.registry.errors; "
            "print(sorted(m for m in ('httpx', 'starlette', 'psycopg') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
