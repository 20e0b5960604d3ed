"""scikit-learn's numbers for a fixed truth/prediction pair, for __tests__/metrics.test.ts.

    . scripts/stack/env.sh && "$MLSECOPS_VENV/bin/python" __fixtures__/metrics/generate.py
"""

import json
import os
import subprocess

import sklearn
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)

HERE = os.path.dirname(os.path.abspath(__file__))
LABELS = ["cat", "dog", "fox", "owl"]
# Uneven classes, mistakes in every direction, and 'owl' never predicted (precision 0/0 -> 0).
TRUTH = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 0, 1, 2, 1, 0, 0, 2, 1]
PRED = [0, 0, 1, 0, 2, 1, 1, 0, 1, 1, 2, 1, 2, 2, 0, 2, 0, 2, 0, 1, 1, 1, 0, 2, 2, 1]


def main():
    labels = list(range(len(LABELS)))
    p, r, f, s = precision_recall_fscore_support(TRUTH, PRED, labels=labels, zero_division=0)
    out = {
        "generator": "__fixtures__/metrics/generate.py",
        "sklearn": sklearn.__version__,
        "classLabels": LABELS,
        "truth": TRUTH,
        "predicted": PRED,
        "accuracy": accuracy_score(TRUTH, PRED),
        "precisionMacro": precision_score(TRUTH, PRED, labels=labels, average="macro", zero_division=0),
        "recallMacro": recall_score(TRUTH, PRED, labels=labels, average="macro", zero_division=0),
        "f1Macro": f1_score(TRUTH, PRED, labels=labels, average="macro", zero_division=0),
        "perClass": [
            {"label": LABELS[i], "precision": p[i], "recall": r[i], "f1": f[i], "support": int(s[i])}
            for i in labels
        ],
        "confusionMatrix": confusion_matrix(TRUTH, PRED, labels=labels).tolist(),
    }
    path = os.path.join(HERE, "sklearn-metrics.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=2)
        fh.write("\n")
    subprocess.run(["npx", "prettier", "--write", path], check=True)


if __name__ == "__main__":
    main()
