"""Every registered strategy (the toy ``hyperparameters`` included) passes the contract suite
of evosearch.testing.strategies, its breeding parts included."""

import toy_strategy  # noqa: F401  (registers "hyperparameters" before the suite reads the registry)

from evosearch.testing.strategies import *  # noqa: F403
