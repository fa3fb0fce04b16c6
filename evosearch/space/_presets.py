"""Where the bundled genome presets (``genomes/*.toml``) live."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["list_presets"]


def _presets_dir() -> Path:
    # A source checkout (or editable install) keeps the presets in the top-level genomes/ folder;
    # a wheel installs that folder as the package data ``evosearch.genomes``.
    checkout = Path(__file__).resolve().parents[2] / "genomes"
    if (checkout / "mlp.toml").is_file():
        return checkout
    return Path(str(resources.files("evosearch.genomes")))


def list_presets() -> dict[str, Path]:
    """Return the bundled genome presets by name (``mlp``, ...) with their file paths."""
    return {p.stem: p for p in sorted(_presets_dir().glob("*.toml"))}
