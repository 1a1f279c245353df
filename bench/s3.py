#!/usr/bin/env python3
"""Side-by-side S3 benchmark of overcast and moto_server (issue 3's figures).

For each server, in one run on this machine:
  - PUT and GET of 4 KB objects (1,000 distinct keys) under 16 concurrent
    connections (wrk; requests SigV4-signed once by botocore and replayed;
    overcast verifies every signature with a real IAM key it issued, moto
    verifies none): throughput, p50, p99 — median of rounds;
  - upload and download of one 256 MB object with curl through presigned
    URLs: throughput, and the server's peak RSS growth over its RSS before
    the transfer (sampled from /proc every 10 ms) — median of rounds;
  - a full paginated ListObjectsV2 (1,000 keys a page) of a bucket holding
    100,000 keys, with botocore — median of rounds.

Usage: bench/s3.py [--rounds N] [--seconds S] [--keys 100000] [--big-mb 256]
"""
import argparse, html, http.client, json, os, re, shutil, statistics, subprocess, sys, tempfile, threading, time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

sys.path.insert(0, os.path.dirname(__file__))
from bench import client, free_port, load, overcast_server, moto, print_load, run_wrk, write_json  # noqa: E402


def s3_client(port, key="test", secret="test"):
    return client("s3", port, key, secret, config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def real_key(name, port):
    """A key whose signatures the server can verify: an IAM key on overcast."""
    if name != "overcast":
        return "test", "test"
    iam = client("iam", port)
    iam.create_user(UserName="bench")
    k = iam.create_access_key(UserName="bench")["AccessKey"]
    return k["AccessKeyId"], k["SecretAccessKey"]


def signed(port, method, path, body, key, secret):
    req = AWSRequest(method=method, url=f"http://127.0.0.1:{port}{path}", data=body)
    S3SigV4Auth(Credentials(key, secret), "s3", "us-east-1").add_auth(req)
    # wrk.format runs before wrk knows the host: name it.
    h = {k: v for k, v in req.headers.items() if k.lower() not in ("host", "content-length")}
    h["Host"] = f"127.0.0.1:{port}"
    return h


LUA = """
local reqs = {}
%s
local i = 0
init = function(args) i = math.random(#reqs) end
request = function()
  i = i + 1
  if i > #reqs then i = 1 end
  return reqs[i]
end
"""


def wrk_many(port, requests, seconds, connections=16):
    """Runs wrk cycling through the prepared (method, path, headers, body)."""
    lines = []
    for method, path, headers, body in requests:
        h = "{" + ",".join(f"[{json.dumps(k)}]={json.dumps(v)}" for k, v in headers.items()) + "}"
        b = json.dumps(body.decode()) if body else "nil"
        lines.append(f"reqs[#reqs+1] = wrk.format({json.dumps(method)}, {json.dumps(path)}, {h}, {b})")
    return run_wrk(port, LUA % "\n".join(lines), seconds, connections=connections, threads=min(2, connections))


class RSSSampler:
    """Samples a process's RSS every 10 ms and keeps the peak."""

    def __init__(self, srv):
        self.srv, self.peak, self.stop = srv, 0.0, threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, self.srv.rss_mb())
            time.sleep(0.01)

    def __enter__(self):
        self.base = self.srv.rss_mb()
        self.t.start()
        return self

    def __exit__(self, *a):
        self.stop.set()
        self.t.join()


def populate(port, bucket, n, workers=16):
    """PUTs n empty objects as fast as the server takes them (not measured
    against the other server: setup). Requests carry an Authorization header
    with an unknown key, which overcast accepts unverified outside --strict
    and moto ignores."""
    def work(w):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for i in range(w, n, workers):
            c.request("PUT", f"/{bucket}/k/{i:07d}", body=b"", headers={**fake_auth(), "Content-Length": "0"})
            r = c.getresponse()
            r.read()
            if r.status != 200:
                raise RuntimeError(f"populate: {r.status}")
        c.close()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        list(ex.map(work, range(workers)))
    return time.perf_counter() - t0


def fake_auth():
    """Headers of a request signed with a key nobody issued: overcast takes
    it unverified outside --strict, moto verifies nothing."""
    now = time.gmtime()
    return {"Authorization": "AWS4-HMAC-SHA256 Credential=bench/" + time.strftime("%Y%m%d", now) +
            "/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00",
            "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", now), "X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"}


