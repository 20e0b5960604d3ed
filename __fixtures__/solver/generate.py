"""Generates the fixtures of __tests__/solver-logistic.test.ts: small CSVs and scikit-learn's fitted models.

Run from the repository root (the MLflow venv has scikit-learn):
    . scripts/stack/env.sh && "$MLSECOPS_VENV/bin/python" __fixtures__/solver/generate.py
    npx prettier --write __fixtures__/solver/expected.json

For each dataset (the built-in Iris data of the action, and the CSVs written here) it fits scikit-learn's
StandardScaler + LogisticRegression on ALL rows, twice: with the defaults (C=1, tol=1e-4, lbfgs) and to a
tight tolerance (tol=1e-10, so the weights are the optimum itself), and writes coef_, intercept_, the classes
and the default model's predictions to expected.json. Labels are written as given; classes_ is sorted the way
the trainer orders labels (numbers numerically, text by code point).
"""

import csv
import json
import os

import numpy as np
import sklearn
from sklearn.datasets import make_blobs, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def write_csv(name, x, y):
    with open(os.path.join(HERE, name), "w", newline="") as out:
        w = csv.writer(out, lineterminator="\n")
        w.writerow([f"x{j + 1}" for j in range(x.shape[1])] + ["label"])
        for row, label in zip(x.tolist(), y.tolist()):
            w.writerow([repr(v) for v in row] + [label])


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    x = np.array([[float(v) for v in r[:-1]] for r in rows[1:]])
    y = np.array([r[-1] for r in rows[1:]])
    return x, y


def datasets():
    # Two overlapping classes: the binary (binomial) model.
    x, y = make_classification(
        n_samples=240, n_features=6, n_informative=4, n_redundant=1, flip_y=0.05, random_state=7
    )
    write_csv("binary.csv", x, y)
    # Two classes a plane separates: without the L2 term the weights would grow without bound.
    rng = np.random.default_rng(3)
    x = rng.normal(size=(120, 3))
    y = (x @ np.array([2.0, -1.0, 0.5]) + 0.3 > 0).astype(int)
    x[y == 1] += 2.0 * np.array([2.0, -1.0, 0.5]) / np.linalg.norm([2.0, -1.0, 0.5])
    write_csv("separable.csv", x, y)
    # Many classes (softmax): 12 overlapping blobs, features on very different scales.
    x, y = make_blobs(n_samples=600, n_features=5, centers=12, cluster_std=2.5, random_state=11)
    x = x * np.array([1.0, 1000.0, 0.001, 50.0, 1.0]) + np.array([0.0, 5e4, 0.0, -300.0, 7.0])
    write_csv("many-classes.csv", x, y)
    yield "iris", os.path.join(ROOT, "model", "iris.csv")
    for name in ["binary", "separable", "many-classes"]:
        yield name, os.path.join(HERE, name + ".csv")


def order(labels):
    unique = sorted(set(labels.tolist()))
    try:
        return sorted(unique, key=float)
    except ValueError:
        return unique


def fit(x, y, classes, **options):
    scaled = StandardScaler().fit_transform(x)
    model = LogisticRegression(**options).fit(scaled, y)
    assert model.classes_.tolist() == classes, (model.classes_, classes)
    return model, scaled


def main():
    out = {"sklearn": sklearn.__version__, "datasets": {}}
    for name, path in datasets():
        x, y = read_csv(path)
        classes = order(y)
        if classes != sorted(classes):  # numeric labels: let scikit-learn see them in the same order
            y = np.array([classes.index(v) for v in y])
            labels = list(range(len(classes)))
        else:
            labels = classes
        default, scaled = fit(x, y, labels)
        tight, _ = fit(x, y, labels, tol=1e-10, max_iter=100000)
        out["datasets"][name] = {
            "csv": os.path.relpath(path, ROOT),
            "classes": classes,
            "coef": tight.coef_.tolist(),
            "intercept": tight.intercept_.tolist(),
            "defaultIterations": int(default.n_iter_.max()),
            "defaultPredictions": [classes[labels.index(v)] for v in default.predict(scaled).tolist()],
            "defaultAccuracy": float(default.score(scaled, y)),
        }
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
