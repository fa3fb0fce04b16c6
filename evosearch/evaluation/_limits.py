"""The default limit on one evaluation, in a module of its own: the command line's parser reads
it (through the settings table) without importing the evaluation machinery."""

__all__ = ["DEFAULT_EVAL_TIMEOUT", "ONE_THREAD_ENV"]

#: Default limit on one evaluation (one genome x fold), in seconds.
DEFAULT_EVAL_TIMEOUT = 300.0

#: BLAS/OpenMP pools sized to one thread before numpy loads in a worker process (threadpoolctl
#: caps them again at start-up): one thread per process keeps n_jobs processes from fighting.
ONE_THREAD_ENV = {
    name: "1"
    for name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
    )
}
