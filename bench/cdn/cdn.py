#!/usr/bin/env python3
"""CloudFront's edge against nginx proxy_cache and Varnish, in one run.

One origin (bench/cdn/origin) sits behind three caches: an overcast
CloudFront distribution made through the API of `overcast up` (custom
origin, the managed CachingOptimized policy), nginx with proxy_cache and
proxy_cache_lock (bench/cdn/nginx.conf), and Varnish with its built-in VCL
(bench/cdn/varnish.vcl). Caches are warmed, then the rounds interleave:

- 1 KB and 100 KB hits under wrk: requests/s, and the server's CPU time per
  request (user + system of the process and its children, from /proc);
- p99 at a fixed rate (half of nginx's 1 KB hit rate) with an open-loop
  generator (bench/cdn/loadgen) that times each request from when it was due;
- 1,000 concurrent misses on one cold key (the origin answers after 200 ms):
  how many requests reached the origin;
- overcast only: a signed-URL hit (canned policy, RSA key in a trusted key
  group) and a hit through a trivial viewer-request CloudFront Function,
  each against a plain hit in CPU per request.

  python3 bench/cdn/cdn.py --rounds 5 --seconds 5
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import urllib.request

import boto3
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from bench import free_port  # noqa: E402  bench/bench.py
from alb import start_overcast, stop, wrk_cpu  # noqa: E402  bench/alb.py
from ecs_tasks import wait_http  # noqa: E402

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"

GET = '''
wrk.method = "GET"
wrk.path = {path}
wrk.headers["Host"] = {host}
'''


def template(name, **values):
    """A config of bench/cdn with its {{NAME}} placeholders filled in."""
    with open(os.path.join(HERE, name)) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace("{{%s}}" % k, str(v))
    return text


def build(work, name, pkg):
    out = os.path.join(work, name)
    subprocess.run(["go", "build", "-o", out, pkg], cwd=os.path.dirname(os.path.dirname(HERE)), check=True)
    return out


def count(origin_port):
    with urllib.request.urlopen("http://127.0.0.1:%d/_count" % origin_port) as r:
        return int(r.read())


def get_status(port, host, path):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), headers={"Host": host})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            r.read()
            return r.status, r.headers.get("X-Cache", "")
    except urllib.error.HTTPError as e:
        return e.code, ""


def distribution(endpoint, origin_port):
    """Creates the distribution and returns its domain name and a signed
    URL's query string, once it is Deployed."""
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
    cf = session.client("cloudfront", endpoint_url=endpoint)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    pk = cf.create_public_key(PublicKeyConfig={"CallerReference": "bench", "Name": "bench", "EncodedKey": pub})["PublicKey"]
    kg = cf.create_key_group(KeyGroupConfig={"Name": "bench", "Items": [pk["Id"]]})["KeyGroup"]
    fn = cf.create_function(Name="bench-noop", FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"},
                            FunctionCode=b"function handler(event) { return event.request; }")
    etag = cf.publish_function(Name="bench-noop", IfMatch=fn["ETag"])["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]

    def behaviour(pattern, **extra):
        b = {"TargetOriginId": "origin", "ViewerProtocolPolicy": "allow-all", "CachePolicyId": CACHING_OPTIMIZED}
        if pattern:
            b["PathPattern"] = pattern
        b.update(extra)
        return b
    config = {
        "CallerReference": "bench", "Comment": "bench/cdn", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "origin", "DomainName": "origin.localhost",
                                              "CustomOriginConfig": {"HTTPPort": origin_port, "HTTPSPort": 443,
                                                                     "OriginProtocolPolicy": "http-only"}}]},
        "DefaultCacheBehavior": behaviour(None),
        "CacheBehaviors": {"Quantity": 2, "Items": [
            behaviour("/signed/*", TrustedKeyGroups={"Enabled": True, "Quantity": 1, "Items": [kg["Id"]]}),
            behaviour("/fn/*", FunctionAssociations={"Quantity": 1, "Items": [
                {"FunctionARN": etag, "EventType": "viewer-request"}]}),
        ]},
    }
    d = cf.create_distribution(DistributionConfig=config)["Distribution"]
    cf.get_waiter("distribution_deployed").wait(Id=d["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    signer = CloudFrontSigner(pk["Id"], lambda msg: key.sign(msg, padding.PKCS1v15(), hashes.SHA1()))
    url = signer.generate_presigned_url("http://%s/signed/1k" % d["DomainName"],
                                        date_less_than=datetime.datetime.now() + datetime.timedelta(days=1))
    return d["DomainName"], url[url.index("/signed/"):]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=64)
    args = ap.parse_args()
    work = tempfile.mkdtemp()
    os.chmod(work, 0o755)  # varnishd's worker runs as its own user
    origin_bin = build(work, "origin", "./bench/cdn/origin")
    loadgen_bin = build(work, "loadgen", "./bench/cdn/loadgen")
    overcast_bin = build(work, "overcast", "./cmd/overcast")
    procs = []
    try:
        origin_port = free_port()
        procs.append(subprocess.Popen([origin_bin, str(origin_port)]))
        wait_http("http://127.0.0.1:%d/1k" % origin_port)

        overcast, endpoint, api_port = start_overcast(overcast_bin, work, procs)
        domain, signed_path = distribution(endpoint, origin_port)

        nginx_port = free_port()
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(template("nginx.conf", DIR=work, PORT=nginx_port, UPSTREAM="127.0.0.1:%d" % origin_port))
        nginx = subprocess.Popen(["nginx", "-c", conf, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
        procs.append(nginx)

        varnish_port = free_port()
        vcl = os.path.join(work, "bench.vcl")
        with open(vcl, "w") as f:
            f.write(template("varnish.vcl", HOST="127.0.0.1", PORT=origin_port))
        os.chmod(vcl, 0o644)
        varnish = subprocess.Popen(["varnishd", "-F", "-n", os.path.join(work, "varnish"), "-a", "127.0.0.1:%d" % varnish_port,
                                    "-f", vcl, "-s", "malloc,256m"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(varnish)
        servers = {"overcast": (api_port, domain, overcast.pid), "nginx": (nginx_port, "localhost", nginx.pid),
                   "varnish": (varnish_port, "localhost", varnish.pid)}
        for name, (port, host, _) in servers.items():
            wait_http("http://127.0.0.1:%d/1k" % port, host=host)

        def hit(name, path, seconds):
            port, host, pid = servers[name]
            return wrk_cpu(pid, port, GET.format(path=json.dumps(path), host=json.dumps(host)), seconds, args.connections)

        # Warm every cache, and check that hits are hits.
        for name, (port, host, _) in servers.items():
            for path in ("/1k", "/100k", "/fn/1k", signed_path):
                if name != "overcast" and path != "/1k" and path != "/100k":
                    continue
                get_status(port, host, path)
                status, xcache = get_status(port, host, path)
                if status != 200:
                    raise RuntimeError("%s %s: status %d" % (name, path, status))
                if name == "overcast" and not xcache.startswith("Hit"):
                    raise RuntimeError("overcast %s: X-Cache %r after a warm-up" % (path, xcache))
            hit(name, "/1k", 1)
        count(origin_port)

        cases = [(name, path) for path in ("/1k", "/100k") for name in servers]
        cases += [("overcast", signed_path), ("overcast", "/fn/1k")]
        results = {case: [] for case in cases}
        for _ in range(args.rounds):
            for case in cases:
                results[case].append(hit(case[0], case[1], args.seconds))
        reached = count(origin_port)
        med = {case: {k: statistics.median(r[k] for r in runs) for k in ("rps", "p99_ms", "cpu_us")}
               for case, runs in results.items()}
        errors = {case: sum(r["non2xx"] for r in runs) for case, runs in results.items()}

        # p99 at a fixed rate: half of nginx's 1 KB hit rate.
        rate = int(med[("nginx", "/1k")]["rps"] / 2)
        # A p99 is the tail of one run: take the median of as many runs as
        # the rounds, the servers' order alternating, so that a stall of
        # the machine's (the generator needs about a core at this rate)
        # does not land on one server every time.
        fixed = {name: [] for name in servers}
        for i in range(args.rounds):
            for name in (list(servers) if i % 2 == 0 else list(reversed(servers))):
                port, host, _ = servers[name]
                out = subprocess.run([loadgen_bin, "rate", "http://127.0.0.1:%d/1k" % port, host, str(rate),
                                      str(args.seconds), str(args.connections)], capture_output=True, text=True, check=True)
                fixed[name].append(json.loads(out.stdout))
        fixed_p99 = {name: statistics.median(r["p99_ms"] for r in runs) for name, runs in fixed.items()}

        # 1,000 concurrent misses on one cold key each.
        collapsed = {}
        for name, (port, host, _) in servers.items():
            count(origin_port)
            out = subprocess.run([loadgen_bin, "burst", "http://127.0.0.1:%d/slow/%s" % (port, name), host, "1000"],
                                 capture_output=True, text=True, check=True)
            collapsed[name] = (count(origin_port), json.loads(out.stdout))

        o, n, v = (lambda size: med[("overcast", size)]), (lambda size: med[("nginx", size)]), (lambda size: med[("varnish", size)])
        print("| %d connections, median of %d rounds of %d s | overcast | nginx | Varnish | overcast/nginx | overcast/Varnish |"
              % (args.connections, args.rounds, args.seconds))
        print("|---|---|---|---|---|---|")
        for size in ("/1k", "/100k"):
            label = {"/1k": "1 KB", "/100k": "100 KB"}[size]
            for metric, fmt in (("rps", "%.0f"), ("cpu_us", "%.1f"), ("p99_ms", "%.2f")):
                name = {"rps": "req/s", "cpu_us": "CPU per request (µs)", "p99_ms": "p99 under wrk (ms)"}[metric]
                a, b, c = o(size)[metric], n(size)[metric], v(size)[metric]
                print(("| %s hit, %s | " + fmt + " | " + fmt + " | " + fmt + " | %.2fx | %.2fx |") % (label, name, a, b, c, a / b, a / c))
        print("| 1 KB hit, p99 at %d req/s (ms) | %.2f | %.2f | %.2f | %.2fx | %.2fx |" % (
            rate, fixed_p99["overcast"], fixed_p99["nginx"], fixed_p99["varnish"],
            fixed_p99["overcast"] / fixed_p99["nginx"], fixed_p99["overcast"] / fixed_p99["varnish"]))
        print("| 1,000 concurrent misses on one key: origin fetches | %d | %d | %d | | |" % (
            collapsed["overcast"][0], collapsed["nginx"][0], collapsed["varnish"][0]))
        plain = o("/1k")["cpu_us"]
        print()
        print("| overcast, 1 KB hit | CPU per request (µs) | vs a plain hit |")
        print("|---|---|---|")
        print("| plain | %.1f | |" % plain)
        print("| signed URL (canned, RSA) | %.1f | %.2fx |" % (med[("overcast", signed_path)]["cpu_us"], med[("overcast", signed_path)]["cpu_us"] / plain))
        print("| viewer-request function (returns the request) | %.1f | +%.1f µs |" % (med[("overcast", "/fn/1k")]["cpu_us"], med[("overcast", "/fn/1k")]["cpu_us"] - plain))
        print()
        print("requests that reached the origin during the hit rounds: %d; non-2xx: %s" % (
            reached, {"%s %s" % (k[0], k[1][:12]): e for k, e in errors.items() if e}))
        print(json.dumps({"hits": {"%s %s" % k: r for k, r in results.items()}, "fixed": fixed,
                          "collapsed": {k: c[1] for k, c in collapsed.items()}}))
    finally:
        stop(procs)


if __name__ == "__main__":
    main()
