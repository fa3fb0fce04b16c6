"""The ``evosearch`` command line."""

from evosearch.cli.main import main

__all__ = ["main"]
