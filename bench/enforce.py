#!/usr/bin/env python3
"""Overhead of IAM enforcement (--enforce-iam), in one run on this machine.

Two overcast servers run side by side, one permissive and one enforcing,
with the same state: an IAM user whose inline policy allows what it is
asked (plus a Deny on another prefix, so evaluation has statements to
weigh), a bucket of 1,000 4 KB objects and a tagged secret. For each of
sts:GetCallerIdentity, S3 GET 4 KB (cycling through the keys) and Secrets
Manager GetSecretValue, which the policy allows only on a secret tagged
team=bench (aws:ResourceTag: the enforcing server reads the secret's tags
on every call), the rounds alternate between
the two servers under 16 connections (wrk), requests SigV4-signed once
with the user's key and replayed; the medians are compared.

Usage: bench/enforce.py [--rounds N] [--seconds S]
"""
import argparse, json, os, shutil, statistics, sys, tempfile

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, os.path.dirname(__file__))
from bench import client, free_port, overcast_server, signed_request, wrk  # noqa: E402
from s3 import s3_client, signed, wrk_many  # noqa: E402

POLICY = """{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::bench","arn:aws:s3:::bench/*"]},
 {"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::bench/private/*"},
 {"Effect":"Allow","Action":"sts:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
 {"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"bench"}}}]}"""
KEYS = 1000


def prepare(port):
    """The user, its key, and the bucket, made by the root."""
    iam = client("iam", port)
    iam.create_user(UserName="bench")
    iam.put_user_policy(UserName="bench", PolicyName="bench", PolicyDocument=POLICY)
    k = iam.create_access_key(UserName="bench")["AccessKey"]
    s3 = s3_client(port)
    s3.create_bucket(Bucket="bench")
    body = os.urandom(4096)
    for i in range(KEYS):
        s3.put_object(Bucket="bench", Key=f"k/{i:04d}", Body=body)
    client("secretsmanager", port).create_secret(Name="bench", SecretString="s3cr3t", Tags=[{"Key": "team", "Value": "bench"}])
    return k["AccessKeyId"], k["SecretAccessKey"]


def signed_json(port, service, target, body, key, secret):
    """A JSON-protocol POST signed for replay (valid 15 minutes)."""
    req = AWSRequest(method="POST", url=f"http://127.0.0.1:{port}/", data=json.dumps(body),
                     headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target})
    SigV4Auth(Credentials(key, secret), service, "us-east-1").add_auth(req)
    return req


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--overcast", default="bin/overcast")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    servers = {}
    try:
        for mode in ("off", "on"):
            port = free_port()
            srv = overcast_server(args.overcast, port, f"{tmp}/{mode}")
            if mode == "on":
                srv.argv.append("--enforce-iam")
            srv.start()
            servers[mode] = (srv, port, prepare(port))
        runs = {}
        for mode, (_, port, (key, secret)) in servers.items():
            sts = signed_request(port, "sts", "Action=GetCallerIdentity&Version=2011-06-15", key, secret)
            gets = [("GET", f"/bench/k/{i:04d}", signed(port, "GET", f"/bench/k/{i:04d}", b"", key, secret), b"") for i in range(KEYS)]
            secret_get = signed_json(port, "secretsmanager", "secretsmanager.GetSecretValue", {"SecretId": "bench"}, key, secret)
            runs[mode] = {"sts:GetCallerIdentity": (lambda s, p=port, r=sts: wrk(p, r, s)),
                          "S3 GET 4 KB": (lambda s, p=port, g=gets: wrk_many(p, g, s)),
                          "GetSecretValue (aws:ResourceTag)": (lambda s, p=port, r=secret_get: wrk(p, r, s))}
        results = {mode: {op: [] for op in runs[mode]} for mode in runs}
        for op in runs["off"]:
            for mode in runs:
                runs[mode][op](1)  # warm-up
            for _ in range(args.rounds):
                for mode in runs:  # alternate, so that the machine's other load falls on both alike
                    results[mode][op].append(runs[mode][op](args.seconds))
    finally:
        for srv, _, _ in servers.values():
            srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"rounds={args.rounds} seconds={args.seconds} connections=16 cpus={os.cpu_count()}")
    print("| operation | enforcement off req/s | on req/s | on/off | p50 off (ms) | p50 on (ms) | non-2xx |")
    print("|---|---|---|---|---|---|---|")
    for op in results["off"]:
        off, on = results["off"][op], results["on"][op]
        med = lambda rs, k: statistics.median(r[k] for r in rs)
        non2xx = sum(r["non2xx"] for r in off + on)
        print(f"| {op} | {med(off, 'rps'):.0f} | {med(on, 'rps'):.0f} | {med(on, 'rps') / med(off, 'rps'):.3f} | "
              f"{med(off, 'p50_ms'):.2f} | {med(on, 'p50_ms'):.2f} | {non2xx} |")


if __name__ == "__main__":
    main()
