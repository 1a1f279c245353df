#!/usr/bin/env python3
"""`git clone` from overcast's CodeCommit against git http-backend behind
nginx (fcgiwrap), in one run.

A repository of 10,000 commits (made with git fast-import: each commit
changes one of 200 files) is pushed to an overcast CodeCommit repository
and copied as a bare repository that nginx serves through fcgiwrap and the
same `git http-backend` overcast runs. The rounds then interleave a bare
`git clone` from each (protocol v2, the default); overcast's clones carry a
credential helper's SigV4 password for an IAM user's key, signed here as
`aws codecommit credential-helper` signs it, so that each clone pays for
the signature check. Reported: median clone time of each and the ratio
(nginx's time over overcast's: 1.0 is as fast, the target is >= 0.8).

  python3 bench/git/git.py --rounds 5 [--commits 10000] [--overcast bin/overcast]
"""
import argparse
import datetime
import hashlib
import hmac
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from bench import free_port  # noqa: E402  bench/bench.py
from alb import start_overcast, stop  # noqa: E402  bench/alb.py

GIT_ENV = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null", GIT_TERMINAL_PROMPT="0")


def git(*args, cwd=None, stdin=None):
    r = subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, input=stdin, capture_output=True)
    if r.returncode != 0:
        raise subprocess.CalledProcessError(r.returncode, r.args, r.stdout, r.stderr.decode(errors="replace"))
    return r.stdout


def make_repo(path, commits):
    """A repository of commits commits, each changing one of 200 files."""
    git("init", "-q", "--bare", path)
    out = []
    when = 1700000000
    for i in range(commits):
        content = ("commit %d\n" % i).encode() * 20
        out.append(b"commit refs/heads/main\n")
        out.append(b"committer bench <bench@example.com> %d +0000\n" % (when + i))
        msg = b"change %d\n" % i
        out.append(b"data %d\n%s" % (len(msg), msg))
        out.append(b"M 100644 inline file%03d.txt\n" % (i % 200))
        out.append(b"data %d\n%s\n" % (len(content), content))
    git("fast-import", "--quiet", cwd=path, stdin=b"".join(out))
    git("repack", "-adq", cwd=path)


def git_password(secret, region, host, path, now):
    """The credential helper's password: SigV4 of "GIT <path>" for codecommit."""
    ts = now.strftime("%Y%m%dT%H%M%S")
    canonical = "GIT\n%s\n\nhost:%s\n\nhost\n" % (path, host)
    scope = "%s/%s/codecommit/aws4_request" % (ts[:8], region)
    to_sign = "AWS4-HMAC-SHA256\n%s\n%s\n%s" % (ts, scope, hashlib.sha256(canonical.encode()).hexdigest())
    key = ("AWS4" + secret).encode()
    for part in (ts[:8], region, "codecommit", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return ts + "Z" + hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def clone_seconds(url, work):
    dest = os.path.join(work, "clone")
    shutil.rmtree(dest, ignore_errors=True)
    start = time.monotonic()
    git("clone", "-q", "--bare", url, dest)
    took = time.monotonic() - start
    shutil.rmtree(dest)
    return took


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--commits", type=int, default=10000)
    p.add_argument("--overcast", default=os.path.join(os.path.dirname(HERE), "..", "bin", "overcast"))
    args = p.parse_args()
    for tool in ("nginx", "fcgiwrap"):
        if not shutil.which(tool):
            sys.exit("git.py: %s is not installed" % tool)
    backend = os.path.join(git("--exec-path").decode().strip(), "git-http-backend")

    work = tempfile.mkdtemp(prefix="bench-git-")
    procs = []
    try:
        src = os.path.join(work, "src.git")
        t0 = time.monotonic()
        make_repo(src, args.commits)
        print("made %d commits in %.1fs" % (args.commits, time.monotonic() - t0))

        _, endpoint, port = start_overcast(args.overcast, work, procs)
        cfg = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        iam = boto3.client("iam", **cfg)
        iam.create_user(UserName="bench")
        key = iam.create_access_key(UserName="bench")["AccessKey"]
        boto3.client("codecommit", **cfg).create_repository(repositoryName="big")
        host = "git-codecommit.us-east-1.amazonaws.com.localhost"
        password = git_password(key["SecretAccessKey"], "us-east-1", host, "/v1/repos/big", datetime.datetime.now(datetime.timezone.utc))
        overcast_url = "http://%s:%s@%s:%d/v1/repos/big" % (key["AccessKeyId"], urllib.parse.quote(password, safe=""), host, port)
        git("push", "-q", overcast_url, "main", cwd=src)

        root = os.path.join(work, "nginx-repos")
        os.makedirs(root)
        git("clone", "-q", "--bare", "--no-local", src, os.path.join(root, "big"))
        fcgi_port, nginx_port = free_port(), free_port()
        procs.append(subprocess.Popen(["fcgiwrap", "-s", "tcp:127.0.0.1:%d" % fcgi_port]))
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            values = dict(DIR=work, PORT=nginx_port, FCGI="127.0.0.1:%d" % fcgi_port, ROOT=root, BACKEND=backend)
            f.write(re.sub(r"\{\{(\w+)\}\}", lambda m: str(values[m.group(1)]), open(os.path.join(HERE, "nginx.conf")).read()))
        procs.append(subprocess.Popen(["nginx", "-c", conf, "-g", "daemon off;"]))
        nginx_url = "http://127.0.0.1:%d/v1/repos/big" % nginx_port
        for _ in range(100):
            try:
                git("ls-remote", nginx_url)
                break
            except subprocess.CalledProcessError:
                time.sleep(0.05)

        times = {"overcast": [], "nginx": []}
        for r in range(args.rounds):
            for name, url in (("overcast", overcast_url), ("nginx", nginx_url)):
                times[name].append(clone_seconds(url, work))
            print("round %d: overcast %.3fs, nginx %.3fs" % (r + 1, times["overcast"][-1], times["nginx"][-1]))
        o, n = statistics.median(times["overcast"]), statistics.median(times["nginx"])
        print("\n| git clone --bare, %d commits | median (s) |" % args.commits)
        print("|---|---|")
        print("| overcast (SigV4 password, CodeCommit) | %.3f |" % o)
        print("| nginx + fcgiwrap + git http-backend | %.3f |" % n)
        print("| ratio (nginx time / overcast time; target >= 0.8) | %.2f |" % (n / o))
    finally:
        stop(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
