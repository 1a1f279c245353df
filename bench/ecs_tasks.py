#!/usr/bin/env python3
"""ECS RunTask against a plain `docker run` of the same image, in one run.

For each round: overcast's RunTask of a Fargate task (awsvpc: its own
loopback address), then of an EC2 task (bridge mode, dynamic host port on
an instance that joined the cluster from its user data), each until
DescribeTasks says RUNNING and until the task's web server answers at the
reported address; then `docker run -d` of the same local image with a
published port, until it returns (the container is started) and until the
server answers. Medians of the rounds and the ratios overcast / docker.
Needs bin/overcast (make build), Go, Docker and boto3.
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


def fargate_address(task):
    ip = next(d["value"] for a in task["attachments"] for d in a["details"] if d["name"] == "privateIPv4Address")
    return "%s:8080" % ip


def binding_address(task):
    b = task["containers"][0]["networkBindings"][0]
    return "%s:%d" % (b["bindIP"], b["hostPort"])


def overcast_round(ecs, cluster, address, **run):
    t0 = time.monotonic()
    task = ecs.run_task(cluster=cluster, **run)["tasks"][0]
    arn = task["taskArn"]
    while True:
        t = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]
        if t["lastStatus"] == "RUNNING":
            running = time.monotonic() - t0
            break
        if t["lastStatus"] == "STOPPED":
            raise RuntimeError("task stopped: " + t.get("stoppedReason", ""))
        time.sleep(0.005)
    wait_http("http://%s/" % address(t))
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


class Overcast:
    """`overcast up` (bin/overcast) on a free port with a fresh data dir in
    work and the flags in extra, and boto3 clients for it; a context
    manager that stops it."""

    def __init__(self, work, extra=()):
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        port = free_port()
        log = open(os.path.join(work, "overcast.log"), "w")
        self.proc = subprocess.Popen([os.path.join(root, "bin", "overcast"), "up", "--addr", "127.0.0.1:%d" % port,
                                      "--data-dir", os.path.join(work, "data"), *extra], stdout=log, stderr=log)
        self.registry = "127.0.0.1:%d" % port
        self.endpoint = "http://" + self.registry
        self.session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                             region_name="us-east-1")

    def __enter__(self):
        wait_http(self.endpoint + "/_overcast/health")
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait()

    def client(self, name):
        return self.session.client(name, endpoint_url=self.endpoint)


def with_overcast(name, run):
    """Builds the web server's image, runs run(oc, image) against a fresh
    `overcast up`, and removes the image."""
    work = tempfile.mkdtemp()
    image = "overcast-bench/%s:%d" % (name, os.getpid())
    build_image(work, image)
    try:
        with Overcast(work) as oc:
            run(oc, image)
    finally:
        subprocess.run(["docker", "rmi", "-f", image], capture_output=True)


def register_fargate(ecs, family, image):
    """Registers the web server as a Fargate task definition, port 8080."""
    ecs.register_task_definition(family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                 cpu="256", memory="512",
                                 containerDefinitions=[{"name": "app", "image": image,
                                                        "portMappings": [{"containerPort": 8080}]}])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    with_overcast("app", lambda oc, image: run_rounds(oc, image, args.rounds))


def run_rounds(oc, image, rounds):
    ecs = oc.client("ecs")
    ec2 = oc.client("ec2")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    ecs.create_cluster(clusterName="bench")
    register_fargate(ecs, "bench", image)
    ecs.register_task_definition(family="bench-ec2", networkMode="bridge", requiresCompatibilities=["EC2"],
                                 containerDefinitions=[{"name": "app", "image": image, "memory": 128,
                                                        "portMappings": [{"containerPort": 8080, "hostPort": 0}]}])
    ami = ec2.describe_images(Filters=[{"Name": "name", "Values": ["al2023-ami-ecs-hvm-*"]},
                                       {"Name": "architecture", "Values": ["x86_64"]}])["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=ami, InstanceType="t3.medium", MinCount=1, MaxCount=1,
                      UserData="#!/bin/bash\necho ECS_CLUSTER=bench >> /etc/ecs/ecs.config\n")
    end = time.monotonic() + 60
    while not ecs.list_container_instances(cluster="bench")["containerInstanceArns"]:
        if time.monotonic() > end:
            raise RuntimeError("the instance did not join the cluster")
        time.sleep(0.1)
    kinds = {
        "Fargate": lambda: overcast_round(ecs, "bench", fargate_address, taskDefinition="bench", launchType="FARGATE",
                                          networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}}),
        "EC2": lambda: overcast_round(ecs, "bench", binding_address, taskDefinition="bench-ec2", launchType="EC2"),
        "docker": lambda: docker_round(image),
    }
    for run in kinds.values():  # warm-up: the pause image is built once
        run()
    started = {k: [] for k in kinds}
    serving = {k: [] for k in kinds}
    for _ in range(rounds):
        for k, run in kinds.items():
            r, s = run()
            started[k].append(r)
            serving[k].append(s)
    med = {k: statistics.median(v) * 1000 for k, v in started.items()}
    med_serving = {k: statistics.median(v) * 1000 for k, v in serving.items()}
    print("| ms, median of %d rounds | Fargate RunTask | EC2 RunTask | docker run | Fargate / docker | EC2 / docker |"
          % rounds)
    print("|---|---|---|---|---|---|")
    for name, m in (("started (RunTask -> RUNNING / docker run -d returns)", med),
                    ("serving (until the web server answers)", med_serving)):
        print("| %s | %.0f | %.0f | %.0f | %.2fx | %.2fx |" % (name, m["Fargate"], m["EC2"], m["docker"],
                                                               m["Fargate"] / m["docker"], m["EC2"] / m["docker"]))
    print(json.dumps({k: [round(x * 1000) for x in v] for k, v in started.items()}))


if __name__ == "__main__":
    main()
