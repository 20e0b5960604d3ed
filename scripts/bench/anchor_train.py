"""The anchors' training step for npm run bench:job: scikit-learn in the MLflow venv, as the seed workflow ran it.

    python anchor_train.py DATA.csv TARGET OUT_DIR
Reads the CSV with pandas, splits 80/20 (stratified, seed 42), fits LogisticRegression(max_iter=1000), scores the
holdout, and writes model.pkl and metrics.json into OUT_DIR. The whole process is what the driver times.
"""

import json
import os
import pickle
import sys


def main(csv_file, target, out_dir):
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import train_test_split

    data = pd.read_csv(csv_file)
    x = data.drop(columns=[target])
    y = data[target]
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, random_state=42, stratify=y
    )
    model = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    accuracy = accuracy_score(y_test, model.predict(x_test))
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "model.pkl"), "wb") as f:
        pickle.dump(model, f)
    with open(os.path.join(out_dir, "metrics.json"), "w") as f:
        json.dump({"accuracy": accuracy}, f)


if __name__ == "__main__":
    main(*sys.argv[1:4])
