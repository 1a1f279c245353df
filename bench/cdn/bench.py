#!/usr/bin/env python3
"""Cache hits of the CloudFront edge against nginx proxy_cache and Varnish.

One origin (edged -origin) serves /1k and /100k with max-age=3600; the edge
(edged, package edge alone), nginx (proxy_cache) and varnishd (malloc) each
sit in front of it. Per round and server: warm the object, then wrk -t2 -c64
for --seconds; server CPU time per request comes from /proc/<pid>/stat
(utime+stime of the server's processes), the primary metric; requests/s
and p99 are secondary (wrk shares the two CPUs). Medians over --rounds,
servers interleaved within each round.

Usage: bench/cdn/bench.py [--rounds 3] [--seconds 5]
"""
import argparse, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HZ = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]


def wait_http(url, headers=None, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            req = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(req, timeout=1) as r:
                r.read()
                return r.headers
        except Exception:
            time.sleep(0.05)
    raise RuntimeError("no answer from " + url)


def tree(pid):
    """pid and its descendants."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return pids


def cpu_ticks(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total


def wrk(url, seconds, host=None):
    cmd = ["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", url]
    if host:
        cmd[1:1] = ["-H", f"Host: {host}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    return reqs, rps, p99


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="cdn-bench-")
    os.chmod(work, 0o755)  # varnishd reads the VCL as its own user
    edged = os.path.join(work, "edged")
    subprocess.run(["go", "build", "-o", edged, "./bench/cdn/edged"], cwd=ROOT, check=True)
    procs = []
    try:
        op, ep, np_, vp = free_port(), free_port(), free_port(), free_port()
        upstream = f"127.0.0.1:{op}"
        procs.append(subprocess.Popen([edged, "-origin", upstream]))
        wait_http(f"http://{upstream}/1k")
        edge = subprocess.Popen([edged, "-listen", f"127.0.0.1:{ep}", "-upstream", upstream])
        procs.append(edge)
        conf = open(os.path.join(HERE, "nginx.conf")).read()
        conf = conf.replace("{{DIR}}", work).replace("{{PORT}}", str(np_)).replace("{{UPSTREAM}}", upstream)
        with open(os.path.join(work, "nginx.conf"), "w") as f:
            f.write(conf)
        nginx = subprocess.Popen(["nginx", "-c", os.path.join(work, "nginx.conf"), "-g", "daemon off;"])
        procs.append(nginx)
        vcl = open(os.path.join(HERE, "varnish.vcl")).read().replace("{{HOST}}", "127.0.0.1").replace("{{PORT}}", str(op))
        with open(os.path.join(work, "bench.vcl"), "w") as f:
            f.write(vcl)
        varnish = subprocess.Popen(["varnishd", "-F", "-n", os.path.join(work, "varnish"), "-a", f"127.0.0.1:{vp}",
                                    "-f", os.path.join(work, "bench.vcl"), "-s", "malloc,256m"],
                                   stdout=subprocess.DEVNULL)
        procs.append(varnish)
        host = "e1bench.cloudfront.localhost"
        servers = [("overcast edge", edge, f"http://127.0.0.1:{ep}", host),
                   ("nginx proxy_cache", nginx, f"http://127.0.0.1:{np_}", None),
                   ("varnish", varnish, f"http://127.0.0.1:{vp}", None)]
        results = {}
        for size in ("1k", "100k"):
            for name, _, base, h in servers:
                for _ in range(2):  # a miss, then a hit
                    wait_http(f"{base}/{size}", {"Host": h} if h else None)
            for _ in range(args.rounds):
                for name, proc, base, h in servers:
                    pids = tree(proc.pid)
                    before = cpu_ticks(pids)
                    reqs, rps, p99 = wrk(f"{base}/{size}", args.seconds, h)
                    used = (cpu_ticks(pids) - before) / HZ
                    results.setdefault((size, name), []).append((used * 1e6 / reqs, rps, p99))
        print(f"| object | server | CPU µs/req | req/s | p99 ms |")
        print(f"|---|---|---|---|---|")
        for (size, name), runs in results.items():
            med = lambda i: statistics.median(r[i] for r in runs)
            print(f"| {size} | {name} | {med(0):.1f} | {med(1):.0f} | {med(2):.2f} |")
        for size in ("1k", "100k"):
            e = statistics.median(r[0] for r in results[(size, "overcast edge")])
            n = statistics.median(r[0] for r in results[(size, "nginx proxy_cache")])
            v = statistics.median(r[0] for r in results[(size, "varnish")])
            print(f"{size}: edge CPU/req = {e / n:.2f}x nginx, {e / v:.2f}x varnish")
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
