"""The ``evosearch`` command line."""

try:
    from evosearch.cli.main import main
except KeyboardInterrupt:
    # Ctrl-C while the command line itself is still importing (``evosearch`` and
    # ``python -m evosearch.cli`` start here): one line, as at any later moment (cli.main).
    import sys

    print("evosearch: interrupted", file=sys.stderr)
    raise SystemExit(130) from None

__all__ = ["main"]
