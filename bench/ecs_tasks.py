#!/usr/bin/env python3
"""ECS RunTask against a plain `docker run` of the same image, in one run.

For each round: overcast's RunTask of a Fargate task (awsvpc: its own
loopback address) until DescribeTasks says RUNNING, and until the task's
web server answers at the reported address; then `docker run -d` of the
same local image with a published port, until it returns (the container is
started) and until the server answers. Medians of the rounds and the ratio
overcast / docker. Needs bin/overcast (make build), Go, Docker and boto3.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
import urllib.request

import boto3

from bench import free_port  # bench/bench.py, the STS/IAM benchmark's helpers

APP = r'''package main

import (
	"fmt"
	"net/http"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	http.ListenAndServe(":8080", nil)
}
'''


def build_image(work, tag):
    src = os.path.join(work, "src")
    os.makedirs(src)
    with open(os.path.join(src, "main.go"), "w") as f:
        f.write(APP)
    subprocess.run(["go", "mod", "init", "app"], cwd=src, check=True, capture_output=True)
    env = dict(os.environ, CGO_ENABLED="0")
    subprocess.run(["go", "build", "-o", os.path.join(work, "rootfs", "app"), "."], cwd=src, check=True, env=env)
    subprocess.run(["tar", "-C", os.path.join(work, "rootfs"), "-cf", os.path.join(work, "rootfs.tar"), "app"], check=True)
    subprocess.run(["docker", "import", "-c", 'ENTRYPOINT ["/app"]', os.path.join(work, "rootfs.tar"), tag],
                   check=True, capture_output=True)


def wait_http(url, deadline=60, host=None):
    """Waits until url answers 200, sent with host as its Host header when given."""
    end = time.monotonic() + deadline
    req = urllib.request.Request(url, headers={"Host": host} if host else {})
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(req, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.005)
    raise RuntimeError("no answer from " + url)


def overcast_round(ecs, cluster, subnet):
    t0 = time.monotonic()
    task = ecs.run_task(cluster=cluster, taskDefinition="bench", launchType="FARGATE",
                        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}})["tasks"][0]
    arn = task["taskArn"]
    while True:
        t = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]
        if t["lastStatus"] == "RUNNING":
            running = time.monotonic() - t0
            break
        if t["lastStatus"] == "STOPPED":
            raise RuntimeError("task stopped: " + t.get("stoppedReason", ""))
        time.sleep(0.005)
    ip = next(d["value"] for a in t["attachments"] for d in a["details"] if d["name"] == "privateIPv4Address")
    wait_http("http://%s:8080/" % ip)
    serving = time.monotonic() - t0
    ecs.stop_task(cluster=cluster, task=arn)
    while ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]["lastStatus"] != "STOPPED":
        time.sleep(0.05)
    return running, serving


def docker_round(image):
    t0 = time.monotonic()
    cid = subprocess.run(["docker", "run", "-d", "-p", "127.0.0.1::8080", image],
                         check=True, capture_output=True, text=True).stdout.strip()
    started = time.monotonic() - t0
    port = subprocess.run(["docker", "port", cid, "8080/tcp"], check=True, capture_output=True,
                          text=True).stdout.split()[0].rsplit(":", 1)[1]
    wait_http("http://127.0.0.1:%s/" % port)
    serving = time.monotonic() - t0
    subprocess.run(["docker", "rm", "-f", cid], check=True, capture_output=True)
    return started, serving


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    work = tempfile.mkdtemp()
    image = "overcast-bench/app:%d" % os.getpid()
    build_image(work, image)
    port = free_port()
    log = open(os.path.join(work, "overcast.log"), "w")
    proc = subprocess.Popen([os.path.join(root, "bin", "overcast"), "up", "--addr", "127.0.0.1:%d" % port,
                             "--data-dir", os.path.join(work, "data")], stdout=log, stderr=log)
    try:
        endpoint = "http://127.0.0.1:%d" % port
        wait_http(endpoint + "/_overcast/health")
        session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
        ecs = session.client("ecs", endpoint_url=endpoint)
        ec2 = session.client("ec2", endpoint_url=endpoint)
        subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
        ecs.create_cluster(clusterName="bench")
        ecs.register_task_definition(family="bench", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                     cpu="256", memory="512",
                                     containerDefinitions=[{"name": "app", "image": image,
                                                            "portMappings": [{"containerPort": 8080}]}])
        overcast_round(ecs, "bench", subnet)  # warm-up: the pause image is built once
        docker_round(image)
        o_run, o_serve, d_run, d_serve = [], [], [], []
        for _ in range(args.rounds):
            r, s = overcast_round(ecs, "bench", subnet)
            o_run.append(r)
            o_serve.append(s)
            r, s = docker_round(image)
            d_run.append(r)
            d_serve.append(s)
        med = lambda xs: statistics.median(xs) * 1000
        rows = [("started (RunTask -> RUNNING / docker run -d returns)", med(o_run), med(d_run)),
                ("serving (until the web server answers)", med(o_serve), med(d_serve))]
        print("| ms, median of %d rounds | overcast RunTask | docker run | ratio |" % args.rounds)
        print("|---|---|---|---|")
        for name, o, d in rows:
            print("| %s | %.0f | %.0f | %.2fx |" % (name, o, d, o / d))
        print(json.dumps({"overcast_running_ms": [x * 1000 for x in o_run], "docker_started_ms": [x * 1000 for x in d_run]}))
    finally:
        proc.terminate()
        proc.wait()
        subprocess.run(["docker", "rmi", "-f", image], capture_output=True)


if __name__ == "__main__":
    main()
