"""npm run bench: this project's trainer against scikit-learn, side by side, and the action's own overhead.

Run through scripts/bench.sh, which compiles the TypeScript side and bundles the action first:
    python scripts/bench/bench.py --work .tmp/bench [--reps 5] [--no-mlflow]

1. Datasets: scikit-learn's bundled iris, wine, breast cancer and digits, and make_classification 100k x 50 x 3,
   written as CSV with one stratified 80/20 split each (prepare_datasets.py). Both sides read the same CSV
   and the same split file.
2. Each repetition runs, per dataset, one fresh process per side, interleaved: node fit-dataset.js (load,
   standardize, L-BFGS, predict the holdout) and python sklearn_fit.py (pandas read, StandardScaler,
   LogisticRegression() defaults, predict). Fit time is measured inside each process around standardize +
   fit; whole-process time and peak RSS (wait4's ru_maxrss) by this driver. OPENBLAS_CORETYPE and
   OPENBLAS_L2_SIZE are removed from scikit-learn's environment only; threadpoolctl names the kernel used.
3. The action on Iris: `node bundle/index.js` with build=false, timed from its own log lines (the
   "::group::" lines of the train and register stages): start-up to the train stage, training, MLflow
   registration against a real local `mlflow server` (through a counting proxy: requests and their time),
   and the rest. Once without an MLflow URI, once with one.
Prints Markdown tables; the raw figures go to WORK/results.json.
"""

import argparse
import http.client
import http.server
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# This driver imports neither numpy nor scikit-learn: a child process starts with its parent's peak RSS
# (Linux keeps the larger of the old and new image's peak across exec), so the driver must stay small for
# ru_maxrss to be the child's own figure.
TS_FIT = os.path.join(ROOT, "build", "bench", "scripts", "bench", "fit-dataset.js")
BUNDLE = os.path.join(ROOT, "build", "bench", "bundle", "index.js")
SKLEARN_FIT = os.path.join(HERE, "sklearn_fit.py")
OPENBLAS_VARS = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"]


