"""Fixtures shared by test modules.

``iris`` and ``digits`` are the standardised data of the GraphNet tests (test_network*.py);
modules that need iris in another shape define their own ``iris``, which takes precedence there.
"""

from __future__ import annotations

import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


@pytest.fixture(autouse=True)
def _latency_cache(tmp_path_factory, monkeypatch):
    """Each test's own latency-model cache (nn/latency_files.py): never the user's, and never
    a model an earlier test measured or stored."""
    monkeypatch.setenv("EVOSEARCH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y
