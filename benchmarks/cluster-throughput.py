#!/usr/bin/env python3
"""Runs per hour of a queue of smoke-test runs on 1 vs 2 cluster workers (issue 17's throughput figure).

For each worker count it starts a whole cluster with scripts/cluster.sh (PostgreSQL, Redis, one web node, N CPU
workers, HAProxy), signs in through the balancer, queues RUNS smoke-test runs at once through the HTTP API, waits
until every one has finished, and times first queueing to last finish. Prints a table and writes a JSON file.

    /usr/bin/python3 benchmarks/cluster-throughput.py [--runs 40] [--workers 1 2] [--threads T] [--output FILE]

--threads sets each run's CPU threads (the trainer's "threads" option; 0 = libtorch's default, every core).
Workers sharing one machine's cores should divide them: two workers that each use every core spin against each other.

Needs what scripts/prereqs.sh installs (postgresql, redis-server, haproxy, python3-requests) and a built
MedZoo.Web (Release). Say the CPU when you quote the figure: on one machine the workers share its cores.
"""
import argparse, json, os, platform, re, subprocess, sys, tempfile, time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "cluster.sh")
PASSWORD = "throughput-admin-1"
FINISHED = {"Completed", "EarlyStopped", "Stopped", "Failed", "Interrupted"}
# The smoke-test preset (TrainerRunExecutor.Smoke): 5 phantoms of 24^3, 16^3 patches, a small U-Net, 2 epochs.
SMOKE = {
    "model": "UNET3D_CICEK", "baseFilters": 8, "modelDepth": 2, "epochs": 2, "learningRate": 0.01, "seed": 1,
    "dataset": {"name": "synthetic", "syntheticSubjects": 5, "syntheticSize": [24, 24, 24], "seed": 1},
    "sampling": {"patchSize": [16, 16, 16], "batchSize": 2, "samplesTrain": 4, "samplesVal": 2},
    "augmentation": {"enabled": False},
}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cluster(*args):
    env = dict(os.environ, MEDZOO_ADMIN_PASSWORD=PASSWORD)
    p = subprocess.run(["bash", SCRIPT, *args], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"cluster.sh {' '.join(args)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return p.stdout


def sign_in(base):
    s = requests.Session()
    html = s.get(base + "/account/signin", timeout=30).text
    token = re.search(r'name="__RequestVerificationToken" value="([^"]+)"', html).group(1)
    r = s.post(base + "/account/signin", allow_redirects=False, timeout=30,
               data={"__RequestVerificationToken": token, "ReturnUrl": "/", "UserName": "admin", "Password": PASSWORD})
    if r.status_code != 302 or r.headers.get("location") != "/":
        sys.exit(f"sign-in failed: {r.status_code} {r.headers.get('location')}")
    return s


def measure(workers, runs, port, threads):
    folder = tempfile.mkdtemp(prefix="medzoo-throughput-")
    cluster("start", folder, "--web", "1", "--workers", str(workers), "--port", str(port))
    try:
        base = f"http://127.0.0.1:{port}"
        s = sign_in(base)
        started = time.monotonic()
        ids = []
        for i in range(runs):
            r = s.post(base + "/api/runs", json={"name": f"throughput {i + 1}/{runs}", "config": dict(SMOKE, threads=threads)}, timeout=60)
            if r.status_code != 201:
                sys.exit(f"POST /api/runs answered {r.status_code}: {r.text}")
            ids.append(r.json()["id"])
        pending, outcomes = set(ids), {}
        deadline = time.monotonic() + 3600
        while pending:
            if time.monotonic() > deadline:
                sys.exit(f"{len(pending)} runs still unfinished after an hour")
            for rid in list(pending):
                status = s.get(f"{base}/api/runs/{rid}", timeout=30).json()["status"]
                if status in FINISHED:
                    pending.discard(rid)
                    outcomes[status] = outcomes.get(status, 0) + 1
            time.sleep(0.5)
        seconds = time.monotonic() - started
        return {"workers": workers, "threads_per_run": threads, "runs": runs, "seconds": round(seconds, 1),
                "runs_per_hour": round(runs * 3600 / seconds, 1), "outcomes": outcomes}
    finally:
        cluster("remove", folder)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--port", type=int, default=5091)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--output", default=None)
    a = ap.parse_args()
    if a.runs < 1 or any(w < 1 for w in a.workers) or a.threads < 0:
        sys.exit("--runs and every --workers value must be at least 1, --threads at least 0")
    results = [measure(w, a.runs, a.port, a.threads) for w in a.workers]
    report = {"cpu": cpu_model(), "cores": os.cpu_count(), "load_before": os.getloadavg()[0], "results": results}
    if len(results) >= 2:
        report["throughput_ratio"] = round(results[-1]["runs_per_hour"] / results[0]["runs_per_hour"], 2)
    print(f"CPU: {report['cpu']}, {report['cores']} cores")
    print("| workers | threads per run | runs | seconds | runs/hour | outcomes |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['workers']} | {r['threads_per_run'] or 'all'} | {r['runs']} | {r['seconds']} | {r['runs_per_hour']} | {r['outcomes']} |")
    if "throughput_ratio" in report:
        print(f"throughput ratio ({results[-1]['workers']} vs {results[0]['workers']} workers): {report['throughput_ratio']}")
    if a.output:
        with open(a.output, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