def run_with_rusage(cmd, env=None, timeout=600):
    """Runs cmd; returns (stdout, wall seconds, peak RSS MB). Reaps the child itself (wait4), so that
    ru_maxrss is that child's own peak."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    out_chunks, err_chunks = [], []
    readers = [
        threading.Thread(target=lambda: out_chunks.append(proc.stdout.read())),
        threading.Thread(target=lambda: err_chunks.append(proc.stderr.read())),
    ]
    for r in readers:
        r.start()
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    timer.cancel()
    for r in readers:
        r.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{b''.join(err_chunks).decode()[-2000:]}"
        )
    return b"".join(out_chunks).decode(), wall, usage.ru_maxrss / 1024


def rss_now_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def sklearn_env(threads=None):
    env = dict(os.environ)
    for name in OPENBLAS_VARS:
        env.pop(name, None)
    if threads:
        env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = str(threads)
    return env


def median(values):
    return statistics.median(values) if values else float("nan")


# --- the action on Iris -------------------------------------------------------------------------------


class CountingProxy(http.server.ThreadingHTTPServer):
    """Forwards every request to the MLflow server and records method, path, status and milliseconds."""

    daemon_threads = True

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.records = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), ProxyHandler)


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _forward(self):
        start = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {
            k: v
            for k, v in self.headers.items()
            if k.lower() not in ("host", "connection", "keep-alive", "transfer-encoding")
        }
        conn = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=120)
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True
        with self.server.lock:
            self.server.records.append(
                (self.command, self.path.split("?")[0], resp.status, (time.perf_counter() - start) * 1000)
            )

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_mlflow(work):
    """A real MLflow tracking server (sqlite, proxied artifacts) on a free port; returns (process, port)."""
    venv_bin = os.path.dirname(sys.executable)
    port = free_port()
    data = os.path.join(work, "mlflow")
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    log = open(os.path.join(data, "server.log"), "wb")
    proc = subprocess.Popen(
        [
            os.path.join(venv_bin, "mlflow"), "server",
            "--backend-store-uri", f"sqlite:///{data}/mlflow.db",
            "--serve-artifacts", "--artifacts-destination", f"{data}/artifacts",
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        ],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mlflow server exited; see {data}/server.log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return proc, port
        except OSError:
            time.sleep(0.5)
    stop_process_group(proc)
    raise RuntimeError(f"mlflow server did not answer /health in 120 s; see {data}/server.log")


def stop_process_group(proc):
    try:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass


def run_action(tracking_uri, tag):
    """One `node bundle` run on Iris; the phases from the times its log lines arrive."""
    with tempfile.TemporaryDirectory(prefix="bench-action-") as tmp:
        for name in ("out", "summary"):
            open(os.path.join(tmp, name), "w").close()
        os.makedirs(os.path.join(tmp, "runner"))
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("INPUT_", "MLFLOW_", "GITHUB_", "RUNNER_", "ACTIONS_"))
        }
        env.update(
            {
                "INPUT_BUILD": "false",
                "INPUT_UPLOAD-ARTIFACT": "false",
                "INPUT_UPLOAD-SARIF": "false",
                "INPUT_MODEL-NAME": "bench-iris",
                "INPUT_MLFLOW-EXPERIMENT": "bench",
                "GITHUB_OUTPUT": os.path.join(tmp, "out"),
                "GITHUB_STEP_SUMMARY": os.path.join(tmp, "summary"),
                "GITHUB_WORKSPACE": tmp,
                "GITHUB_REPOSITORY": "bench/iris",
                "GITHUB_SHA": "0" * 39 + tag,
                "GITHUB_RUN_ID": "1",
                "RUNNER_TEMP": os.path.join(tmp, "runner"),
            }
        )
        if tracking_uri:
            env["INPUT_MLFLOW-TRACKING-URI"] = tracking_uri
        start = time.perf_counter()
        proc = subprocess.Popen(
            ["node", BUNDLE], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp
        )
        marks = {}
        lines = []
        for raw in proc.stdout:
            now = (time.perf_counter() - start) * 1000
            line = raw.decode().rstrip("\n")
            lines.append(line)
            if line.startswith("::group::"):
                marks.setdefault("group:" + line[len("::group::") :], now)
                current = line[len("::group::") :]
            elif line == "::endgroup::":
                marks["end:" + current] = now
        err = proc.stderr.read().decode()
        _, status, usage = os.wait4(proc.pid, 0)
        total = (time.perf_counter() - start) * 1000
        if os.waitstatus_to_exitcode(status) != 0 or any(l.startswith("::error") for l in lines):
            raise RuntimeError("the action failed:\n" + "\n".join(lines[-20:]) + err[-2000:])
    train_start = marks["group:Train model"]
    train_end = marks["end:Train model"]
    register = marks.get("end:Register in MLflow", train_end) - marks.get(
        "group:Register in MLflow", train_end
    )
    last = marks.get("end:Register in MLflow", train_end)
    return {
        "startupMs": train_start,
        "trainMs": train_end - train_start,
        "registerMs": register,
        "restMs": total - last,
        "totalMs": total,
        "peakRssMB": usage.ru_maxrss / 1024,
    }


def bench_action(work, reps, with_mlflow):
    run_action(None, "w")  # warm-up (page cache), not counted
    results = {"local": [run_action(None, str(i)) for i in range(reps)]}
    if not with_mlflow:
        return results
    server, port = start_mlflow(work)
    proxy = CountingProxy(port)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        # The server's background workers are still starting when /health answers; the first run creates
        # the experiment and the registered model. Neither is the steady state being measured.
        time.sleep(10)
        run_action(f"http://127.0.0.1:{proxy.server_address[1]}", "w")
        runs = []
        for i in range(reps):
            with proxy.lock:
                proxy.records.clear()
            run = run_action(f"http://127.0.0.1:{proxy.server_address[1]}", str(i))
            with proxy.lock:
                run["requests"] = len(proxy.records)
                run["requestMs"] = sum(r[3] for r in proxy.records)
                run["requestList"] = [f"{m} {p} {s}" for m, p, s, _ in proxy.records]
            runs.append(run)
        results["mlflow"] = runs
    finally:
        proxy.shutdown()
        stop_process_group(server)
    return results


# --- report -----------------------------------------------------------------------------------------


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(l for l in f if l.startswith("MemTotal")).split()[1])
            mem = f"{kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration):
        pass
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    versions = subprocess.run(
        [sys.executable, "-c", "import numpy, sklearn; print(sklearn.__version__, numpy.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "os": platform.platform(),
        "node": node,
        "python": platform.python_version(),
        "sklearn": versions[0],
        "numpy": versions[1],
        "openblasVars": {k: os.environ[k] for k in OPENBLAS_VARS if k in os.environ},
    }


def fmt_ms(v):
    return f"{v:.0f}" if v >= 10 else f"{v:.1f}"


def report(info, listing, runs, action, load_before, load_after):
    out = []
    kernels = sorted({k for r in runs for k in r["sklearn"].get("blas", [])})
    out.append(
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory']}; Node {info['node']}; "
        f"Python {info['python']}, scikit-learn {info['sklearn']}, numpy {info['numpy']} "
        f"(BLAS: {', '.join(kernels) or 'unknown'}; "
        + (
            "unset for scikit-learn: " + ", ".join(f"{k}={v}" for k, v in info["openblasVars"].items())
            if info["openblasVars"]
            else "OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE not set"
        )
        + f"; scikit-learn threads: {info['sklearnThreads']}). Load average {load_before} before, "
        f"{load_after} after. "
        f"Medians of {len(runs) // len(listing)} runs, one fresh process per run and side."
    )
    out.append("")
    out.append(
        "| Dataset | Rows x features, classes | Accuracy: ours / scikit-learn (diff, points) "
        "| Fit ms: ours / scikit-learn (ratio) | Process s: ours / scikit-learn (ratio) "
        "| Peak RSS MB: ours / scikit-learn (ratio) | Ours: peak - start-up RSS, x data as doubles "
        "| Iterations: ours / scikit-learn |"
    )
    out.append("|---|---|---|---|---|---|---|---|")
    summary = []
    for d in listing:
        ours = [r["ours"] for r in runs if r["dataset"] == d["name"]]
        theirs = [r["sklearn"] for r in runs if r["dataset"] == d["name"]]
        acc_o, acc_s = median([r["accuracy"] for r in ours]), median([r["accuracy"] for r in theirs])
        fit_o, fit_s = median([r["fitMs"] for r in ours]), median([r["fitMs"] for r in theirs])
        wall_o, wall_s = median([r["wallS"] for r in ours]), median([r["wallS"] for r in theirs])
        rss_o, rss_s = max(r["rusageMB"] for r in ours), max(r["rusageMB"] for r in theirs)
        extra = median([r["peakRssMB"] - r["baselineRssMB"] for r in ours])
        data_mb = d["rows"] * d["features"] * 8 / 2**20
        out.append(
            f"| {d['name']} | {d['rows']} x {d['features']}, {d['classes']} "
            f"| {acc_o:.4f} / {acc_s:.4f} ({(acc_o - acc_s) * 100:+.2f}) "
            f"| {fmt_ms(fit_o)} / {fmt_ms(fit_s)} ({fit_o / fit_s:.2f}x) "
            f"| {wall_o:.2f} / {wall_s:.2f} ({wall_o / wall_s:.2f}x) "
            f"| {rss_o:.0f} / {rss_s:.0f} ({rss_o / rss_s:.2f}x) "
            + (
                f"| {extra:.1f} MB, {extra / data_mb:.1f}x of {data_mb:.1f} MB "
                if data_mb >= 1
                else f"| {extra:.1f} MB (data: {data_mb * 1024:.0f} KB) "
            )
            + f"| {median([r['iterations'] for r in ours]):.0f} / "
            f"{median([r['iterations'] for r in theirs]):.0f} |"
        )
        summary.append(
            {
                "dataset": d["name"],
                "accuracyDiffPoints": (acc_o - acc_s) * 100,
                "fitRatio": fit_o / fit_s,
                "memoryAboveStartupOverData": extra / data_mb,
                "oursFitMs": fit_o,
                "sklearnFitMs": fit_s,
                "oursFitMinMs": min(r["fitMs"] for r in ours),
                "sklearnFitMinMs": min(r["fitMs"] for r in theirs),
                "oursLoadMs": median([r["loadMs"] for r in ours]),
                "sklearnLoadMs": median([r["loadMs"] for r in theirs]),
            }
        )
    out.append("")
    out.append(
        "Fit = standardize the training rows + fit (ours: fitStandardizer, standardizedMatrix, L-BFGS; "
        "scikit-learn: StandardScaler fit/transform + LogisticRegression().fit). Process = the whole "
        "process: start, imports, reading the CSV, fit, predicting the holdout. CSV load (median, ms), "
        "ours / scikit-learn (pandas): "
        + "; ".join(f"{s['dataset']} {fmt_ms(s['oursLoadMs'])} / {fmt_ms(s['sklearnLoadMs'])}" for s in summary)
        + ". Fastest fit (ms), ours / scikit-learn: "
        + "; ".join(f"{s['dataset']} {fmt_ms(s['oursFitMinMs'])} / {fmt_ms(s['sklearnFitMinMs'])}" for s in summary)
        + "."
    )
    out.append("")
    out.append(
        "The action on Iris (`node build/bench/bundle/index.js`, the ncc bundle `npm run build` makes, "
        "with build=false), medians in ms:"
    )
    out.append("")
    cols = [("local", "no MLflow URI")] + ([("mlflow", "local MLflow server")] if "mlflow" in action else [])
    out.append("| Phase | " + " | ".join(c[1] for c in cols) + " |")
    out.append("|---|" + "---|" * len(cols))
    rows = [
        ("Bundle load: process start to the train stage", "startupMs"),
        ("Training stage (load, split, fit, metrics, model files)", "trainMs"),
        ("MLflow registration stage", "registerMs"),
        ("The rest (summary, outputs, exit)", "restMs"),
        ("Whole process", "totalMs"),
    ]
    for label, key in rows:
        cells = []
        for c, _ in cols:
            v = median([r[key] for r in action[c]])
            cells.append("-" if c == "local" and key == "registerMs" else fmt_ms(v))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    if "mlflow" in action:
        m = action["mlflow"]
        out.append(
            "| MLflow requests: count, summed time at the proxy | - | "
            f"{median([r['requests'] for r in m]):.0f}, {fmt_ms(median([r['requestMs'] for r in m]))} |"
        )
        out.append(
            "| The action's own time (whole process - MLflow request time) | "
            f"{fmt_ms(median([r['totalMs'] for r in action['local']]))} | "
            f"{fmt_ms(median([r['totalMs'] - r['requestMs'] for r in m]))} |"
        )
    else:
        out.append("| MLflow requests | not measured (--no-mlflow) |")
    out.append(
        "| Peak RSS, MB | "
        + " | ".join(f"{max(r['peakRssMB'] for r in action[c]):.0f}" for c, _ in cols)
        + " |"
    )
    return "\n".join(out), summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default=os.path.join(ROOT, ".tmp", "bench"))
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--datasets", default="", help="comma-separated subset")
    parser.add_argument("--no-mlflow", action="store_true", help="skip the MLflow registration runs")
    parser.add_argument(
        "--sklearn-threads", type=int, default=0, help="BLAS/OpenMP threads for scikit-learn (default: its own)"
    )
    args = parser.parse_args()
    for path in (TS_FIT, BUNDLE):
        if not os.path.exists(path):
            sys.exit(f"bench: {path} is missing: run scripts/bench.sh (it compiles and bundles first)")
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"bench: driver RSS {rss_now_mb():.0f} MB; preparing datasets in {work}/data", file=sys.stderr)
    listing = json.loads(
        subprocess.run(
            [sys.executable, os.path.join(HERE, "prepare_datasets.py"), os.path.join(work, "data")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    if args.datasets:
        wanted = args.datasets.split(",")
        listing = [d for d in listing if d["name"] in wanted]
    runs = []
    for rep in range(args.reps):
        for d in listing:
            print(f"bench: run {rep + 1}/{args.reps} {d['name']}", file=sys.stderr)
            record = {"dataset": d["name"], "rep": rep}
            out, wall, rss = run_with_rusage(["node", TS_FIT, d["csv"], d["split"]])
            record["ours"] = {**json.loads(out.strip().splitlines()[-1]), "wallS": wall, "rusageMB": rss}
            out, wall, rss = run_with_rusage(
                [sys.executable, SKLEARN_FIT, d["csv"], d["split"]], env=sklearn_env(args.sklearn_threads)
            )
            record["sklearn"] = {**json.loads(out.strip().splitlines()[-1]), "wallS": wall, "rusageMB": rss}
            runs.append(record)
    print("bench: the action on Iris", file=sys.stderr)
    action = bench_action(work, args.reps, not args.no_mlflow)
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    info = machine()
    info["sklearnThreads"] = args.sklearn_threads or "default"
    text, summary = report(info, listing, runs, action, load_before, load_after)
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump({"machine": info, "runs": runs, "action": action, "summary": summary}, f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
