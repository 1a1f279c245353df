#!/usr/bin/env python3
"""Idle overcast RSS with N running ECS tasks (default 100).

Starts `overcast up`, reads its resident set size idle, runs N Fargate tasks
of a locally imported static Go web server (RunTask count=10 at a time),
waits until every one is RUNNING, lets overcast settle, and reads its RSS
again (median of five readings a second apart). The containers' own memory
is the engine's, not overcast's. Needs bin/overcast (make build), Go,
Docker and boto3.
"""
import argparse
import statistics
import time

from ecs_tasks import register_fargate, with_overcast


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS for %d" % pid)


def settled_rss(pid, settle):
    time.sleep(settle)
    readings = []
    for _ in range(5):
        readings.append(rss_mib(pid))
        time.sleep(1)
    return statistics.median(readings)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=100)
    ap.add_argument("--settle", type=float, default=15, help="seconds of idleness before reading RSS")
    args = ap.parse_args()
    with_overcast("rss", lambda oc, image: measure(oc, image, args))


def measure(oc, image, args):
    proc = oc.proc
    arns = []
    ecs = oc.client("ecs")
    try:
        ec2 = oc.client("ec2")
        subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
        ecs.create_cluster(clusterName="rss")
        register_fargate(ecs, "rss", image)
        idle = settled_rss(proc.pid, args.settle)
        t0 = time.monotonic()
        while len(arns) < args.tasks:
            n = min(10, args.tasks - len(arns))
            out = ecs.run_task(cluster="rss", taskDefinition="rss", launchType="FARGATE", count=n,
                               networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}})
            if out["failures"]:
                raise RuntimeError("RunTask failures: %s" % out["failures"])
            arns += [t["taskArn"] for t in out["tasks"]]
        while True:
            statuses = []
            for i in range(0, len(arns), 100):
                statuses += [t["lastStatus"] for t in ecs.describe_tasks(cluster="rss", tasks=arns[i:i + 100])["tasks"]]
            if "STOPPED" in statuses:
                raise RuntimeError("a task stopped")
            if statuses.count("RUNNING") == len(arns):
                break
            time.sleep(1)
        all_running = time.monotonic() - t0
        busy = settled_rss(proc.pid, args.settle)
        print("| overcast RSS, MiB (median of 5 readings) | idle, no tasks | idle, %d tasks RUNNING | per task |" % args.tasks)
        print("|---|---|---|---|")
        print("| | %.1f | %.1f | %.2f |" % (idle, busy, (busy - idle) / args.tasks))
        print("%d tasks RUNNING %.1f s after the first RunTask" % (args.tasks, all_running))
    finally:
        if ecs is not None:
            for arn in arns:
                try:
                    ecs.stop_task(cluster="rss", task=arn)
                except Exception:
                    pass
            end = time.monotonic() + 300
            while arns and time.monotonic() < end:
                ts = []
                for i in range(0, len(arns), 100):
                    ts += ecs.describe_tasks(cluster="rss", tasks=arns[i:i + 100])["tasks"]
                if all(t["lastStatus"] == "STOPPED" for t in ts):
                    break
                time.sleep(1)


if __name__ == "__main__":
    main()
