#!/usr/bin/env python3
"""Fault trials of cluster mode (issue 17's figures), TRIALS times each, with what was lost.

Starts a cluster with scripts/cluster.sh (PostgreSQL, Redis, two web nodes, two CPU workers, HAProxy). Each trial
queues a run (a small synthetic U-Net, a checkpoint every epoch) and waits until it has finished EPOCHS_BEFORE epochs
on a worker, while a viewer (a SignalR client of /hubs/training through HAProxy, as the API documents: subscribe,
and after a reconnect read what was missed over HTTP) watches it. Then, by --fault:

  worker    SIGKILL the worker training the run; seconds until the other worker resumes it ("resumed on worker …
            after worker … vanished"), completed epochs retrained; the killed worker is started again.
  web       SIGKILL the web node the viewer is pinned to; seconds until the viewer, reconnected through HAProxy to
            the other node, receives live events again; epochs the viewer never got (live or from history).
  redis     stop Redis for --outage seconds; seconds from its start until the viewer's node receives the worker's
            live events again; epochs that missed the live stream (read from history instead) and epochs lost.
  postgres  stop PostgreSQL for --outage seconds; seconds from its start until the API answers and until the run
            stores its next epoch; epochs lost from the run's history; whether the run completes.

Every trial ends with the run's final status and epochs stored, against the epochs asked for.

    /usr/bin/python3 benchmarks/cluster-faults.py [--fault worker|web|redis|postgres] [--trials 10] [--outage 5] [--output FILE]

Needs Debian's python3-requests and python3-websocket (scripts/prereqs.sh --bench installs them).
"""
import argparse, datetime, json, os, re, subprocess, sys, tempfile, threading, time

try:
    import requests
    import websocket
