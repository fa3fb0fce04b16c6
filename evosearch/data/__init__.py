"""Datasets: the bundled scikit-learn sets, CSV and NPZ files, tables with categorical and date
columns and missing cells, and validation of in-memory data."""

from evosearch.data._task import task_reason
from evosearch.data.dataset import (
    BUNDLED,
    TASKS,
    Dataset,
    check_dataset,
    infer_task,
)
from evosearch.data.images import ImageShape, parse_input_shape
from evosearch.data.loading import load_dataset, read_csv_cells
from evosearch.data.table import (
    CATEGORICAL,
    DATE,
    NUMERIC,
    Column,
    conform_table,
    describe_columns,
    take_rows,
)

__all__ = [
    "BUNDLED",
    "CATEGORICAL",
    "DATE",
    "NUMERIC",
    "TASKS",
    "Column",
    "Dataset",
    "ImageShape",
    "check_dataset",
    "conform_table",
    "describe_columns",
    "infer_task",
    "load_dataset",
    "parse_input_shape",
    "read_csv_cells",
    "take_rows",
    "task_reason",
]
