"""Every registered objective (the toy ``depth`` included) passes evosearch.testing.objectives."""

import toy_objective  # noqa: F401  (registers "depth" before the suite reads the registry)

from evosearch.testing.objectives import *  # noqa: F403
