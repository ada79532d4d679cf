"""`enarx attest`: placeholder until its issue lands; registers nothing yet."""

from __future__ import annotations

import argparse

from enarx.cli.environment import Environment


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], env: Environment) -> None:
    """Register the `attest` command group (filled in by its own issue)."""
