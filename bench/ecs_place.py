#!/usr/bin/env python3
"""RunTask count=10 over 1,000 container instances, through the API.

Registers N container instances (RegisterContainerInstance, three zones,
varied free memory) in one cluster of `overcast up`, then times RunTask of
ten EC2 tasks at once (bridge mode, dynamic host port) with a spread over
zones then binpack on memory: the call returns once the ten are placed and
recorded, PROVISIONING; their containers start after. Each round waits for
the ten to run and stops them, so every round places on the same cluster.
Medians of the rounds. Needs bin/overcast (make build), Go, Docker, boto3.
"""
import argparse
import json
import statistics
import time

from ecs_tasks import with_overcast


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    with_overcast("place", lambda oc, image: place(oc.client("ecs"), image, args))


def place(ecs, image, args):
    ecs.create_cluster(clusterName="place")
    zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
    for i in range(args.instances):
        doc = {"instanceId": "i-%017x" % i, "instanceType": "m5.large", "availabilityZone": zones[i % 3],
               "region": "us-east-1", "imageId": "ami-0a7e5c31a0d1e5f01", "architecture": "x86_64"}
        ecs.register_container_instance(cluster="place", instanceIdentityDocument=json.dumps(doc), totalResources=[
            {"name": "CPU", "type": "INTEGER", "integerValue": 2048},
            {"name": "MEMORY", "type": "INTEGER", "integerValue": 1024 + 64 * (i % 40)}])
    ecs.register_task_definition(family="place", networkMode="bridge", requiresCompatibilities=["EC2"],
                                 containerDefinitions=[{"name": "app", "image": image, "memory": 64, "cpu": 128,
                                                        "portMappings": [{"containerPort": 8080, "hostPort": 0}]}])
    strategy = [{"type": "spread", "field": "attribute:ecs.availability-zone"}, {"type": "binpack", "field": "memory"}]
    times = []
    for r in range(args.rounds + 1):  # the first is a warm-up
        t0 = time.monotonic()
        out = ecs.run_task(cluster="place", taskDefinition="place", launchType="EC2", count=10,
                           placementStrategy=strategy)
        elapsed = time.monotonic() - t0
        if out["failures"] or len(out["tasks"]) != 10:
            raise RuntimeError("RunTask: %s" % out["failures"])
        if r:
            times.append(elapsed * 1000)
        arns = [t["taskArn"] for t in out["tasks"]]
        ecs.get_waiter("tasks_running").wait(cluster="place", tasks=arns, WaiterConfig={"Delay": 1})
        for arn in arns:
            ecs.stop_task(cluster="place", task=arn)
        ecs.get_waiter("tasks_stopped").wait(cluster="place", tasks=arns, WaiterConfig={"Delay": 1})
    print("| RunTask count=10 over %d container instances | median ms | min | max |" % args.instances)
    print("|---|---|---|---|")
    print("| overcast, through the API (boto3) | %.1f | %.1f | %.1f |" % (statistics.median(times), min(times), max(times)))


if __name__ == "__main__":
    main()
