#!/usr/bin/env python3
"""Drive a whole MedZoo experiment over the automation API with `requests`.

Start a run on the built-in synthetic dataset with a tiny configuration, wait for it to finish,
predict one of its held-out validation subjects (a review), and download the prediction.

    MEDZOO_URL=http://127.0.0.1:5000 MEDZOO_TOKEN=mzt_... python3 examples/automation.py

MEDZOO_TOKEN is a personal API token of an operator (create one on the dashboard's
"API tokens" page, /account/tokens). MEDZOO_OUT names the downloaded file
(default prediction.nii.gz). The API is described at /scalar and /openapi/v1.json.
"""
import os
import sys
import time

import requests

BASE = os.environ.get("MEDZOO_URL", "http://127.0.0.1:5000").rstrip("/")
TOKEN = os.environ.get("MEDZOO_TOKEN") or sys.exit("set MEDZOO_TOKEN to an API token (dashboard: API tokens)")
OUT = os.environ.get("MEDZOO_OUT", "prediction.nii.gz")
POLL_SECONDS = 1.0

session = requests.Session()
session.headers["Authorization"] = f"Bearer {TOKEN}"


def call(method, path, **kwargs):
    """One API request; stops with the server's explanation (ProblemDetails 'detail') when refused."""
    response = session.request(method, BASE + path, timeout=60, **kwargs)
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail") or response.text
        except ValueError:
            detail = response.text
        sys.exit(f"{method} {path} answered {response.status_code}: {detail}")
    return response


def dice(value):
    return "-" if value is None else f"{value:.3f}"


def wait(path, done, describe):
    """Polls GET path until done(resource) holds; prints each new state."""
    last = None
    while True:
        resource = call("GET", path).json()
        line = describe(resource)
        if line != last:
            print(line, flush=True)
            last = line
        if done(resource):
            return resource
        time.sleep(POLL_SECONDS)


# The trainer's options as the New run form edits them (camelCase); anything left out keeps its default.
# A seconds-long smoke test: 5 synthetic phantoms of 24^3, 16^3 patches, a small U-Net, 2 epochs.
config = {
    "model": "UNET3D_CICEK", "baseFilters": 8, "modelDepth": 2, "epochs": 2, "learningRate": 0.01, "seed": 1,
    "dataset": {"name": "synthetic", "syntheticSubjects": 5, "syntheticSize": [24, 24, 24], "seed": 1},
    "sampling": {"patchSize": [16, 16, 16], "batchSize": 2, "samplesTrain": 4, "samplesVal": 2},
    "augmentation": {"enabled": False},
}

run = call("POST", "/api/runs", json={"name": "automation example", "config": config}).json()
print(f"started run {run['id']} ({run['name']})")
finished = {"Completed", "EarlyStopped", "Stopped", "Failed", "Interrupted"}
run = wait(f"/api/runs/{run['id']}", lambda r: r["status"] in finished,
           lambda r: f"run {r['status']}: epoch {r['currentEpoch']}/{r['epochs']}, best mean Dice {dice(r.get('bestMeanDice'))}")
if run["status"] not in ("Completed", "EarlyStopped"):
    sys.exit(f"the run ended {run['status']}: {run.get('reason')}")

kinds = [c["kind"] for c in call("GET", f"/api/runs/{run['id']}/checkpoints").json()]
checkpoint = "best" if "best" in kinds else "last"
subject = call("GET", f"/api/runs/{run['id']}/validation-subjects").json()[0]
review = call("POST", "/api/reviews", json={
    "runId": run["id"], "checkpoint": checkpoint, "source": "Validation", "subjectId": subject}).json()
print(f"started review {review['id']} of {subject} with the {checkpoint} checkpoint")
review = wait(f"/api/reviews/{review['id']}", lambda r: r["status"] in ("Completed", "Failed", "Interrupted"),
              lambda r: f"review {r['status']}: windows {r['windowsDone']}/{r['windowsTotal']}")
if review["status"] != "Completed":
    sys.exit(f"the review ended {review['status']}: {review.get('reason')}")

with open(OUT, "wb") as f:
    f.write(call("GET", f"/api/reviews/{review['id']}/prediction.nii.gz").content)
for m in review["metrics"]:
    print(f"  {m['name']}: Dice {m['dice']:.3f}")
print(f"mean Dice {review['meanDice']:.3f}; prediction written to {OUT}")
