#!/usr/bin/env bash
# Makes (once) the venv of one MLflow release for the compatibility matrix and the 2.x integration test:
# mlflow (server and Python client), onnx and onnxruntime (pyfunc loading), plus the pins an old release needs
# to start today. Cached in $MLSECOPS_CACHE/mlflow-venv-<version>; prints the venv path.
#   bash scripts/compat/mlflow-venv.sh 2.9.2
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../stack/env.sh"
version="${1:?usage: mlflow-venv.sh VERSION}"
venv="$MLSECOPS_CACHE/mlflow-venv-$version"
if [ -x "$venv/bin/mlflow" ] && [ -f "$venv/.complete" ]; then
  echo "$venv"
  exit 0
fi
pins=()
case "$version" in
  # Today's SQLAlchemy (2.1) breaks the server start of releases before 3.11; `mlflow models serve` on 2.22-3.10
  # runs on FastAPI/Starlette and breaks on today's FastAPI.
  2.9.* | 2.1[0-9].* | 2.2[01].*) pins=('sqlalchemy<2.1') ;;
  2.22.* | 3.[0-4].*) pins=('sqlalchemy<2.1' 'fastapi<0.116') ;;
  3.[5-9].*) pins=('sqlalchemy<2.1' 'fastapi<0.120') ;;
  3.10.*) pins=('sqlalchemy<2.1' 'fastapi<0.130') ;;
esac
mkdir -p "$MLSECOPS_CACHE"
printf '[compat] MLflow %s venv in %s\n' "$version" "$venv" >&2
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q "mlflow==$version" onnx onnxruntime "${pins[@]}" >&2
touch "$venv/.complete"
echo "$venv"