except ImportError as e:
    sys.exit(f"{e.name} is missing: apt-get install python3-requests python3-websocket (or scripts/prereqs.sh --bench)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "cluster.sh")
SERVERS = os.path.join(ROOT, "scripts", "cluster-servers.sh")
RS = "\x1e"  # SignalR's record separator
PASSWORD = "faults-admin-1"
FINISHED = {"Completed", "EarlyStopped", "Stopped", "Failed", "Interrupted"}
CONFIG = {
    "model": "UNET3D_CICEK", "baseFilters": 8, "modelDepth": 2, "epochs": 8, "learningRate": 0.01, "seed": 1, "threads": 1,
    "dataset": {"name": "synthetic", "syntheticSubjects": 5, "syntheticSize": [32, 32, 32], "seed": 1},
    "sampling": {"patchSize": [16, 16, 16], "batchSize": 2, "samplesTrain": 24, "samplesVal": 2},
    "augmentation": {"enabled": False},
}


def cluster(*args, script=SCRIPT):
    p = subprocess.run(["bash", script, *args], env=dict(os.environ, MEDZOO_ADMIN_PASSWORD=PASSWORD), capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{os.path.basename(script)} {' '.join(args)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
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


def wait(what, condition, seconds, describe=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    sys.exit(f"timed out waiting for {what}" + (f"\n{describe()}" if describe else ""))


def epochs_stored(s, base, rid):
    """Epoch numbers in the run's history (its epoch metric points)."""
    got, after = set(), None
    while True:
        params = {"kind": "epoch", "limit": 5000}
        if after is not None:
            params["afterSeq"] = after
        page = s.get(f"{base}/api/runs/{rid}/metrics", params=params, timeout=30).json()
        got |= {m["epoch"] for m in page["items"]}
        if page.get("next") is None:
            return got
        after = page["next"]


def get_run(s, base, rid):
    try:
        r = s.get(f"{base}/api/runs/{rid}", timeout=10)
        return r.json() if r.status_code == 200 else None
    except requests.RequestException:
        return None


class Viewer:
    """A SignalR client of /hubs/training (JSON protocol over a WebSocket) through the balancer, with the session's
    cookies (sign-in and the balancer's sticky MEDZOO_NODE). It subscribes to one run and records every epoch event
    with its arrival time; when the connection drops it reconnects (every 0.2 s), subscribes again, and reads the
    epochs it missed from /api/runs/{id}/metrics, as README's API section tells clients to."""

    def __init__(self, s, base, rid):
        self.s, self.base, self.rid = s, base, rid
        self.live = {}          # epoch -> arrival (monotonic) of its EpochCompleted
        self.events = []        # (monotonic, target) of every trainer event received live
        self.from_history = set()
        self.reconnects = []    # monotonic times at which a new connection was subscribed
        self.log = []           # (monotonic, what) of connections and their ends, for a failed trial's message
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _connect(self):
        neg = self.s.post(f"{self.base}/hubs/training/negotiate?negotiateVersion=1", timeout=10)
        neg.raise_for_status()
        token = neg.json()["connectionToken"]
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.s.cookies)
        ws = websocket.create_connection(f"{self.base.replace('http', 'ws', 1)}/hubs/training?id={token}",
                                         header=[f"Cookie: {cookie}"], timeout=5)
        ws.send(json.dumps({"protocol": "json", "version": 1}) + RS)
        handshake = ws.recv()
        if json.loads(handshake.split(RS)[0]).get("error"):
            raise RuntimeError(f"handshake refused: {handshake}")
        ws.send(json.dumps({"type": 1, "target": "Subscribe", "arguments": [self.rid], "invocationId": "1"}) + RS)
        return ws

    def _loop(self):
        first = True
        while not self.stopping:
            try:
                ws = self._connect()
            except Exception as e:
                self._note(f"connect failed: {e!r}")
                time.sleep(0.2)
                continue
            with self.lock:
                self.reconnects.append(time.monotonic())
            self._note(f"connected via {self.s.cookies.get('MEDZOO_NODE')}")
            if not first:
                self._fill_from_history()
            first = False
            last_ping = time.monotonic()
            try:
                while not self.stopping:
                    if time.monotonic() - last_ping > 5:  # a client that sends nothing for 30 s is closed by the server
                        ws.send(json.dumps({"type": 6}) + RS)
                        last_ping = time.monotonic()
                    try:
                        data = ws.recv()
                    except websocket.WebSocketTimeoutException:
                        continue
                    if not data:
                        self._note("connection ended")
                        break
                    for frame in data.split(RS):
                        if frame:
                            self._on(json.loads(frame))
            except Exception as e:
                self._note(f"connection dropped: {e!r}")
            finally:
                try:
                    ws.close()
                except Exception:
                    pass

    def _note(self, what):
        with self.lock:
            self.log.append((time.monotonic(), what))
            del self.log[:-50]

    def describe(self, since):
        with self.lock:
            last = self.events[-1][0] - since if self.events else None
            return (f"viewer: {len(self.events)} events, the last {last if last is None else round(last, 1)} s after the fault; "
                    + "; ".join(f"{t - since:+.1f}s {w}" for t, w in self.log))

    def _on(self, m):
        now = time.monotonic()
        if m.get("type") == 7:  # the server closed the connection
            raise ConnectionError(m.get("error"))
        if m.get("type") != 1:
            return
        target, args = m.get("target"), m.get("arguments") or []
        with self.lock:
            if target != "RunStatusChanged":
                self.events.append((now, target))
            if target == "EpochCompleted" and len(args) == 2:
                self.live.setdefault(args[1]["epoch"], now)

    def _fill_from_history(self):
        try:
            stored = epochs_stored(self.s, self.base, self.rid)
        except Exception:
            return
        with self.lock:
            self.from_history |= stored - set(self.live)

    def first_event_after(self, t):
        with self.lock:
            return next((e for e, _ in self.events if e > t), None)

    def seen(self):
        with self.lock:
            return set(self.live) | self.from_history

    def close(self):
        self.stopping = True
        self.thread.join(timeout=10)


def start_trial_run(s, base, n, before, fault):
    rid = s.post(base + "/api/runs", json={"name": f"{fault} trial {n}", "config": CONFIG}, timeout=60).json()["id"]
    viewer = Viewer(s, base, rid)
    wait(f"trial {n} to finish {before} epochs", lambda: (r := get_run(s, base, rid))
         and r["status"] == "Running" and r.get("epochsCompleted", 0) >= before and r, 300)
    return rid, viewer


def finish(s, base, rid, n):
    final = wait(f"trial {n} to end", lambda: (r := get_run(s, base, rid)) and r["status"] in FINISHED and r, 600)
    stored = epochs_stored(s, base, rid)
    return final, stored


def trial_worker(s, base, folder, n, before):
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
            "resumed": resumed["message"], "final_status": final["status"], "final_epochs": final.get("epochsCompleted"),
            "epochs_lost": CONFIG["epochs"] - len(epochs_stored(s, base, rid)) if final["status"] == "Completed" else None}


def trial_web(s, base, folder, n, before):
    rid, viewer = start_trial_run(s, base, n, before, "web")
    try:
        node = s.cookies.get("MEDZOO_NODE")
        if node not in ("web-1", "web-2"):
            sys.exit(f"no sticky cookie from the balancer (got {node!r})")
        killed = time.monotonic()
        cluster("kill-web", folder, node[-1])
        back = wait(f"trial {n}: live events through the other node",
                    lambda: viewer.first_event_after(killed + 0.001) or ((r := get_run(s, base, rid)) and r["status"] in FINISHED and -1), 120,
                    lambda: viewer.describe(killed))
        if back == -1:
            sys.exit(f"trial {n}: the run ended before the viewer was back: use more --epochs")
        cluster("start-web", folder, node[-1])
        final, stored = finish(s, base, rid, n)
        time.sleep(0.5)
        missed = sorted(stored - viewer.seen())
        return {"trial": n, "killed": node, "now_on": s.cookies.get("MEDZOO_NODE"),
                "seconds_to_live_again": round(back - killed, 2), "reconnects": len(viewer.reconnects) - 1,
                "epochs_from_history": sorted(viewer.from_history), "epochs_viewer_never_got": missed,
                "final_status": final["status"], "epochs_stored": len(stored), "epochs_lost": CONFIG["epochs"] - len(stored)}
    finally:
        viewer.close()


def trial_outage(s, base, folder, n, before, server, outage):
    rid, viewer = start_trial_run(s, base, n, before, server)
    try:
        servers = os.path.join(folder, "servers")
        at_stop = get_run(s, base, rid)["epochsCompleted"]
        cluster(f"stop-{server}", servers, script=SERVERS)
        stopped = time.monotonic()
        time.sleep(outage)
        cluster(f"start-{server}", servers, script=SERVERS)
        started = time.monotonic()
        result = {"trial": n, "outage_seconds": round(started - stopped, 1), "epochs_at_stop": at_stop}
        if server == "redis":
            back = wait(f"trial {n}: live events after Redis is back",
                        lambda: viewer.first_event_after(started) or ((r := get_run(s, base, rid)) and r["status"] in FINISHED and -1), 120,
                        lambda: viewer.describe(started))
            if back == -1:
                sys.exit(f"trial {n}: the run ended during the outage: use more --epochs")
            result["seconds_to_live_again"] = round(back - started, 2)
        else:
            api = wait(f"trial {n}: the API after PostgreSQL is back", lambda: get_run(s, base, rid) and time.monotonic(), 120)
            result["seconds_to_api_again"] = round(api - started, 2)
            later = wait(f"trial {n}: an epoch stored after PostgreSQL is back",
                         lambda: (r := get_run(s, base, rid)) and (r["epochsCompleted"] > at_stop or r["status"] in FINISHED) and time.monotonic(), 300)
            result["seconds_to_next_epoch_stored"] = round(later - started, 2)
        final, stored = finish(s, base, rid, n)
        time.sleep(0.5)
        live = set(viewer.live)
        result.update({"epochs_missed_live": sorted(stored - live), "final_status": final["status"],
                       "epochs_stored": len(stored), "epochs_lost": CONFIG["epochs"] - len(stored)})
        return result
    finally:
        viewer.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fault", choices=["worker", "web", "redis", "postgres"], default="worker")
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--outage", type=float, default=5.0, help="seconds a stopped server stays down (redis, postgres)")
    ap.add_argument("--epochs-before", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=None, help="epochs of each trial's run (default 8 for worker kills, else 20)")
    ap.add_argument("--port", type=int, default=5093)
    ap.add_argument("--output", default=None)
    ap.add_argument("--keep", action="store_true", help="stop the cluster but keep its folder (logs) at the end")
    a = ap.parse_args()
    CONFIG["epochs"] = a.epochs or (8 if a.fault == "worker" else 20)
    if a.trials < 1 or not 1 <= a.epochs_before < CONFIG["epochs"] or a.outage < 0:
        sys.exit(f"--trials at least 1, --epochs-before 1 to {CONFIG['epochs'] - 1}, --outage at least 0")
    folder = tempfile.mkdtemp(prefix="medzoo-faults-")
    cluster("start", folder, "--web", "2", "--workers", "2", "--port", str(a.port))
    results = []
    try:
        base = f"http://127.0.0.1:{a.port}"
        s = sign_in(base)
        for n in range(1, a.trials + 1):
            if a.fault == "worker":
                r = trial_worker(s, base, folder, n, a.epochs_before)
            elif a.fault == "web":
                r = trial_web(s, base, folder, n, a.epochs_before)
            else:
                r = trial_outage(s, base, folder, n, a.epochs_before, a.fault, a.outage)
            print(json.dumps(r), flush=True)
            results.append(r)
    finally:
        cluster("stop" if a.keep else "remove", folder)
        if a.keep:
            print(f"cluster folder kept: {folder}", file=sys.stderr)
    summary = {"fault": a.fault, "trials": len(results), "completed": sum(r["final_status"] == "Completed" for r in results),
               "epochs_lost_max": max((r["epochs_lost"] or 0) for r in results)}
    for key in ("seconds_to_resume", "seconds_to_live_again", "seconds_to_api_again", "seconds_to_next_epoch_stored"):
        values = sorted(r[key] for r in results if key in r)
        if values:
            summary[key] = {"median": values[len(values) // 2], "max": values[-1]}
    if a.fault == "worker":
        summary["completed_epochs_retrained_max"] = max(r["completed_epochs_retrained"] for r in results)
    if a.fault == "web":
        summary["epochs_viewer_never_got_max"] = max(len(r["epochs_viewer_never_got"]) for r in results)
    print(json.dumps(summary))
    if a.output:
        with open(a.output, "w") as f:
            json.dump({"cpu": cpu_model(), "cpu_count": os.cpu_count(), "outage_seconds": a.outage if a.fault in ("redis", "postgres") else None,
                       "config": CONFIG, "summary": summary, "trials": results}, f, indent=2)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), None)
    except OSError:
        return None


if __name__ == "__main__":
    main()
