"""Memory of one fold: its peak resident growth, and an address-space limit around it (Linux)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

try:  # POSIX only; max_memory is refused where it is missing
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

_PROC_STATUS = "/proc/self/status"
_PROC_CLEAR_REFS = "/proc/self/clear_refs"


def _proc_status() -> dict[str, int]:
    """Memory lines of /proc/self/status in KiB (empty where there is no /proc)."""
    sizes: dict[str, int] = {}
    try:
        with open(_PROC_STATUS, encoding="ascii") as stream:
            for line in stream:
                name, _, value = line.partition(":")
                if name.startswith("Vm") and value.strip().endswith("kB"):
                    sizes[name] = int(value.split()[0])
    except (OSError, ValueError):
        return {}
    return sizes


class MemoryProbe:
    """Peak resident memory of one fold, above the process's resident size when it started.

    ``ru_maxrss`` only ever grows over a process's life, so in a reused worker it says nothing
    about the current fold. Linux lets a process reset its high-water mark instead (writing 5
    to ``/proc/self/clear_refs``), after which ``VmHWM`` is the peak of this fold alone.
    """

    def __init__(self) -> None:
        self.start_kib: int | None = None
        try:
            with open(_PROC_CLEAR_REFS, "w", encoding="ascii") as stream:
                stream.write("5")
        except OSError:
            return
        self.start_kib = _proc_status().get("VmRSS")

    def peak_mb(self) -> float | None:
        peak = _proc_status().get("VmHWM")
        if self.start_kib is None or peak is None:
            return None
        return round(max(peak - self.start_kib, 0) / 1024, 1)


def memory_limit_supported() -> bool:
    return resource is not None and "VmSize" in _proc_status()


@contextmanager
def address_space_limit(extra_mb: float | None) -> Iterator[None]:
    """Let the process allocate at most ``extra_mb`` MiB more address space, then restore.

    The limit is relative to what the process has mapped already: an idle worker with numpy and
    scikit-learn loaded maps hundreds of MiB (more with many cores), so an absolute limit would
    mean something different on every machine.
    """
    if extra_mb is None:
        yield
        return
    assert resource is not None
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _proc_status()["VmSize"] * 1024 + int(extra_mb * 2**20)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
