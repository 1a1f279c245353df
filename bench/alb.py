#!/usr/bin/env python3
"""ALB data plane against nginx as a plain reverse proxy, in one run.

One backend (a small Go web server on loopback) sits behind both: an
overcast Application Load Balancer (an ip target group, an HTTP listener
forwarding to it) and nginx with a keep-alive upstream. wrk drives each in
turn, the rounds interleaved; the figures are medians of the rounds.

  python3 bench/alb.py --rounds 3 --seconds 5
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import boto3

from bench import free_port, run_wrk  # bench/bench.py, the STS/IAM benchmark's helpers
from ecs_tasks import wait_http

BACKEND = r'''package main

import (
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello from the backend\n")) })
	http.ListenAndServe("127.0.0.1:"+os.Args[1], nil)
}
'''

NGINX = '''
worker_processes auto;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx.error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {work}/nginx-body;
    proxy_temp_path {work}/nginx-proxy;
    fastcgi_temp_path {work}/nginx-fastcgi;
    uwsgi_temp_path {work}/nginx-uwsgi;
    scgi_temp_path {work}/nginx-scgi;
    upstream backend {{ server 127.0.0.1:{backend}; keepalive 256; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Port $server_port;
        }}
    }}
}}
'''

GET_SCRIPT = '''
wrk.method = "GET"
wrk.headers["Host"] = {host}
'''


def cpu_seconds(pid):
    """CPU time (user + system) of a process and its children processes
    (nginx's workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:  # fields[1] is the parent's pid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def wrk_cpu(pid, port, script, seconds, connections):
    """run_wrk, plus the server's CPU time per request (µs): its own cost,
    which the machine's other load does not change the way it changes
    throughput."""
    cpu = cpu_seconds(pid)
    res = run_wrk(port, script, seconds, connections=connections)
    res["cpu_us"] = (cpu_seconds(pid) - cpu) / (res["rps"] * seconds) * 1e6
    return res


def stop(procs):
    """Stops the processes a benchmark started, the last started first."""
    for p in reversed(procs):
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def start_overcast(overcast_bin, work, procs, env=None):
    """Starts overcast up on a free port with its state in work, adds it to
    procs and returns it, its endpoint and its port once it is healthy."""
    port = free_port()
    log = open(os.path.join(work, "overcast.log"), "w")
    proc = subprocess.Popen([overcast_bin, "up", "--addr", "127.0.0.1:%d" % port,
                             "--data-dir", os.path.join(work, "data")], stdout=log, stderr=log, env=env)
    procs.append(proc)
    endpoint = "http://127.0.0.1:%d" % port
    wait_http(endpoint + "/_overcast/health")
    return proc, endpoint, port


def build(work, name, src, pkg_dir=None):
    out = os.path.join(work, name)
    if src is not None:
        d = os.path.join(work, name + "-src")
        os.makedirs(d)
        with open(os.path.join(d, "main.go"), "w") as f:
            f.write(src)
        subprocess.run(["go", "mod", "init", name], cwd=d, check=True, capture_output=True)
        subprocess.run(["go", "build", "-o", out, "."], cwd=d, check=True)
    else:
        subprocess.run(["go", "build", "-o", out, "./cmd/overcast"], cwd=pkg_dir, check=True)
    return out


def load_balancer(endpoint, backend_port):
    """Creates an ALB forwarding to the backend and returns its listener's
    port and DNS name once the target is healthy."""
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
    ec2 = session.client("ec2", endpoint_url=endpoint)
    elb = session.client("elbv2", endpoint_url=endpoint)
    subnets = ec2.describe_subnets()["Subnets"]
    lb = elb.create_load_balancer(Name="bench", Subnets=[s["SubnetId"] for s in subnets])["LoadBalancers"][0]
    tg = elb.create_target_group(Name="bench", Protocol="HTTP", Port=80, VpcId=subnets[0]["VpcId"],
                                 TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": "127.0.0.1", "Port": backend_port}])
    port = free_port()
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    deadline = time.time() + 30
    while time.time() < deadline:
        health = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        if health and health[0]["TargetHealth"]["State"] == "healthy":
            return port, lb["DNSName"]
        time.sleep(0.1)
    raise RuntimeError("the target did not become healthy")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--profile", help="write a CPU profile of overcast during one extra ALB round to this file")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    work = tempfile.mkdtemp()
    backend_bin = build(work, "backend", BACKEND)
    overcast_bin = build(work, "overcast", None, root)
    procs = []
    try:
        backend_port = free_port()
        procs.append(subprocess.Popen([backend_bin, str(backend_port)]))
        wait_http("http://127.0.0.1:%d/" % backend_port)

        env = dict(os.environ, OVERCAST_PPROF="1") if args.profile else None
        _, endpoint, _ = start_overcast(overcast_bin, work, procs, env)
        alb_port, dns = load_balancer(endpoint, backend_port)
        wait_http("http://127.0.0.1:%d/" % alb_port, host=dns)

        nginx_port = free_port()
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX.format(work=work, backend=backend_port, port=nginx_port))
        procs.append(subprocess.Popen(["nginx", "-p", work, "-c", conf], stderr=subprocess.DEVNULL))
        wait_http("http://127.0.0.1:%d/" % nginx_port)

        targets = {"alb": (alb_port, dns, procs[1].pid), "nginx": (nginx_port, "localhost", procs[2].pid)}
        def run(name, seconds):
            port, host, pid = targets[name]
            return wrk_cpu(pid, port, GET_SCRIPT.format(host=json.dumps(host)), seconds, args.connections)
        for name in targets:  # warm-up: connection pools, page cache, CPU frequency
            run(name, 1)
        results = {name: [] for name in targets}
        for _ in range(args.rounds):
            for name in targets:
                results[name].append(run(name, args.seconds))
        if args.profile:
            seconds = args.seconds
            fetch = subprocess.Popen(["curl", "-s", "-o", args.profile,
                                      "%s/_overcast/debug/pprof/profile?seconds=%d" % (endpoint, seconds)])
            run("alb", seconds)
            fetch.wait()
        med = {name: {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50_ms", "p99_ms", "cpu_us")}
               for name, runs in results.items()}
        errors = {name: sum(r["non2xx"] for r in runs) for name, runs in results.items()}
        a, n = med["alb"], med["nginx"]
        print("| %d connections, median of %d rounds of %d s | overcast ALB | nginx | ratio |"
              % (args.connections, args.rounds, args.seconds))
        print("|---|---|---|---|")
        print("| req/s | %.0f | %.0f | %.2fx |" % (a["rps"], n["rps"], a["rps"] / n["rps"]))
        print("| p50 (ms) | %.2f | %.2f | %.2fx |" % (a["p50_ms"], n["p50_ms"], a["p50_ms"] / n["p50_ms"]))
        print("| p99 (ms) | %.2f | %.2f | %.2fx |" % (a["p99_ms"], n["p99_ms"], a["p99_ms"] / n["p99_ms"]))
        print("| CPU per request (µs) | %.1f | %.1f | %.2fx |" % (a["cpu_us"], n["cpu_us"], a["cpu_us"] / n["cpu_us"]))
        print("| non-2xx | %d | %d | |" % (errors["alb"], errors["nginx"]))
        print(json.dumps(results))
    finally:
        stop(procs)


if __name__ == "__main__":
    main()
