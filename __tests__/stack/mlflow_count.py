"""Independent counter for the robustness tests: MLflow's own Python client counts what the action left behind.

Reads one JSON request on stdin: {"checks": [{"experiment": NAME, "run_id_tag": ID?, "model": NAME?}, ...]}
and prints one JSON document on the last line: for each check, the runs of the experiment (all lifecycle
stages, with each run's lifecycle stage) carrying tag github.run_id = run_id_tag (or every run when absent) with their status, the number of
dataset inputs and of accuracy metric entries per run, the experiment's logged models, and the model's
versions with their status and run id.
Uses MLFLOW_TRACKING_URI (and MLFLOW_TRACKING_USERNAME/PASSWORD when set) from the environment.
"""

import json
import sys

from mlflow import MlflowClient
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException


def main():
    request = json.loads(sys.stdin.read())
    client = MlflowClient()
    out = []
    for check in request["checks"]:
        item = {"experiment": check["experiment"], "runs": [], "logged_models": [], "versions": []}
        experiment = client.get_experiment_by_name(check["experiment"])
        if experiment is not None:
            flt = ""
            if check.get("run_id_tag"):
                flt = f"tags.`github.run_id` = '{check['run_id_tag']}'"
            runs = client.search_runs(
                [experiment.experiment_id], filter_string=flt, run_view_type=ViewType.ALL, max_results=1000
            )
            for r in runs:
                inputs = r.inputs.dataset_inputs if r.inputs else []
                history = client.get_metric_history(r.info.run_id, "accuracy")
                item["runs"].append(
                    {
                        "run_id": r.info.run_id,
                        "status": r.info.status,
                        "lifecycle_stage": r.info.lifecycle_stage,
                        "dataset_inputs": len(inputs),
                        "accuracy_entries": len(history),
                        "error": r.data.tags.get("mlsecops.error"),
                    }
                )
            models = client.search_logged_models(experiment_ids=[experiment.experiment_id], max_results=1000)
            item["logged_models"] = [m.model_id for m in models]
        if check.get("model"):
            try:
                versions = client.search_model_versions(f"name = '{check['model']}'")
            except MlflowException:
                versions = []
            item["versions"] = [{"version": v.version, "status": v.status, "run_id": v.run_id} for v in versions]
        out.append(item)
    print(json.dumps({"checks": out}))


if __name__ == "__main__":
    main()
