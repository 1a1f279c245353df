#!/usr/bin/env python3
"""What CloudTrail's recording costs (issue 14's figures).

Three overcast servers run side by side: one with --cloudtrail=false, one
recording every call (the default: management events into the event
history; S3 object reads are data events, which CloudTrail records only
for trails that select them), and one recording with a logging trail that
selects the bench bucket's data events, so that every S3 GET is recorded
too. For each round, each load runs against
one then the other, so that both see the same machine: sts:GetCallerIdentity
(query protocol) and S3 GET of a 4 KB object (1,000 keys), under 16
connections (wrk, 2 threads), requests SigV4-signed once by botocore with an
IAM key and replayed. The figures are medians of the rounds; the loss is
1 - recording/off throughput. The recording server's event history must
hold the calls afterwards (checked with LookupEvents).

On a machine shared with other work, throughput swings with what else
runs; the server's CPU time per request (from /proc, user + system,
including the recorder's writer and the store) does not, and its ratio is
the throughput a saturated server loses: "CPU loss" below.

Usage: bench/cloudtrail.py [--rounds N] [--seconds S]
"""
import argparse, os, shutil, statistics, sys, tempfile, time

sys.path.insert(0, os.path.dirname(__file__))
from bench import Server, client, free_port, run_wrk, signed_request, wrk, write_json  # noqa: E402
from s3 import real_key, s3_client, signed, wrk_many  # noqa: E402


def cpu_seconds(srv):
    """The server process's CPU time so far, user + system."""
    with open(f"/proc/{srv.proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(port):
    """Lets the events of the load before be written (LookupEvents flushes
    the recorder) and the store's writes settle, so that a load's figures
    are its own and not the tail of the one before."""
    client("cloudtrail", port).lookup_events(MaxResults=1)
    time.sleep(1)


def measured(srv, run, seconds):
    """Runs a load and adds the server's CPU microseconds per request."""
    c0 = cpu_seconds(srv)
    r = run(seconds)
    r["cpu_us"] = (cpu_seconds(srv) - c0) * 1e6 / max(1, r["rps"] * seconds)
    return r


def start(binary, data_dir, recording):
    port = free_port()
    cmd = [binary, "up", "--addr", f"127.0.0.1:{port}", "--data-dir", data_dir]
    if not recording:
        cmd.append("--cloudtrail=false")
    srv = Server("overcast", cmd, port, "/_overcast/health")
    srv.start()
    return srv, port


TRAIL_POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
     "Resource": "arn:aws:s3:::trail-logs"},
    {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
     "Resource": "arn:aws:s3:::trail-logs/AWSLogs/000000000000/*",
     "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}
  ]
}"""


def data_trail(port):
    """A logging trail selecting every object event of the bench bucket."""
    s3c = s3_client(port)
    s3c.create_bucket(Bucket="trail-logs")
    s3c.put_bucket_policy(Bucket="trail-logs", Policy=TRAIL_POLICY)
    ct = client("cloudtrail", port)
    ct.create_trail(Name="objects", S3BucketName="trail-logs")
    ct.put_event_selectors(TrailName="objects", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::bench/"]}]}])
    ct.start_logging(Name="objects")


def loads(port, trail=False):
    """The loads to measure on one server: name → function of seconds."""
    key, secret = real_key("overcast", port)
    if trail:
        data_trail(port)
    sts = signed_request(port, "sts", "Action=GetCallerIdentity&Version=2011-06-15", key, secret)
    c = s3_client(port, key, secret)
    c.create_bucket(Bucket="bench")
    body = os.urandom(2048).hex().encode()  # 4,096 bytes
    for i in range(1000):
        c.put_object(Bucket="bench", Key=f"small/{i:04d}", Body=body)
    gets = [("GET", f"/bench/small/{i:04d}", signed(port, "GET", f"/bench/small/{i:04d}", b"", key, secret), None)
            for i in range(1000)]
    return {
        "sts:GetCallerIdentity": lambda s: wrk(port, sts, s),
        "S3 GET 4 KB": lambda s: wrk_many(port, gets, s),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--overcast", default="bin/overcast")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is needed (apt-get install wrk)")
    tmp = tempfile.mkdtemp()
    servers = {}
    try:
        modes = ("off", "recording", "data trail")
        for mode in modes:
            servers[mode] = start(args.overcast, f"{tmp}/{mode}", mode != "off")
        runs = {mode: loads(port, trail=mode == "data trail") for mode, (_, port) in servers.items()}
        figures = {mode: {op: [] for op in runs[mode]} for mode in runs}
        for mode in runs:  # warm-up
            for run in runs[mode].values():
                run(1)
        for i in range(args.rounds):
            for op in runs["off"]:
                # Alternate which server goes first: whatever drifts on the
                # machine during a round then falls on both alike.
                for mode in modes if i % 2 == 0 else reversed(modes):
                    settle(servers[mode][1])
                    figures[mode][op].append(measured(servers[mode][0], runs[mode][op], args.seconds))
        for mode in modes[1:]:
            ct = client("cloudtrail", servers[mode][1])
            recorded = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetCallerIdentity"}],
                                        MaxResults=50)["Events"]
            if len(recorded) < 50:
                raise RuntimeError(f"the {mode} server's history holds {len(recorded)} GetCallerIdentity events")
        rss = {mode: srv.rss_mb() for mode, (srv, _) in servers.items()}
    finally:
        for srv, _ in servers.values():
            srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    results = {}
    print(f"rounds={args.rounds} seconds={args.seconds} connections=16 cpus={os.cpu_count()}")
    print("| load | server | req/s | loss | CPU µs/req | CPU loss | p50 (ms) |")
    print("|---|---|---|---|---|---|---|")
    for op in figures["off"]:
        m = {mode: {k: statistics.median(r[k] for r in figures[mode][op]) for k in ("rps", "p50_ms", "p99_ms", "cpu_us")}
             for mode in figures}
        results[op] = m
        for mode in modes:
            loss = 1 - m[mode]["rps"] / m["off"]["rps"]
            cpu_loss = 1 - m["off"]["cpu_us"] / m[mode]["cpu_us"]
            m[mode].update(loss=loss, cpu_loss=cpu_loss)
            print(f"| {op} | {mode} | {m[mode]['rps']:.0f} | {loss * 100:.1f}% | {m[mode]['cpu_us']:.0f} | "
                  f"{cpu_loss * 100:.1f}% | {m[mode]['p50_ms']:.2f} |")
    print("| RSS after load (MB) | " + " / ".join(f"{mode} {rss[mode]:.1f}" for mode in modes) + " | | | | | |")
    write_json(args.json, {"loads": results, "rss_mb": rss})


if __name__ == "__main__":
    main()
