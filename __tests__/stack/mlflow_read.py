"""Independent reader for the integration tests: MLflow's own Python client reads back what the action wrote.

Reads one JSON request on stdin:
  {"experiment": NAME, "run_id": ID?, "model_name": NAME?, "version": V?, "csv": PATH?, "target": COLUMN?}
and prints one JSON document on the last line of stdout: the experiment, every run in it (status, params,
metrics, tags, dataset inputs, model outputs), the run's artifact list, the registered model's versions, the
version, and mlflow.pyfunc.load_model("models:/NAME/V") predictions on every row of the CSV.
Uses MLFLOW_TRACKING_URI (and MLFLOW_TRACKING_USERNAME/PASSWORD when set) from the environment.
"""

import json
import sys

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import ViewType


def list_artifacts(client, run_id, path=None):
    out = []
    for item in client.list_artifacts(run_id, path):
        if item.is_dir:
            out.extend(list_artifacts(client, run_id, item.path))
        else:
            out.append(item.path)
    return out


def describe_run(client, run):
    inputs = run.inputs.dataset_inputs if run.inputs else []
    outputs = run.outputs.model_outputs if run.outputs else []
    return {
        "run_id": run.info.run_id,
        "run_name": run.info.run_name,
        "status": run.info.status,
        "end_time": run.info.end_time,
        "params": dict(run.data.params),
        "metrics": dict(run.data.metrics),
        "tags": dict(run.data.tags),
        "dataset_inputs": [
            {
                "name": d.dataset.name,
                "digest": d.dataset.digest,
                "source_type": d.dataset.source_type,
                "source": d.dataset.source,
                "schema": d.dataset.schema,
                "profile": d.dataset.profile,
                "tags": {t.key: t.value for t in d.tags},
            }
            for d in inputs
        ],
        "model_outputs": [m.model_id for m in outputs],
    }


def main():
    request = json.loads(sys.stdin.read())
    client = MlflowClient()
    result = {}

    experiment = client.get_experiment_by_name(request["experiment"])
    if experiment is None:
        result["experiment"] = None
    else:
        result["experiment"] = {
            "id": experiment.experiment_id,
            "name": experiment.name,
            "lifecycle_stage": experiment.lifecycle_stage,
        }
        runs = client.search_runs([experiment.experiment_id], run_view_type=ViewType.ALL, max_results=1000)
        result["runs"] = [describe_run(client, r) for r in runs]
        models = client.search_logged_models(experiment_ids=[experiment.experiment_id], max_results=1000)
        result["experiment_logged_models"] = [m.model_id for m in models]
        result["experiment_logged_model_statuses"] = [str(m.status) for m in models]

    if request.get("run_id"):
        run = client.get_run(request["run_id"])
        result["run"] = describe_run(client, run)
        result["run"]["artifacts"] = sorted(list_artifacts(client, run.info.run_id))
        logged = [client.get_logged_model(m) for m in result["run"]["model_outputs"]]
        result["logged_models"] = [
            {
                "model_id": m.model_id,
                "status": str(m.status),
                "source_run_id": m.source_run_id,
                "artifact_location": m.artifact_location,
                "metrics": {x.key: x.value for x in (m.metrics or [])},
                "tags": dict(m.tags),
            }
            for m in logged
        ]

    name = request.get("model_name")
    if name:
        versions = client.search_model_versions(f"name = '{name}'")
        result["versions"] = sorted(
            [
                {
                    "version": v.version,
                    "status": v.status,
                    "run_id": v.run_id,
                    "source": v.source,
                    "description": v.description,
                    "tags": dict(v.tags),
                }
                for v in versions
            ],
            key=lambda v: int(v["version"]),
        )
        aliases = client.get_registered_model(name).aliases
        result["aliases"] = dict(aliases)

    if name and request.get("version") and request.get("csv"):
        uri = f"models:/{name}/{request['version']}"
        model = mlflow.pyfunc.load_model(uri)
        frame = pd.read_csv(request["csv"], dtype=str, keep_default_na=False)
        target = request.get("target") or frame.columns[-1]
        features = frame.drop(columns=[target]).astype("float64")
        predicted = model.predict(features)
        result["predictions"] = [str(x) for x in predicted["label"].tolist()]
        result["input_schema"] = [c.name for c in model.metadata.get_input_schema().inputs]
        result["flavors"] = sorted(model.metadata.flavors.keys())
        onnx_model = mlflow.onnx.load_model(uri)
        result["onnx_ops"] = [n.op_type for n in onnx_model.graph.node]

    print(json.dumps(result))


if __name__ == "__main__":
    main()
