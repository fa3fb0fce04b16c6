"""Does a 0/1 column for a point mass help a network? scikit-learn alone, no search.

On the record's splits (``peers.py``'s: stratified 75 % / 25 % by the seed), each numeric
column whose most frequent value holds at least 20 % of the rows (and which has more than two
values) gets a 0/1 column ``value == that value``; logistic regression and ``MLPClassifier``
(64-64, early stopping, three initialisations averaged) are fitted with and without it,
standard-scaled or quantile-scaled, one-hot text columns. Prints the held-back accuracy per
seed and the mean. Run with the peers' venv (its packages carry the data sets)::

    /tmp/peers-venv/bin/python benchmarks/point_mass_probe.py weather
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _peers_data


def with_flags(frame, numeric):
    frame = frame.copy()
    for name in numeric:
        shares = frame[name].value_counts(normalize=True)
        if shares.iloc[0] >= 0.2 and frame[name].nunique() > 2:
            frame[f"{name}=={shares.index[0]:g}"] = (frame[name] == shares.index[0]).astype(float)
    return frame


def main() -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, QuantileTransformer, StandardScaler

    warnings.filterwarnings("ignore")
    name = sys.argv[1] if len(sys.argv) > 1 else "weather"
    results: dict[tuple[str, str, bool], list[float]] = {}
    for seed in range(4):
        _, X_train, X_test, y_train, y_test = _peers_data.split(name, seed)
        text = [c for c in X_train.columns if X_train[c].dtype == object]
        numeric = [c for c in X_train.columns if c not in text]
        for flags in (False, True):
            train = with_flags(X_train, numeric) if flags else X_train
            test = with_flags(X_test, numeric) if flags else X_test
            columns = [c for c in train.columns if c not in text]
            for scaling in ("standard", "quantile"):
                scaler = StandardScaler() if scaling == "standard" else QuantileTransformer(
                    n_quantiles=200)  # fmt: skip
                encoder = OneHotEncoder(handle_unknown="ignore")
                prep = ColumnTransformer([("n", scaler, columns), ("t", encoder, text)])
                models = {
                    "logistic": [LogisticRegression(max_iter=2000)],
                    "mlp": [MLPClassifier((64, 64), alpha=1e-3, max_iter=300,
                                          early_stopping=True, random_state=s) for s in range(3)],
                }  # fmt: skip
                for model, fits in models.items():
                    scores = [make_pipeline(prep, m).fit(train, y_train).score(test, y_test)
                              for m in fits]  # fmt: skip
                    results.setdefault((model, scaling, flags), []).append(float(np.mean(scores)))
    for (model, scaling, flags), scores in results.items():
        shown = " ".join(f"{s:.4f}" for s in scores)
        print(f"{name} {model:8} {scaling:8} flags {flags!s:5}  seeds 0-3 {shown}  "
              f"mean {np.mean(scores):.4f}")  # fmt: skip


if __name__ == "__main__":
    main()
