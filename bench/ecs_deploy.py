#!/usr/bin/env python3
"""A 10-task rolling deployment behind an ALB against the time its
containers need to start and pass their health checks, in one run.

A Fargate service of 10 tasks (the web server of ecs_tasks.py, a locally
built image) sits behind an overcast Application Load Balancer (ip target
group, health checks every 5 s, 2 to be healthy, 5 s deregistration
delay). Each round forces a new deployment (minimumHealthyPercent 100,
maximumPercent 200) and times UpdateService until the service has one
deployment again, COMPLETED, with 10 tasks running; a client polls the
load balancer meanwhile and counts failed requests.

The floor it is compared with is what the deployment cannot avoid with
maximumPercent 200 (all new tasks start at once): a container's own start
until it serves (`docker run` of the same image, measured in the same run),
the health checks that must pass (healthy threshold x interval) and the
deregistration delay of the old tasks. For scale, the run also times 10
`docker run`s started together until all serve.

  python3 bench/ecs_deploy.py --rounds 3
Needs bin/overcast (make build), Go, Docker and boto3.
"""
import argparse
import statistics
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from bench import free_port  # bench/bench.py, the STS/IAM benchmark's helpers
from ecs_tasks import docker_round, register_fargate, wait_http, with_overcast

TASKS = 10
INTERVAL, THRESHOLD, DEREGISTRATION_DELAY = 5, 2, 5


def parallel_docker(image):
    """Seconds until TASKS containers started together all serve (each
    docker_round times its container until it serves, then removes it)."""
    with ThreadPoolExecutor(TASKS) as pool:
        return max(serving for _, serving in pool.map(lambda _: docker_round(image), range(TASKS)))


def stable(ecs, service):
    s = ecs.describe_services(cluster="bench", services=[service])["services"][0]
    d = s["deployments"]
    return len(d) == 1 and d[0].get("rolloutState") == "COMPLETED" and s["runningCount"] == TASKS


class Poller(threading.Thread):
    """Sends requests to the load balancer one after another and counts
    those that fail."""

    def __init__(self, url, host):
        super().__init__(daemon=True)
        self.req = urllib.request.Request(url, headers={"Host": host})
        self.sent = self.failed = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.sent += 1
            try:
                with urllib.request.urlopen(self.req, timeout=5) as r:
                    if r.status != 200:
                        self.failed += 1
            except OSError:
                self.failed += 1
            time.sleep(0.01)


def run_rounds(oc, image, rounds):
    ecs, ec2, elb = oc.client("ecs"), oc.client("ec2"), oc.client("elbv2")
    subnets = ec2.describe_subnets()["Subnets"]
    lb = elb.create_load_balancer(Name="bench", Subnets=[s["SubnetId"] for s in subnets])["LoadBalancers"][0]
    tg = elb.create_target_group(Name="bench", Protocol="HTTP", Port=8080, VpcId=subnets[0]["VpcId"], TargetType="ip",
                                 HealthCheckIntervalSeconds=INTERVAL, HealthCheckTimeoutSeconds=2,
                                 HealthyThresholdCount=THRESHOLD)["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": str(DEREGISTRATION_DELAY)}])
    port = free_port()
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    ecs.create_cluster(clusterName="bench")
    register_fargate(ecs, "bench", image)
    ecs.create_service(cluster="bench", serviceName="web", taskDefinition="bench", desiredCount=TASKS,
                       launchType="FARGATE",
                       networkConfiguration={"awsvpcConfiguration": {"subnets": [s["SubnetId"] for s in subnets]}},
                       loadBalancers=[{"targetGroupArn": tg, "containerName": "app", "containerPort": 8080}],
                       deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200})
    wait_until(lambda: stable(ecs, "web"), 300, "the service did not reach a steady state")
    url = "http://127.0.0.1:%d/" % port
    wait_http(url, host=lb["DNSName"])

    parallel_docker(image)  # warm-up
    deploys, singles, parallels, failed, sent = [], [], [], 0, 0
    for _ in range(rounds):
        singles.append(docker_round(image)[1])
        parallels.append(parallel_docker(image))
        poller = Poller(url, lb["DNSName"])
        poller.start()
        t0 = time.monotonic()
        ecs.update_service(cluster="bench", service="web", forceNewDeployment=True)
        time.sleep(0.5)  # the new deployment is listed
        wait_until(lambda: stable(ecs, "web"), 600, "the deployment did not complete")
        deploys.append(time.monotonic() - t0)
        poller.done.set()
        poller.join()
        failed += poller.failed
        sent += poller.sent
    ecs.update_service(cluster="bench", service="web", desiredCount=0)
    wait_until(lambda: ecs.describe_services(cluster="bench", services=["web"])["services"][0]["runningCount"] == 0,
               120, "the tasks did not stop")

    deploy, start = statistics.median(deploys), statistics.median(singles)
    floor = start + THRESHOLD * INTERVAL + DEREGISTRATION_DELAY
    print("| s, median of %d rounds | value |" % rounds)
    print("|---|---|")
    print("| rolling deployment of %d tasks (UpdateService → one COMPLETED deployment) | %.1f |" % (TASKS, deploy))
    print("| a container's start until it serves (docker run) | %.1f |" % start)
    print("| health checks to pass (%d x %d s) + deregistration delay (%d s) | %d |"
          % (THRESHOLD, INTERVAL, DEREGISTRATION_DELAY, THRESHOLD * INTERVAL + DEREGISTRATION_DELAY))
    print("| floor (sum of the two above) | %.1f |" % floor)
    print("| deployment / floor | %.2fx |" % (deploy / floor))
    print("| for scale: %d docker runs started together until all serve | %.1f |" % (TASKS, statistics.median(parallels)))
    print("| requests through the ALB during the deployments: sent, failed | %d, %d |" % (sent, failed))
    print("rounds: deploy %s, docker run %s, %d docker runs %s" % (["%.1f" % d for d in deploys], ["%.2f" % f for f in singles],
                                                                  TASKS, ["%.1f" % f for f in parallels]))


def wait_until(cond, deadline, what):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise RuntimeError(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with_overcast("deploy", lambda oc, image: run_rounds(oc, image, args.rounds))


if __name__ == "__main__":
    main()