def list_raw(port, bucket):
    """Pages through ListObjectsV2 over one HTTP connection, reading only the
    continuation token: the server's share of a full listing."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    t0 = time.perf_counter()
    n, token = 0, None
    while True:
        q = "list-type=2&max-keys=1000" + (f"&continuation-token={urllib.parse.quote(token, safe='')}" if token else "")
        c.request("GET", f"/{bucket}?{q}", headers=fake_auth())
        body = c.getresponse().read().decode()
        n += body.count("<Key>")
        m = re.search(r"<NextContinuationToken>([^<]+)</NextContinuationToken>", body)
        if not m:
            break
        token = html.unescape(m.group(1))
    c.close()
    return time.perf_counter() - t0, n


def list_all(client, bucket):
    t0 = time.perf_counter()
    n = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 1000}):
        n += len(page.get("Contents", []))
    return time.perf_counter() - t0, n


def bench_server(name, srv, port, args, tmp):
    key, secret = real_key(name, port)
    c = s3_client(port, key, secret)
    c.create_bucket(Bucket="bench")
    res = {}

    body = os.urandom(2048).hex().encode()  # 4,096 bytes
    puts = [("PUT", f"/bench/small/{i:04d}", signed(port, "PUT", f"/bench/small/{i:04d}", body, key, secret), body)
            for i in range(1000)]
    gets = [("GET", f"/bench/small/{i:04d}", signed(port, "GET", f"/bench/small/{i:04d}", b"", key, secret), None)
            for i in range(1000)]
    # PUT's warm-up creates the objects GET reads.
    for op, reqs in (("PUT 4 KB", puts), ("GET 4 KB", gets)):
        res[op] = load(lambda s: wrk_many(port, reqs, s), args.rounds, args.seconds)

    big = os.path.join(tmp, "big.bin")
    if not os.path.exists(big):
        with open(big, "wb") as f:
            for _ in range(args.big_mb):
                f.write(os.urandom(1 << 20))
    up, down, growth = [], [], []
    for i in range(args.rounds):
        k = f"big-{i}"
        put_url = c.generate_presigned_url("put_object", Params={"Bucket": "bench", "Key": k}, ExpiresIn=3600)
        get_url = c.generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": k}, ExpiresIn=3600)
        with RSSSampler(srv) as rss:
            t0 = time.perf_counter()
            subprocess.run(["curl", "-fsS", "-o", "/dev/null", "-T", big, put_url], check=True)
            t1 = time.perf_counter()
            subprocess.run(["curl", "-fsS", "-o", "/dev/null", get_url], check=True)
            t2 = time.perf_counter()
        up.append(args.big_mb / (t1 - t0))
        down.append(args.big_mb / (t2 - t1))
        growth.append(rss.peak - rss.base)
        c.delete_object(Bucket="bench", Key=k)
    res["big"] = {"up_mbps": statistics.median(up), "down_mbps": statistics.median(down),
                  "rss_growth_mb": statistics.median(growth), "rss_growth_max_mb": max(growth)}

    c.create_bucket(Bucket="listing")
    res["populate_s"] = populate(port, "listing", args.keys)
    times, raw = [], []
    for _ in range(args.rounds):
        t, n = list_all(c, "listing")
        if n != args.keys:
            raise RuntimeError(f"{name}: listed {n} keys, want {args.keys}")
        times.append(t)
        t, n = list_raw(port, "listing")
        if n != args.keys:
            raise RuntimeError(f"{name}: raw listing got {n} keys, want {args.keys}")
        raw.append(t)
    res["list_s"] = statistics.median(times)
    res["list_raw_s"] = statistics.median(raw)
    res["rss_end_mb"] = srv.rss_mb()
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--keys", type=int, default=100_000)
    ap.add_argument("--big-mb", type=int, default=256)
    ap.add_argument("--overcast", default="bin/overcast")
    ap.add_argument("--only", choices=["overcast", "moto"])
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    for tool in ("wrk", "curl"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is needed")

    results = {}
    tmp = tempfile.mkdtemp()
    try:
        for name in ("overcast", "moto"):
            if args.only and name != args.only:
                continue
            port = free_port()
            srv = overcast_server(args.overcast, port, f"{tmp}/data") if name == "overcast" else moto(port)
            srv.start()
            try:
                results[name] = bench_server(name, srv, port, args, tmp)
            finally:
                srv.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"rounds={args.rounds} seconds={args.seconds} keys={args.keys} big={args.big_mb}MB connections=16 cpus={os.cpu_count()}")
    if len(results) < 2:
        print(json.dumps(results, indent=2))
        return
    o, m = results["overcast"], results["moto"]
    print("| metric | overcast | moto_server | ratio |")
    print("|---|---|---|---|")
    for op in ("PUT 4 KB", "GET 4 KB"):
        print_load(op, o[op], m[op])
    a, b = o["big"], m["big"]
    print(f"| {args.big_mb} MB upload (MB/s) | {a['up_mbps']:.0f} | {b['up_mbps']:.0f} | {a['up_mbps'] / b['up_mbps']:.1f}x |")
    print(f"| {args.big_mb} MB download (MB/s) | {a['down_mbps']:.0f} | {b['down_mbps']:.0f} | {a['down_mbps'] / b['down_mbps']:.1f}x |")
    print(f"| {args.big_mb} MB up+down: server RSS growth (MB, median / max) | {a['rss_growth_mb']:.1f} / {a['rss_growth_max_mb']:.1f} | "
          f"{b['rss_growth_mb']:.1f} / {b['rss_growth_max_mb']:.1f} | {b['rss_growth_mb'] / max(a['rss_growth_mb'], 0.1):.0f}x smaller |")
    print(f"| ListObjectsV2, {args.keys:,} keys, all pages, botocore paginator (s) | {o['list_s']:.2f} | {m['list_s']:.2f} | {m['list_s'] / o['list_s']:.1f}x faster |")
    print(f"| ListObjectsV2, {args.keys:,} keys, all pages, raw HTTP (s) | {o['list_raw_s']:.2f} | {m['list_raw_s']:.2f} | {m['list_raw_s'] / o['list_raw_s']:.1f}x faster |")
    print(f"| PUT {args.keys:,} empty objects, 16 threads (s, setup) | {o['populate_s']:.1f} | {m['populate_s']:.1f} | {m['populate_s'] / o['populate_s']:.1f}x |")
    print(f"| RSS at the end (MB) | {o['rss_end_mb']:.0f} | {m['rss_end_mb']:.0f} | |")
    write_json(args.json, results)


if __name__ == "__main__":
    main()
