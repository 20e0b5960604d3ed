"""Generates the unseen-CSV fixtures of __tests__/train-stage.test.ts and scikit-learn's expected accuracy.

Run from the repository root (the MLflow venv has scikit-learn):
    . scripts/stack/env.sh && "$MLSECOPS_VENV/bin/python" __fixtures__/train/generate.py

It writes wine.csv and breast-cancer.csv from scikit-learn's bundled data with the label column FIRST, renamed
columns and string labels, then asks OUR split (src/train/split.ts, compiled with tsc into .tmp/) which rows
are held out for test-size 0.2 and seed 42, fits scikit-learn's StandardScaler + LogisticRegression (defaults)
on exactly our training rows and writes its holdout accuracy, with our holdout indices, to expected.json.
The test checks that our split still gives these indices, so a stale fixture fails loudly.
"""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TEST_SIZE = 0.2
SEED = 42

WINE_COLUMNS = [
    "Alcohol %",
    "Malic acid",
    "Ash",
    "Ash alkalinity",
    "Magnesium mg",
    "Total phenols",
    "Flavanoids",
    "Nonflavanoid phenols",
    "Proanthocyanins",
    "Colour intensity",
    "Hue",
    "OD280/OD315",
    "Proline",
]
WINE_LABELS = ["barolo", "grignolino", "barbera"]


def cancer_columns(names):
    # 'mean radius' -> 'radius_mean', 'worst concave points' -> 'concave_points_worst'
    out = []
    for n in names:
        parts = n.split(" ")
        kind, rest = parts[0], "_".join(parts[1:])
        if kind == "mean":
            out.append(f"{rest}_mean")
        elif kind == "worst":
            out.append(f"{rest}_worst")
        else:  # 'radius error'
            out.append("_".join(parts[:-1]) + "_se")
    return out


def write_csv(path, label_name, feature_names, x, labels):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([label_name] + feature_names)
        for row, label in zip(x, labels):
            w.writerow([label] + [repr(float(v)) for v in row])


def our_split(labels):
    build = os.path.join(ROOT, ".tmp", "fixture-build")
    subprocess.run(
        ["npx", "tsc", "-p", "tsconfig.json", "--outDir", build, "--noEmit", "false"],
        cwd=ROOT,
        check=True,
    )
    code = f"""
import {{ readFileSync }} from 'node:fs'
import {{ stratifiedSplit }} from {json.dumps('file://' + os.path.join(build, 'src/train/split.js'))}
const labels = JSON.parse(readFileSync(0, 'utf8'))
process.stdout.write(JSON.stringify(stratifiedSplit(labels, {TEST_SIZE}, {SEED})))
"""
    out = subprocess.run(
        ["node", "--input-type=module", "-e", code],
        input=json.dumps(labels),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout)


def sklearn_accuracy(x, labels, split):
    x = np.asarray(x, dtype=float)
    y = np.asarray(labels)
    tr, te = split["train"], split["test"]
    scaler = StandardScaler().fit(x[tr])
    clf = LogisticRegression(max_iter=10000).fit(scaler.transform(x[tr]), y[tr])
    return float(accuracy_score(y[te], clf.predict(scaler.transform(x[te]))))


def main():
    expected = {
        "generator": "__fixtures__/train/generate.py",
        "sklearn": sklearn.__version__,
        "testSize": TEST_SIZE,
        "seed": SEED,
        "datasets": {},
    }
    wine = load_wine()
    cancer = load_breast_cancer()
    cases = [
        ("wine.csv", "cultivar", WINE_COLUMNS, wine.data, [WINE_LABELS[t] for t in wine.target]),
        (
            "breast-cancer.csv",
            "diagnosis",
            cancer_columns(list(cancer.feature_names)),
            cancer.data,
            [str(cancer.target_names[t]) for t in cancer.target],
        ),
    ]
    for file, label_name, names, x, labels in cases:
        assert len(names) == x.shape[1]
        write_csv(os.path.join(HERE, file), label_name, names, x, labels)
        split = our_split(labels)
        acc = sklearn_accuracy(x, labels, split)
        expected["datasets"][file] = {
            "targetColumn": label_name,
            "rows": int(x.shape[0]),
            "features": int(x.shape[1]),
            "classes": sorted(set(labels)),
            "sklearnAccuracy": acc,
            "testIndices": split["test"],
        }
        print(f"{file}: rows={x.shape[0]} sklearn holdout accuracy on our split = {acc:.4f}", file=sys.stderr)
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2)
        f.write("\n")
    # The repository's Prettier checks JSON too.
    subprocess.run(["npx", "prettier", "--write", os.path.join(HERE, "expected.json")], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
