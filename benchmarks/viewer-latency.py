#!/usr/bin/env python3
"""Viewer latency, event to browser (issue 17's figure), in embedded mode and in cluster mode.

Measures, for the StepCompleted and EpochCompleted events of real smoke-test runs, the time from the moment the
trainer created the event (its `time` field, DateTimeOffset.UtcNow on the training thread) to the moment JavaScript in
a real browser page (headless Debian chromium) received it from the dashboard's SignalR hub `/hubs/training`. Both
clocks are this machine's real-time clock (the server process and the browser run on the same machine), so the two
timestamps can be subtracted; the browser's is performance.timeOrigin + performance.now() (sub-millisecond), checked
against Date.now().

  embedded: one `medzoo serve` process (LiteDB, the trainer in the web process); the page is on that process.
  cluster:  scripts/cluster.sh with two web nodes, one CPU worker and HAProxy; runs are queued through web node 1,
            trained by the worker, and the pages are on web node 2 behind HAProxy (its sticky cookie pins them): the
            event goes worker -> Redis backplane -> web node 2 -> HAProxy -> browser.

Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe), no extra Python package: each
viewer is its own tab on the dashboard's origin, signed in with the dashboard's cookie, whose page script speaks
SignalR's JSON protocol over the browser's own WebSocket (no negotiate round trip; the same messages the .NET and
JavaScript clients send). Each viewer count (--viewers, default 1 10) watches --runs runs one after another. Viewers
subscribe to a run one after another as soon as it is queued, and the run may already train meanwhile: only events
emitted after the last viewer subscribed are counted, and "missed" counts those a viewer did not receive.

    /usr/bin/python3 benchmarks/viewer-latency.py [--modes embedded cluster] [--viewers 1 10] [--runs 3]
        [--epochs 20] [--threads 1] [--hub-step-interval 00:00:00.1] [--output FILE]

The hub thins steps to one per MedZoo:Live:HubStepInterval (100 ms by default) per run; a step held back goes out just
before the run's next other event, so step latencies include that wait. --hub-step-interval 0 sends every step.
Needs what scripts/prereqs.sh installs (chromium, postgresql, redis-server, haproxy, python3-requests) and a built
MedZoo.Web (Release). Quote the figures with the CPU and the load: the server, worker and browser share its cores.
"""
import argparse, datetime, fcntl, json, os, platform, re, shutil, signal, subprocess, sys, tempfile, threading, time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLUSTER = os.path.join(ROOT, "scripts", "cluster.sh")
MEDZOO = os.environ.get("MEDZOO_DLL", os.path.join(ROOT, "MedZoo.Web", "bin", "Release", "net10.0", "medzoo.dll"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PASSWORD = "latency-admin-1"
FINISHED = {"Completed", "EarlyStopped", "Stopped", "Failed", "Interrupted"}
# The smoke-test preset (TrainerRunExecutor.Smoke, as in cluster-throughput.py) with more epochs, so that a run gives
# enough events to measure: 5 phantoms of 24^3, 16^3 patches, a small U-Net, 2 steps per epoch.
SMOKE = {
    "model": "UNET3D_CICEK", "baseFilters": 8, "modelDepth": 2, "epochs": 2, "learningRate": 0.01, "seed": 1,
    "dataset": {"name": "synthetic", "syntheticSubjects": 5, "syntheticSize": [24, 24, 24], "seed": 1},
    "sampling": {"patchSize": [16, 16, 16], "batchSize": 2, "samplesTrain": 4, "samplesVal": 2},
    "augmentation": {"enabled": False},
}

# The viewer: SignalR's JSON hub protocol over the page's WebSocket. Records, for every StepCompleted and
# EpochCompleted, the event's own time (a string, parsed in Python to keep its 100 ns digits) and the receipt time.
VIEWER_JS = r"""
(runId) => {
  const RS = '\u001e', st = window.__lat = { received: [], done: false, error: null, subscribed: false, ticks: [] };
  const url = location.origin.replace(/^http/, 'ws') + '/hubs/training';
  const ws = new WebSocket(url);
  let ping = null;
  const send = m => ws.send(JSON.stringify(m) + RS);
  ws.onopen = () => { ws.send(JSON.stringify({ protocol: 'json', version: 1 }) + RS); ping = setInterval(() => send({ type: 6 }), 10000); };
  ws.onerror = () => { st.error = st.error || 'websocket error'; };
  ws.onclose = e => { if (!st.done) st.error = st.error || ('websocket closed: ' + e.code + ' ' + e.reason); clearInterval(ping); };
  let handshaken = false;
  ws.onmessage = msg => {
    const at = performance.timeOrigin + performance.now(), wall = Date.now();
    for (const part of msg.data.split(RS)) {
      if (!part) continue;
      const m = JSON.parse(part);
      if (!handshaken) {
        handshaken = true;
        if (m.error) { st.error = 'handshake: ' + m.error; return; }
        send({ type: 1, invocationId: '1', target: 'Subscribe', arguments: [runId] });
        continue;
      }
      if (m.type === 3 && m.invocationId === '1') { if (m.error) st.error = 'Subscribe: ' + m.error; else { st.subscribed = true; st.subscribedAt = at; } continue; }
      if (m.type === 7) { st.error = 'server closed: ' + (m.error || ''); continue; }
      if (m.type !== 1) continue;
      if (m.target === 'StepCompleted' || m.target === 'EpochCompleted') {
        const e = m.arguments[1];
        st.received.push([m.target, m.arguments[0], e.time, at, wall]);
      } else if (m.target === 'RunFinished') { st.done = true; clearInterval(ping); ws.close(); }
    }
  };
  return true;
}
"""


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def free_port():
    # Outside the ephemeral range (scripts/free-port.py says why): no client takes it before the server binds it.
    return int(subprocess.check_output([sys.executable, os.path.join(ROOT, "scripts", "free-port.py")], text=True))


def wait(what, condition, seconds, every=0.1):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    sys.exit(f"timed out after {seconds} s waiting for {what}")


class Chromium:
    """Headless chromium driven over the DevTools protocol on a pipe (fd 3: commands in, fd 4: replies out, NUL-separated)."""

    def __init__(self, profile):
        to_chrome_r, self._out = os.pipe()
        self._in, from_chrome_w = os.pipe()
        # Keep the child's ends above 4, so that dup2 onto 3 and 4 never clobbers one of them.
        child_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_chrome_r)
        os.close(from_chrome_w)

        def fds():
            os.dup2(child_r, 3)
            os.dup2(child_w, 4)

        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
                # Every viewer tab is in the background but one; a real viewer's tab in front is not throttled.
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows", f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"]
        self.proc = subprocess.Popen(args, preexec_fn=fds, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(child_r)
        os.close(child_w)
        self._next = 0
        self._replies, self._lock, self._cv = {}, threading.Lock(), threading.Condition(threading.Lock())
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buf = b""
        while True:
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                with self._cv:
                    self._replies[None] = "chromium closed its DevTools pipe"
                    self._cv.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                m = json.loads(raw)
                if "id" in m:
                    with self._cv:
                        self._replies[m["id"]] = m
                        self._cv.notify_all()

    def call(self, method, params=None, session=None, timeout=60):
        with self._lock:
            self._next += 1
            mid = self._next
            m = {"id": mid, "method": method, "params": params or {}}
            if session:
                m["sessionId"] = session
            os.write(self._out, json.dumps(m).encode() + b"\0")
        with self._cv:
            if not self._cv.wait_for(lambda: mid in self._replies or None in self._replies, timeout):
                sys.exit(f"chromium did not answer {method} in {timeout} s")
            if mid not in self._replies:
                sys.exit(self._replies[None])
            reply = self._replies.pop(mid)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def tab(self):
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        return self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def evaluate(self, session, expression, await_promise=False):
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": await_promise}, session)
        if "exceptionDetails" in r:
            raise RuntimeError(f"page script failed: {r['exceptionDetails'].get('exception', {}).get('description') or r['exceptionDetails']}")
        return r["result"].get("value")

    def open(self, session, url):
        self.call("Page.navigate", {"url": url}, session)
        wait(f"{url} to load", lambda: self.evaluate(session, "location.href.startsWith('http') && document.readyState === 'complete'"), 60)

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except (SystemExit, RuntimeError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def sign_in_requests(base, node_cookie=None):
    s = requests.Session()
    if node_cookie:
        s.cookies.set("MEDZOO_NODE", node_cookie, domain="127.0.0.1", path="/")
    token = re.search(r'name="__RequestVerificationToken" value="([^"]+)"', s.get(base + "/account/signin", timeout=30).text).group(1)
    r = s.post(base + "/account/signin", allow_redirects=False, timeout=30,
               data={"__RequestVerificationToken": token, "ReturnUrl": "/", "UserName": "admin", "Password": PASSWORD})
    if r.status_code != 302 or r.headers.get("location") != "/":
        sys.exit(f"sign-in failed: {r.status_code} {r.headers.get('location')}")
    return s


SIGN_IN_JS = """
(async () => {
  const f = document.querySelector('form');
  const data = new FormData(f);
  data.set('UserName', 'admin'); data.set('Password', %s); data.set('ReturnUrl', '/');
  const r = await fetch('/account/signin', { method: 'POST', body: new URLSearchParams(data), redirect: 'manual' });
  const check = await fetch('/api/runs?limit=1');
  return check.status;
})()
"""


def sign_in_browser(chrome, session, base):
    chrome.open(session, base + "/account/signin")
    status = chrome.evaluate(session, SIGN_IN_JS % json.dumps(PASSWORD), await_promise=True)
    if status != 200:
        sys.exit(f"the browser could not sign in: GET /api/runs answered {status} after the sign-in form")


def percentile(sorted_values, p):
    # Nearest rank, as the dashboard's and the other benchmarks' percentiles.
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def summary(ms):
    v = sorted(ms)
    return {"count": len(v), "p50_ms": r3(percentile(v, 50)), "p99_ms": r3(percentile(v, 99)), "max_ms": r3(v[-1] if v else None),
            "min_ms": r3(v[0] if v else None)}


def r3(x):
    return None if x is None else round(x, 3)


def parse_time(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000.0


def watch_runs(chrome, tabs, api, base, runs, epochs, threads):
    """Each tab subscribes to each run in turn; returns the latencies in ms by event kind, and checks."""
    latencies = {"StepCompleted": [], "EpochCompleted": []}
    clock_gaps = []
    per_run = []
    for i in range(runs):
        r = api.post(base + "/api/runs", json={"name": f"latency {i + 1}/{runs}", "config": dict(SMOKE, epochs=epochs, threads=threads)}, timeout=60)
        if r.status_code != 201:
            sys.exit(f"POST /api/runs answered {r.status_code}: {r.text}")
        rid = r.json()["id"]
        for t in tabs:
            chrome.evaluate(t, f"({VIEWER_JS})({json.dumps(rid)})")
        for t in tabs:
            wait("viewers to subscribe", lambda: chrome.evaluate(t, "window.__lat.subscribed || window.__lat.error"), 60, 0.05)
        status = wait(f"run {rid} to finish", lambda: (s := api.get(f"{base}/api/runs/{rid}", timeout=30).json()["status"]) in FINISHED and s, 900, 0.5)
        if status != "Completed":
            info = api.get(f"{base}/api/runs/{rid}", timeout=30).json()
            sys.exit(f"run {rid} ended {status}, not Completed: {info.get('reason')}")
        steps_emitted = len(metrics(api, base, rid, "step"))
        states = []
        for t in tabs:
            st = wait("the viewer to receive RunFinished", lambda: (v := chrome.evaluate(t, "window.__lat")) and (v["done"] or v["error"]) and v, 60, 0.1)
            if st["error"]:
                sys.exit(f"a viewer failed: {st['error']}")
            states.append(st)
        # Viewers subscribe one after another while the run may already train: only events emitted once every viewer
        # had subscribed count, so that each viewer could have received each of them.
        cutoff = max(st["subscribedAt"] for st in states)
        counted = [[e for e in st["received"] if parse_time(e[2]) > cutoff] for st in states]
        expected = set((e[0], e[1]) for c in counted for e in c)
        missed = [len(expected - set((e[0], e[1]) for e in c)) for c in counted]
        for c in counted:
            for kind, _seq, at, recv, wall in c:
                latencies[kind].append(recv - parse_time(at))
                clock_gaps.append(abs(recv - wall))
        per_run.append({"run": rid, "steps_emitted": steps_emitted, "epochs": epochs,
                        "events_before_last_subscription": sum(len(st["received"]) for st in states) - sum(len(c) for c in counted),
                        "counted_per_viewer": [len(c) for c in counted], "missed_per_viewer": missed})
    return latencies, sorted(clock_gaps), per_run


def metrics(api, base, rid, kind):
    items, after = [], None
    while True:
        page = api.get(f"{base}/api/runs/{rid}/metrics", params={"kind": kind, **({"afterSeq": after} if after is not None else {})}, timeout=30).json()
        items += page["items"]
        if page.get("next") is None:
            return items
        after = page["next"]


def measure(mode, viewer_counts, runs, epochs, threads, interval):
    folder = tempfile.mkdtemp(prefix=f"medzoo-latency-{mode}-")
    env = dict(os.environ, MEDZOO_ADMIN_PASSWORD=PASSWORD, MedZoo__Admin__UserName="admin", MedZoo__Admin__Password=PASSWORD,
               DOTNET_NOLOGO="1")
    if interval is not None:
        env["MedZoo__Live__HubStepInterval"] = interval
    server = None
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        if mode == "embedded":
            log = open(os.path.join(folder, "server.log"), "w")
            server = subprocess.Popen(["dotnet", MEDZOO, "serve", "--urls", base], env=dict(env, MedZoo__DataDirectory=os.path.join(folder, "data")),
                                      stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

            def up():
                if server.poll() is not None:
                    sys.exit(f"medzoo serve exited with {server.returncode} (log: {folder}/server.log)")
                try:
                    return requests.get(base + "/account/signin", timeout=2).status_code == 200
                except requests.RequestException:
                    return False

            wait("medzoo serve to answer", up, 180, 0.2)
            api, viewer_node = sign_in_requests(base), None
        else:
            p = subprocess.run(["bash", CLUSTER, "start", os.path.join(folder, "cluster"), "--web", "2", "--workers", "1", "--port", str(port)],
                               env=env, capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit(f"cluster.sh start failed ({p.returncode}):\n{p.stdout}{p.stderr}")
            api, viewer_node = sign_in_requests(base, "web-1"), "web-2"
        results = []
        for n in viewer_counts:
            profile = tempfile.mkdtemp(prefix="medzoo-latency-chromium-")
            chrome = Chromium(profile)
            try:
                tabs = [chrome.tab() for _ in range(n)]
                if viewer_node:
                    chrome.call("Storage.setCookies", {"cookies": [{"name": "MEDZOO_NODE", "value": viewer_node, "domain": "127.0.0.1", "path": "/"}]})
                sign_in_browser(chrome, tabs[0], base)
                for t in tabs[1:]:
                    chrome.open(t, base + "/account/signin")
                if viewer_node:
                    # The pages must really be on the other node: HAProxy pins them by the cookie it would have set.
                    cookies = chrome.call("Storage.getCookies")["cookies"]
                    node = next((c["value"] for c in cookies if c["name"] == "MEDZOO_NODE"), None)
                    if node != viewer_node:
                        sys.exit(f"the viewers' pages are on {node}, not {viewer_node}")
                lat, gap, per_run = watch_runs(chrome, tabs, api, base, runs, epochs, threads)
            finally:
                chrome.close()
                shutil.rmtree(profile, ignore_errors=True)
            results.append({"mode": mode, "viewers": n, "runs": runs, "steps": summary(lat["StepCompleted"]),
                            "epochs": summary(lat["EpochCompleted"]), "missed": sum(sum(p["missed_per_viewer"]) for p in per_run),
                            "clock_check_ms": {"p50": r3(percentile(gap, 50)), "max": r3(gap[-1] if gap else None),
                                               "what": "|performance.timeOrigin + performance.now() - Date.now()| at each receipt"}, "per_run": per_run, "load_after": round(os.getloadavg()[0], 2)})
            print(f"  {mode}, {n} viewer(s): steps {results[-1]['steps']}, epochs {results[-1]['epochs']}", flush=True)
        return results
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        if mode == "cluster":
            subprocess.run(["bash", CLUSTER, "remove", os.path.join(folder, "cluster")], env=env, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--modes", nargs="+", choices=["embedded", "cluster"], default=["embedded", "cluster"])
    ap.add_argument("--viewers", type=int, nargs="+", default=[1, 10])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--hub-step-interval", default=None, help="MedZoo:Live:HubStepInterval for the web nodes (default: theirs, 00:00:00.1)")
    ap.add_argument("--output", default=None)
    a = ap.parse_args()
    if a.runs < 1 or a.epochs < 1 or a.threads < 0 or any(v < 1 or v > 50 for v in a.viewers):
        sys.exit("--runs and --epochs must be at least 1, --threads at least 0, every --viewers value 1 to 50")
    if not os.path.isfile(MEDZOO):
        sys.exit(f"{MEDZOO} does not exist: build first (dotnet build MedZoo.Web -c Release)")
    if not os.access(CHROMIUM, os.X_OK):
        sys.exit(f"{CHROMIUM} is not there: apt-get install chromium (scripts/prereqs.sh)")
    load_before = round(os.getloadavg()[0], 2)
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    results = []
    for mode in a.modes:
        print(f"{mode}:", flush=True)
        results += measure(mode, a.viewers, a.runs, a.epochs, a.threads, a.hub_step_interval)
    report = {"cpu": cpu_model(), "cores": os.cpu_count(), "started": started, "load_before": load_before,
              "command": " ".join(["/usr/bin/python3", "benchmarks/viewer-latency.py"] + sys.argv[1:]),
              "run_config": dict(SMOKE, epochs=a.epochs, threads=a.threads), "hub_step_interval": a.hub_step_interval or "00:00:00.1 (default)",
              "clock": "event time = DateTimeOffset.UtcNow on the trainer's thread; receipt = performance.timeOrigin + performance.now() in the "
                       "page; same machine, same real-time clock", "results": results}
    print(f"CPU: {report['cpu']}, {report['cores']} cores, load average before {load_before}")
    print("| mode | viewers | event | count | p50 ms | p99 ms | max ms | missed (all kinds) | load after |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        for kind in ("steps", "epochs"):
            s = r[kind]
            print(f"| {r['mode']} | {r['viewers']} | {kind} | {s['count']} | {s['p50_ms']} | {s['p99_ms']} | {s['max_ms']} | {r['missed']} | {r['load_after']} |")
    if a.output:
        with open(a.output, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
