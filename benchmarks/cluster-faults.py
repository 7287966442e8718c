#!/usr/bin/env python3
"""Worker-kill trials (issue 17's fault figures): SIGKILL the worker training a run, mid-run, TRIALS times.

Starts a cluster with scripts/cluster.sh (PostgreSQL, Redis, one web node, two CPU workers, HAProxy). Each trial
queues a run (a small synthetic U-Net, a checkpoint every epoch), waits until it has finished EPOCHS_BEFORE epochs on
a worker, SIGKILLs that worker, waits until the other worker resumes the run, starts the killed one again (so the
next trial has two workers again), and waits for the run to finish. It reports,
per trial: seconds from the kill to the run's "resumed on worker … after worker … vanished" line, completed epochs
retrained (completed before the kill minus the checkpoint it resumed from), and the final status.

    /usr/bin/python3 benchmarks/cluster-faults.py [--trials 10] [--output FILE]
"""
import argparse, datetime, json, os, re, subprocess, sys, tempfile, time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "cluster.sh")
PASSWORD = "faults-admin-1"
FINISHED = {"Completed", "EarlyStopped", "Stopped", "Failed", "Interrupted"}
CONFIG = {
    "model": "UNET3D_CICEK", "baseFilters": 8, "modelDepth": 2, "epochs": 8, "learningRate": 0.01, "seed": 1, "threads": 1,
    "dataset": {"name": "synthetic", "syntheticSubjects": 5, "syntheticSize": [32, 32, 32], "seed": 1},
    "sampling": {"patchSize": [16, 16, 16], "batchSize": 2, "samplesTrain": 24, "samplesVal": 2},
    "augmentation": {"enabled": False},
}


def cluster(*args):
    p = subprocess.run(["bash", SCRIPT, *args], env=dict(os.environ, MEDZOO_ADMIN_PASSWORD=PASSWORD), capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"cluster.sh {' '.join(args)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return p.stdout


def sign_in(base):
    s = requests.Session()
    token = re.search(r'name="__RequestVerificationToken" value="([^"]+)"', s.get(base + "/account/signin", timeout=30).text).group(1)
    r = s.post(base + "/account/signin", allow_redirects=False, timeout=30,
               data={"__RequestVerificationToken": token, "ReturnUrl": "/", "UserName": "admin", "Password": PASSWORD})
    if r.status_code != 302:
        sys.exit(f"sign-in failed: {r.status_code}")
    return s


def events(s, base, rid):
    items, after = [], None
    while True:
        page = s.get(f"{base}/api/runs/{rid}/events", params={"afterSeq": after} if after is not None else {}, timeout=30).json()
        items += page["items"]
        if page.get("next") is None:
            return items
        after = page["next"]


def wait(what, condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    sys.exit(f"timed out waiting for {what}")


def trial(s, base, folder, n, before):
    rid = s.post(base + "/api/runs", json={"name": f"fault trial {n}", "config": CONFIG}, timeout=60).json()["id"]
    run = wait(f"trial {n} to finish {before} epochs", lambda: (r := s.get(f"{base}/api/runs/{rid}", timeout=30).json())
               and r["status"] == "Running" and r.get("epochsCompleted", 0) >= before and r, 300)
    owner = [e["message"] for e in events(s, base, rid) if e["message"].startswith("running on worker ")][-1]
    worker = re.match(r"running on worker worker-(\d+)", owner).group(1)
    epochs_at_kill = s.get(f"{base}/api/runs/{rid}", timeout=30).json()["epochsCompleted"]
    killed_at = datetime.datetime.now(datetime.timezone.utc)
    cluster("kill-worker", folder, worker)
    resumed = wait(f"trial {n} to resume", lambda: next((e for e in events(s, base, rid) if "vanished" in e["message"]), None), 300)
    cluster("start-worker", folder, worker)  # back to two workers for the next trial, after the other one took over
    final = wait(f"trial {n} to end", lambda: (r := s.get(f"{base}/api/runs/{rid}", timeout=30).json())["status"] in FINISHED and r, 600)
    starts = [int(m.group(1)) for e in events(s, base, rid) if e["kind"] == "started" and (m := re.search(r"epochs (\d+)\.\.", e["message"]))]
    resumed_from = starts[-1] - 1 if len(starts) >= 2 else 0
    took = (datetime.datetime.fromisoformat(resumed["time"].replace("Z", "+00:00")) - killed_at).total_seconds()
    return {"trial": n, "killed_worker": f"worker-{worker}", "epochs_at_kill": epochs_at_kill, "resumed_from_epoch": resumed_from,
            "completed_epochs_retrained": max(0, epochs_at_kill - resumed_from), "seconds_to_resume": round(took, 1),
            "resumed": resumed["message"], "final_status": final["status"], "final_epochs": final.get("epochsCompleted")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--epochs-before", type=int, default=2)
    ap.add_argument("--port", type=int, default=5093)
    ap.add_argument("--output", default=None)
    a = ap.parse_args()
    if a.trials < 1 or not 1 <= a.epochs_before < CONFIG["epochs"]:
        sys.exit(f"--trials at least 1, --epochs-before 1 to {CONFIG['epochs'] - 1}")
    folder = tempfile.mkdtemp(prefix="medzoo-faults-")
    cluster("start", folder, "--web", "1", "--workers", "2", "--port", str(a.port))
    try:
        base = f"http://127.0.0.1:{a.port}"
        s = sign_in(base)
        results = []
        for n in range(1, a.trials + 1):
            r = trial(s, base, folder, n, a.epochs_before)
            print(json.dumps(r), flush=True)
            results.append(r)
    finally:
        cluster("remove", folder)
    secs = sorted(r["seconds_to_resume"] for r in results)
    summary = {"trials": len(results), "completed": sum(r["final_status"] == "Completed" for r in results),
               "seconds_to_resume_median": secs[len(secs) // 2], "seconds_to_resume_max": secs[-1],
               "completed_epochs_retrained_max": max(r["completed_epochs_retrained"] for r in results)}
    print(json.dumps(summary))
    if a.output:
        with open(a.output, "w") as f:
            json.dump({"cpu_count": os.cpu_count(), "summary": summary, "trials": results}, f, indent=2)


if __name__ == "__main__":
    main()
