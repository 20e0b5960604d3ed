"""One benchmark run of scikit-learn on the same CSV and split as fit-dataset.ts; prints one JSON line.

    python sklearn_fit.py DATA.csv SPLIT.json [COEF_OUT.json]
Fit = StandardScaler on the training rows + LogisticRegression() with its defaults (lbfgs, C=1, tol=1e-4).
"""

import json
import resource
import sys
import time
import warnings


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / (1024 * 1024)


def main(csv_file, split_file, coef_out=None):
    baseline = rss_mb()  # before numpy, pandas and scikit-learn are imported
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_info

    imported = rss_mb()
    with open(split_file) as f:
        split = json.load(f)
    t = time.perf_counter()
    with warnings.catch_warnings():
        # Deprecated in pandas 3, but it is the parser that gives Python's (correctly rounded) floats.
        warnings.simplefilter("ignore")
        frame = pd.read_csv(csv_file, float_precision="round_trip")
    x = frame.iloc[:, :-1].to_numpy(dtype=np.float64)
    y = frame.iloc[:, -1].astype(str).to_numpy()
    del frame
    load_ms = (time.perf_counter() - t) * 1000
    train = np.asarray(split["train"])
    test = np.asarray(split["test"])

    t = time.perf_counter()
    scaler = StandardScaler().fit(x[train])
    model = LogisticRegression().fit(scaler.transform(x[train]), y[train])
    fit_ms = (time.perf_counter() - t) * 1000

    t = time.perf_counter()
    accuracy = float(np.mean(model.predict(scaler.transform(x[test])) == y[test]))
    predict_ms = (time.perf_counter() - t) * 1000
    if coef_out:
        with open(coef_out, "w") as f:
            json.dump(
                {
                    "classes": model.classes_.tolist(),
                    "coef": model.coef_.tolist(),
                    "intercept": model.intercept_.tolist(),
                },
                f,
            )
    blas = [
        f"{i['internal_api']} {i.get('architecture', '')} x{i['num_threads']}"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    print(
        json.dumps(
            {
                "side": "scikit-learn",
                "rows": int(x.shape[0]),
                "features": int(x.shape[1]),
                "classes": int(len(model.classes_)),
                "accuracy": accuracy,
                "loadMs": load_ms,
                "fitMs": fit_ms,
                "predictMs": predict_ms,
                "iterations": int(np.max(model.n_iter_)),
                "baselineRssMB": baseline,
                "importedRssMB": imported,
                "peakRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "blas": sorted(set(blas)),
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
