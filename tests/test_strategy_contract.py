"""Every registered strategy passes the contract suite of evosearch.testing.strategies."""

from evosearch.testing.strategies import *  # noqa: F403
