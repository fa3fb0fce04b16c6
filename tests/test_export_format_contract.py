"""Every registered export format passes evosearch.testing.export_formats."""

from evosearch.testing.export_formats import *  # noqa: F403
