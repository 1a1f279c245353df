#!/usr/bin/env python3
"""ECS RunTask of N Fargate tasks on one Docker engine and on two, in one run.

Starts a second dockerd of its own beside the machine's (own socket, data
and exec roots, and a bridge on 10.213.250.0/24 without iptables rules), then
for each setting an `overcast up` with `--docker-host` naming one engine, or
both: the web server of ecs_tasks.py pushed to overcast's ECR (each engine
pulls it; a warm-up round leaves it cached), a Fargate task definition, and
rounds of `RunTask --count N` timed until every task is RUNNING and until
every task's web server answers, with the tasks per engine counted from the
engines' own container lists. Medians of the rounds. Needs root (the second
dockerd), bin/overcast (make build), Go, the docker CLI and boto3.
"""
import argparse
import base64
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

from ecs_tasks import Overcast, build_image, fargate_address, wait_http

LABEL_TASK = "overcast.ecs.task"
BRIDGE = "ovcdhbench0"


def docker(host, *args, **kw):
    env = dict(os.environ, DOCKER_HOST=host)
    return subprocess.run(["docker", *args], env=env, check=True, capture_output=True, text=True, **kw).stdout


def start_second(work):
    """Starts the second dockerd; returns its host and a function to stop it."""
    d = os.path.join("/tmp", "ovc-dh-bench-%d" % os.getpid())
    os.makedirs(d)
    subprocess.run(["ip", "link", "add", BRIDGE, "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", "10.213.250.1/24", "dev", BRIDGE], check=True)
    subprocess.run(["ip", "link", "set", BRIDGE, "up"], check=True)
    host = "unix://%s/docker.sock" % d
    log = open(os.path.join(work, "dockerd2.log"), "w")
    proc = subprocess.Popen(["dockerd", "--host", host, "--data-root", d + "/root", "--exec-root", d + "/exec",
                             "--pidfile", d + "/docker.pid", "--bridge", BRIDGE, "--iptables=false", "--ip-masq=false"],
                            stdout=log, stderr=log)
    end = time.monotonic() + 30
    while subprocess.run(["docker", "version"], env=dict(os.environ, DOCKER_HOST=host), capture_output=True).returncode:
        if time.monotonic() > end:
            raise RuntimeError("the second dockerd does not answer")
        time.sleep(0.2)

    def stop():
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        subprocess.run(["ip", "link", "del", BRIDGE])
        shutil.rmtree(d, ignore_errors=True)
    return host, stop


def push(oc, image, work):
    """Pushes the local image to overcast's ECR as bench:v1."""
    oc.client("ecr").create_repository(repositoryName="bench")
    token = oc.client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, password = base64.b64decode(token).decode().split(":", 1)
    env = dict(os.environ, DOCKER_CONFIG=tempfile.mkdtemp(dir=work))
    run = lambda *a, **kw: subprocess.run(["docker", *a], env=env, check=True, capture_output=True, **kw)
    run("login", "--username", user, "--password-stdin", oc.registry, input=password.encode())
    pushed = oc.registry + "/bench:v1"
    run("tag", image, pushed)
    run("push", pushed)
    run("rmi", pushed)
    return "000000000000.dkr.ecr.us-east-1.amazonaws.com/bench:v1"


def one_round(ecs, hosts, subnets, n):
    t0 = time.monotonic()
    out = ecs.run_task(cluster="bench", taskDefinition="bench", launchType="FARGATE", count=n,
                       networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}})
    if out["failures"]:
        raise RuntimeError("RunTask failures: %s" % out["failures"])
    arns = [t["taskArn"] for t in out["tasks"]]
    while True:
        tasks = ecs.describe_tasks(cluster="bench", tasks=arns)["tasks"]
        if any(t["lastStatus"] == "STOPPED" for t in tasks):
            raise RuntimeError("a task stopped: %s" % [t.get("stoppedReason") for t in tasks])
        if all(t["lastStatus"] == "RUNNING" for t in tasks):
            running = time.monotonic() - t0
            break
        time.sleep(0.01)
    for t in tasks:
        wait_http("http://%s/" % fargate_address(t))
    serving = time.monotonic() - t0
    per_engine = []
    for h in hosts:
        listed = docker(h, "ps", "-q", "--filter", "label=" + LABEL_TASK).split()
        mine = 0
        for cid in listed:
            arn = docker(h, "inspect", "-f", '{{index .Config.Labels "%s"}}' % LABEL_TASK, cid).strip()
            mine += arn in arns
        per_engine.append(mine)
    for arn in arns:
        ecs.stop_task(cluster="bench", task=arn)
    while any(t["lastStatus"] != "STOPPED" for t in ecs.describe_tasks(cluster="bench", tasks=arns)["tasks"]):
        time.sleep(0.05)
    return running, serving, per_engine


def run_setting(work, image, hosts, n, rounds):
    flags = [f for h in hosts for f in ("--docker-host", h)]
    with Overcast(tempfile.mkdtemp(dir=work), flags) as oc:
        ecs, ec2, iam = oc.client("ecs"), oc.client("ec2"), oc.client("iam")
        uri = push(oc, image, work)
        role = iam.create_role(RoleName="ecsTaskExecutionRole", AssumeRolePolicyDocument=(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
            '{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}'))["Role"]["Arn"]
        ecs.create_cluster(clusterName="bench")
        ecs.register_task_definition(family="bench", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                     cpu="256", memory="512", executionRoleArn=role,
                                     containerDefinitions=[{"name": "app", "image": uri,
                                                            "portMappings": [{"containerPort": 8080}]}])
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]]
        one_round(ecs, hosts, subnets, n)  # warm-up: every engine pulls the image
        results = [one_round(ecs, hosts, subnets, n) for _ in range(rounds)]
    # The engines' pulls of it go with this overcast's registry address.
    subprocess.run(["docker", "rmi", "-f", oc.registry + "/" + uri], capture_output=True)
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    work = tempfile.mkdtemp()
    image = "overcast-bench/hosts:%d" % os.getpid()
    build_image(work, image)
    first = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    second, stop = start_second(work)
    try:
        rows = []
        for name, hosts in (("one engine", [first]), ("two engines", [first, second])):
            res = run_setting(work, image, hosts, args.tasks, args.rounds)
            running = statistics.median(r[0] for r in res) * 1000
            serving = statistics.median(r[1] for r in res) * 1000
            spread = " / ".join(str(statistics.median(r[2][i] for r in res)) for i in range(len(hosts)))
            rows.append((name, running, serving, spread))
    finally:
        stop()
        subprocess.run(["docker", "rmi", "-f", image], capture_output=True)
    print("| RunTask count=%d, ms, median of %d rounds | all RUNNING | all serving | tasks per engine |"
          % (args.tasks, args.rounds))
    print("|---|---|---|---|")
    for name, running, serving, spread in rows:
        print("| %s | %.0f | %.0f | %s |" % (name, running, serving, spread))


if __name__ == "__main__":
    main()
