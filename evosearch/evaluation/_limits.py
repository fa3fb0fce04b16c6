"""The default limit on one evaluation, in a module of its own: the command line's parser reads
it (through the settings table) without importing the evaluation machinery."""

__all__ = ["DEFAULT_EVAL_TIMEOUT"]

#: Default limit on one evaluation (one genome x fold), in seconds.
DEFAULT_EVAL_TIMEOUT = 300.0
