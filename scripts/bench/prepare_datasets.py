"""Writes the benchmark datasets as CSV (features..., target) and one stratified 80/20 split per dataset.

Both sides read the same CSV and the same split file, so they train on the same rows with the same values.
    python prepare_datasets.py OUT_DIR
Datasets: scikit-learn's bundled iris, wine, breast cancer, digits, and make_classification 100k x 50, 3 classes.
"""

import json
import os
import sys

import numpy as np
from sklearn import datasets
from sklearn.model_selection import train_test_split

SEED = 42


def bundled():
    yield "iris", datasets.load_iris(return_X_y=True), repr
    yield "wine", datasets.load_wine(return_X_y=True), repr
    yield "breast_cancer", datasets.load_breast_cancer(return_X_y=True), repr
    yield "digits", datasets.load_digits(return_X_y=True), repr
    x, y = datasets.make_classification(
        n_samples=100_000, n_features=50, n_informative=10, n_classes=3, random_state=SEED
    )
    # Six significant digits: about 45 MB of CSV, the size the issue names.
    yield "synthetic_100k", (x, y), lambda v: "%.6g" % v


def write_csv(path, x, y, fmt):
    names = [f"f{j}" for j in range(x.shape[1])]
    with open(path, "w", newline="\n") as out:
        out.write(",".join(names + ["target"]) + "\n")
        for row, label in zip(x.tolist(), y.tolist()):
            out.write(",".join(fmt(v) for v in row) + "," + str(int(label)) + "\n")


def prepare(out_dir):
    """Writes what is missing in out_dir; returns one entry per dataset (paths, shape, CSV size)."""
    os.makedirs(out_dir, exist_ok=True)
    listing = []
    for name, (x, y), fmt in bundled():
        csv = os.path.join(out_dir, name + ".csv")
        split = os.path.join(out_dir, name + ".split.json")
        if not os.path.exists(csv):
            write_csv(csv, np.asarray(x, dtype=float), y, fmt)
        if not os.path.exists(split):
            train, test = train_test_split(
                np.arange(len(y)), test_size=0.2, stratify=y, random_state=SEED
            )
            with open(split, "w") as out:
                json.dump({"train": sorted(train.tolist()), "test": sorted(test.tolist())}, out)
        listing.append(
            {
                "name": name,
                "csv": os.path.abspath(csv),
                "split": os.path.abspath(split),
                "rows": int(x.shape[0]),
                "features": int(x.shape[1]),
                "classes": int(len(set(y.tolist()))),
                "csvBytes": os.path.getsize(csv),
            }
        )
    return listing


if __name__ == "__main__":
    print(json.dumps(prepare(sys.argv[1])))
