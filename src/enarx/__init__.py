"""Enarx in Python: run WebAssembly workloads in Keeps (TEEs) and prove what runs."""

__version__ = "0.1.0"
