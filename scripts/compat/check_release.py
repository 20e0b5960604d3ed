"""Reads back, with the Python client of the server's own MLflow release, what the action registered.

One JSON request on stdin:
  {"model_name": NAME, "alias": ALIAS, "versions": [{"version": V, "csv": PATH, "target": COL}], "serve_port": P?}
Prints one JSON document on the last line of stdout: the client's release, per version its status, source,
run status, description, tags, and mlflow.pyfunc.load_model("models:/NAME/V") predictions on every CSV row
(JSON values: numbers stay numbers); the alias's version; and, with serve_port, the answers of
`mlflow models serve` (started by the caller on that port) for the last version.
Uses MLFLOW_TRACKING_URI from the environment. Runs on MLflow 2.9 and later.
"""

import json
import sys
import urllib.request

import mlflow
import pandas as pd
from mlflow import MlflowClient


def plain(values):
    out = []
    for value in values:
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, bytes):
            value = value.decode()
        out.append(value)
    return out


def features(csv, target):
    frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
    return frame.drop(columns=[target]).astype("float64")


def main():
    request = json.loads(sys.stdin.read())
    client = MlflowClient()
    name = request["model_name"]
    result = {"client_version": mlflow.__version__, "versions": []}
    for item in request["versions"]:
        version = client.get_model_version(name, item["version"])
        run = client.get_run(version.run_id)
        model = mlflow.pyfunc.load_model(f"models:/{name}/{item['version']}")
        predicted = model.predict(features(item["csv"], item["target"]))
        column = predicted["label"] if hasattr(predicted, "columns") else predicted
        result["versions"].append(
            {
                "version": version.version,
                "status": version.status,
                "source": version.source,
                "run_id": version.run_id,
                "run_status": run.info.status,
                "description": version.description,
                "tags": dict(version.tags),
                "predictions": plain(list(column)),
                "input_schema": [c.name for c in model.metadata.get_input_schema().inputs],
            }
        )
    alias = request.get("alias")
    if alias:
        result["alias_version"] = client.get_model_version_by_alias(name, alias).version
    port = request.get("serve_port")
    if port:
        last = request["versions"][-1]
        frame = features(last["csv"], last["target"])
        body = json.dumps({"dataframe_split": frame.to_dict(orient="split")}).encode()
        answer = urllib.request.urlopen(
            urllib.request.Request(
                f"http://127.0.0.1:{port}/invocations",
                data=body,
                headers={"Content-Type": "application/json"},
            ),
            timeout=60,
        )
        served = json.loads(answer.read())
        rows = served["predictions"] if isinstance(served, dict) else served
        result["served"] = [row["label"] if isinstance(row, dict) else row for row in rows]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
