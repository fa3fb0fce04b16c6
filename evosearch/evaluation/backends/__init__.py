"""Where fold tasks run: this machine's worker processes, or a Dask cluster."""
