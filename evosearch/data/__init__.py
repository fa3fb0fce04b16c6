"""Datasets: the bundled scikit-learn sets, CSV and NPZ files, and validation of in-memory data."""

from evosearch.data.dataset import (
    BUNDLED,
    TASKS,
    Dataset,
    check_dataset,
    infer_task,
)
from evosearch.data.images import ImageShape, parse_input_shape
from evosearch.data.loading import load_dataset

__all__ = [
    "BUNDLED",
    "TASKS",
    "Dataset",
    "ImageShape",
    "check_dataset",
    "infer_task",
    "load_dataset",
    "parse_input_shape",
]
