#!/usr/bin/env python3
"""Side-by-side benchmark of overcast and moto_server (issue 2's figures).

For each server, in one run on this machine:
  - time from process start to a healthy endpoint (median of rounds),
  - idle RSS after start-up,
  - throughput, p50 and p99 latency of sts:GetCallerIdentity and
    iam:ListUsers under 16 concurrent connections (wrk; median of rounds).
Requests are signed once with botocore (SigV4) and replayed: overcast
verifies each signature (the key is a real IAM key it issued); moto does not
verify signatures at all, which only favours moto.

Usage: bench/bench.py [--rounds N] [--seconds S] [--overcast bin/overcast]
"""
import argparse, http.client, json, os, re, shutil, signal, socket, statistics
import subprocess, sys, tempfile, time

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(port, path, timeout=0.2):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


class Server:
    def __init__(self, name, argv, port, health_path, env=None):
        self.name, self.argv, self.port, self.health_path = name, argv, port, health_path
        self.env = env
        self.proc = None

    def start(self):
        """Starts the server and returns seconds until its endpoint answers."""
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)
        deadline = t0 + 30
        while time.perf_counter() < deadline:
            try:
                if get(self.port, self.health_path) == 200:
                    return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.001)
        raise RuntimeError(f"{self.name} did not become healthy")

    def rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def overcast_server(binary, port, data_dir):
    return Server("overcast", [binary, "up", "--addr", f"127.0.0.1:{port}", "--data-dir", data_dir],
                  port, "/_overcast/health")


def moto(port):
    return Server("moto", ["moto_server", "-p", str(port)], port, "/moto-api/")


def client(service, port, key="test", secret="test", token=None, config=None):
    s = botocore.session.get_session()
    return s.create_client(service, region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{port}",
                           aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token, config=config)


def signed_request(port, service, body, key, secret):
    """A query-protocol POST signed for replay (valid 15 minutes)."""
    url = f"http://127.0.0.1:{port}/"
    req = AWSRequest(method="POST", url=url, data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(key, secret), service, "us-east-1").add_auth(req)
    return req


WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = {body}
{headers}
"""


def run_wrk(port, script, seconds, connections=16, threads=2, keep_output=False):
    """Runs wrk with a Lua script against the server and returns its
    throughput, p50 and p99 latency, and count of non-2xx answers."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                              "--latency", "-s", path, f"http://127.0.0.1:{port}/"],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(path)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def pct(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    res = {"rps": rps, "p50_ms": pct(50), "p99_ms": pct(99), "non2xx": errors}
    if keep_output:
        res["output"] = out  # what the script's done() printed, for its caller to read
    return res


def wrk(port, req, seconds, connections=16):
    headers = "\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in req.headers.items()
                        if k.lower() not in ("content-length", "host"))
    body = req.body.decode() if isinstance(req.body, bytes) else req.body
    return run_wrk(port, WRK_SCRIPT.format(body=json.dumps(body), headers=headers), seconds,
                   connections=connections, threads=min(2, connections))


def load(run, rounds, seconds):
    """Runs a load after a one-second warm-up, rounds times: the median of
    each figure, and every non-2xx answer."""
    run(1)
    runs = [run(seconds) for _ in range(rounds)]
    res = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50_ms", "p99_ms")}
    res["non2xx"] = sum(r["non2xx"] for r in runs)
    return res


def print_load(op, a, b):
    """Prints the table rows of one load, overcast's (a) beside the peer's (b)."""
    print(f"| {op} req/s | {a['rps']:.0f} | {b['rps']:.0f} | {a['rps'] / b['rps']:.1f}x |")
    print(f"| {op} p50 (ms) | {a['p50_ms']:.2f} | {b['p50_ms']:.2f} | {b['p50_ms'] / a['p50_ms']:.1f}x lower |")
    print(f"| {op} p99 (ms) | {a['p99_ms']:.2f} | {b['p99_ms']:.2f} | {b['p99_ms'] / a['p99_ms']:.1f}x lower |")
    if a["non2xx"] or b["non2xx"]:
        print(f"| {op} non-2xx | {a['non2xx']} | {b['non2xx']} | |")


def write_json(path, results):
    if path:
        with open(path, "w") as f:
            json.dump(results, f, indent=2)


def setup(port, users=10):
    """Creates a few users (so ListUsers has work) and a key to sign with."""
    iam = client("iam", port)
    for i in range(users):
        iam.create_user(UserName=f"bench-{i}")
    k = iam.create_access_key(UserName="bench-0")["AccessKey"]
    return k["AccessKeyId"], k["SecretAccessKey"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--overcast", default="bin/overcast")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is needed (apt-get install wrk)")

    results = {}
    tmp = tempfile.mkdtemp()
    try:
        for name in ("overcast", "moto"):
            starts, rsses = [], []
            for i in range(args.rounds):
                port = free_port()
                srv = overcast_server(args.overcast, port, f"{tmp}/start-{i}") if name == "overcast" else moto(port)
                starts.append(srv.start())
                time.sleep(1)
                rsses.append(srv.rss_mb())
                srv.stop()
            port = free_port()
            srv = overcast_server(args.overcast, port, f"{tmp}/load") if name == "overcast" else moto(port)
            srv.start()
            try:
                key, secret = setup(port)
                ops = {
                    "sts:GetCallerIdentity": signed_request(port, "sts", "Action=GetCallerIdentity&Version=2011-06-15", key, secret),
                    "iam:ListUsers": signed_request(port, "iam", "Action=ListUsers&Version=2010-05-08", key, secret),
                }
                loads = {op: load(lambda s: wrk(port, req, s), args.rounds, args.seconds) for op, req in ops.items()}
                rss_loaded = srv.rss_mb()
            finally:
                srv.stop()
            results[name] = {"ready_ms": statistics.median(starts) * 1000, "idle_rss_mb": statistics.median(rsses),
                             "rss_after_load_mb": rss_loaded, "load": loads}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    o, m = results["overcast"], results["moto"]
    print(f"rounds={args.rounds} seconds={args.seconds} connections=16 cpus={os.cpu_count()}")
    print(f"| metric | overcast | moto_server | ratio |")
    print(f"|---|---|---|---|")
    print(f"| ready (ms, median) | {o['ready_ms']:.1f} | {m['ready_ms']:.1f} | {m['ready_ms']/o['ready_ms']:.1f}x faster |")
    print(f"| idle RSS (MB) | {o['idle_rss_mb']:.1f} | {m['idle_rss_mb']:.1f} | {m['idle_rss_mb']/o['idle_rss_mb']:.1f}x smaller |")
    for op in o["load"]:
        print_load(op, o["load"][op], m["load"][op])
    print(f"| RSS after load (MB) | {o['rss_after_load_mb']:.1f} | {m['rss_after_load_mb']:.1f} | |")
    write_json(args.json, results)


if __name__ == "__main__":
    main()
