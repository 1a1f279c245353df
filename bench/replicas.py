#!/usr/bin/env python3
"""Several replicas (issue 15): two overcasts sharing one PostgreSQL and one
blob store against one overcast on SQLite, in the same run; and how long the
controllers take to move to the other replica after kill -9 of the leader.

  - sts:GetCallerIdentity, S3 4 KB PUT and GET: the SQLite overcast under
    16 connections (one wrk); the two replicas under 8 connections each (two
    wrk at once, one per replica: what a balancer in front would spread),
    their throughputs added. Requests are SigV4-signed once with a real IAM
    key and replayed. Median of rounds.
  - failover: kill -9 of the replica holding the controllers' lease, then the
    time until the other's /_overcast/health says "controllers": "running";
    objects PUT to the leader while it dies are read back from the other
    (acknowledged writes lost). The killed one is started again, as standby,
    before the next round.

The PostgreSQL cluster is started here (initdb in a temporary directory,
Unix socket only, run as the overcast-pg system user when root, default
durability settings); the blob store is a third overcast's S3.

Usage: bench/replicas.py [--rounds 3] [--seconds 5] [--failovers 5] [--lease-ttl 5s]
"""
import argparse, http.client, json, os, pwd, shutil, statistics, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(__file__))
from bench import Server, client, free_port, load, signed_request, wrk  # noqa: E402
from s3 import signed, wrk_many  # noqa: E402

PG_USER = "overcast-pg"


class Postgres:
    """A throwaway PostgreSQL cluster on a Unix socket."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="overcast-pg-bench-")
        self.user = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(PG_USER)
            except KeyError:
                subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER], check=True)
            self.user = PG_USER
            shutil.chown(self.dir, PG_USER, PG_USER)

    def run(self, *argv):
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, user=self.user)

    def start(self):
        data = os.path.join(self.dir, "data")
        self.run("initdb", "--pgdata", data, "--username", "postgres", "--auth", "trust", "--encoding", "UTF8", "--no-locale")
        self.run("pg_ctl", "--pgdata", data, "start", "--wait", "--log", os.path.join(self.dir, "postgres.log"),
                 "-o", f"-c listen_addresses='' -c unix_socket_directories='{self.dir}' -c port=5432 -c max_connections=200")
        self.run("psql", "--no-psqlrc", "--quiet", "--host", self.dir, "--username", "postgres", "--dbname", "postgres",
                 "--command", "CREATE DATABASE bench")
        return f"postgres://postgres@/bench?host={self.dir}"

    def stop(self):
        try:
            self.run("pg_ctl", "--pgdata", os.path.join(self.dir, "data"), "stop", "--mode", "fast")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def overcast(binary, port, data_dir, *extra, env=None):
    return Server("overcast", [binary, "up", "--addr", f"127.0.0.1:{port}", "--data-dir", data_dir, *extra],
                  port, "/_overcast/health", env=env)


def health(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        c.request("GET", "/_overcast/health")
        return json.loads(c.getresponse().read())
    except TimeoutError:
        return {}  # a loaded machine: not known to be running yet
    finally:
        c.close()


def setup(port):
    """An IAM key to sign with and a bucket to load, made through port."""
    iam = client("iam", port)
    iam.create_user(UserName="bench")
    k = iam.create_access_key(UserName="bench")["AccessKey"]
    client("s3", port).create_bucket(Bucket="bench")
    return k["AccessKeyId"], k["SecretAccessKey"]


def ops(port, key, secret):
    """The loads, each a function of seconds and connections, against port."""
    body = os.urandom(4096).hex()[:4096].encode()
    puts = [("PUT", f"/bench/small/{i:04d}", signed(port, "PUT", f"/bench/small/{i:04d}", body, key, secret), body) for i in range(1000)]
    gets = [("GET", f"/bench/small/{i:04d}", signed(port, "GET", f"/bench/small/{i:04d}", b"", key, secret), None) for i in range(1000)]
    sts = signed_request(port, "sts", "Action=GetCallerIdentity&Version=2011-06-15", key, secret)
    # GET reads what one writer put, whatever PUT's load left failed.
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for method, path, headers, data in puts:
        for attempt in range(5):  # as the SDKs retry a 500
            c.request(method, path, body=data, headers=headers)
            r = c.getresponse()
            r.read()
            if r.status == 200:
                break
        else:
            raise RuntimeError(f"populating {path}: {r.status}")
    c.close()
    return {
        "sts:GetCallerIdentity": lambda s, c: wrk(port, sts, s, c),
        "S3 PUT 4 KB": lambda s, c: wrk_many(port, puts, s, c),
        "S3 GET 4 KB": lambda s, c: wrk_many(port, gets, s, c),
    }


def together(loads, seconds):
    """Runs one load per replica at once; adds throughputs, keeps the worst
    latencies."""
    out = [None] * len(loads)
    threads = [threading.Thread(target=lambda i=i, f=f: out.__setitem__(i, f(seconds))) for i, f in enumerate(loads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"rps": sum(r["rps"] for r in out), "p50_ms": max(r["p50_ms"] for r in out),
            "p99_ms": max(r["p99_ms"] for r in out), "non2xx": sum(r["non2xx"] for r in out)}


def failover(binary, replicas, rounds):
    """kill -9 of the leader, rounds times: seconds until the other leads,
    and acknowledged PUTs the survivor cannot read."""
    times, lost, acked_total = [], 0, 0
    for _ in range(rounds):
        deadline = time.time() + 30
        while True:
            leaders = [r for r in replicas if r.proc and health(r.port).get("controllers") == "running"]
            if len(leaders) == 1:
                break
            if time.time() > deadline:
                raise RuntimeError("no single leader")
            time.sleep(0.05)
        leader = leaders[0]
        other = next(r for r in replicas if r is not leader)
        s3 = client("s3", leader.port)
        acked, stop = [], threading.Event()
        def writer():
            i = 0
            while not stop.is_set():
                key = f"failover/{time.time_ns()}-{i}"
                try:
                    s3.put_object(Bucket="bench", Key=key, Body=key.encode())
                    acked.append(key)
                except Exception:
                    return
                i += 1
        t = threading.Thread(target=writer)
        t.start()
        time.sleep(0.3)
        leader.proc.kill()  # SIGKILL: no release of the lease
        t0 = time.perf_counter()
        leader.proc.wait()
        leader.proc = None
        while health(other.port).get("controllers") != "running":
            if time.perf_counter() - t0 > 60:
                raise RuntimeError("no takeover within 60 s")
            time.sleep(0.01)
        times.append(time.perf_counter() - t0)
        stop.set()
        t.join()
        survivor = client("s3", other.port)
        for key in acked:
            try:
                if survivor.get_object(Bucket="bench", Key=key)["Body"].read() != key.encode():
                    lost += 1
            except Exception:
                lost += 1
        acked_total += len(acked)
        leader.start()  # back as standby
    return times, lost, acked_total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--failovers", type=int, default=5)
    ap.add_argument("--lease-ttl", default="5s")
    ap.add_argument("--overcast", default="bin/overcast")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is needed (apt-get install wrk)")

    tmp = tempfile.mkdtemp()
    pg = Postgres()
    servers = []
    try:
        url = pg.start()
        # The blob store the replicas share: a third overcast's S3.
        blob_port = free_port()
        blobhost = overcast(args.overcast, blob_port, f"{tmp}/blobhost")
        servers.append(blobhost)
        blobhost.start()
        client("s3", blob_port).create_bucket(Bucket="blobs")
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"}
        replicas = []
        for i in range(2):
            port = free_port()
            r = overcast(args.overcast, port, f"{tmp}/replica-{i}", "--store", url, "--lease-ttl", args.lease_ttl,
                         "--blobs", "s3://blobs/replicas", "--blobs-endpoint", f"http://127.0.0.1:{blob_port}", env=env)
            servers.append(r)
            r.start()
            replicas.append(r)
        single_port = free_port()
        single = overcast(args.overcast, single_port, f"{tmp}/single")
        servers.append(single)
        single.start()

        results = {}
        key, secret = setup(single_port)
        single_ops = ops(single_port, key, secret)
        key, secret = setup(replicas[0].port)
        replica_ops = [ops(r.port, key, secret) for r in replicas]
        for op in single_ops:
            results[op] = {
                "sqlite": load(lambda s: single_ops[op](s, 16), args.rounds, args.seconds),
                "replicas": load(lambda s: together([lambda s, o=o: o[op](s, 8) for o in replica_ops], s), args.rounds, args.seconds),
            }
        times, lost, acked = failover(args.overcast, replicas, args.failovers)
    finally:
        for s in servers:
            s.stop()
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"rounds={args.rounds} seconds={args.seconds} cpus={os.cpu_count()} lease-ttl={args.lease_ttl}")
    print("| load | 1 overcast, SQLite | 2 replicas, PostgreSQL | ratio |")
    print("|---|---|---|---|")
    for op, r in results.items():
        a, b = r["sqlite"], r["replicas"]
        print(f"| {op} req/s | {a['rps']:.0f} | {b['rps']:.0f} | {b['rps'] / a['rps']:.2f}x |")
        print(f"| {op} p50 (ms) | {a['p50_ms']:.2f} | {b['p50_ms']:.2f} | |")
        print(f"| {op} p99 (ms) | {a['p99_ms']:.2f} | {b['p99_ms']:.2f} | |")
        if a["non2xx"] or b["non2xx"]:
            print(f"| {op} non-2xx | {a['non2xx']} | {b['non2xx']} | |")
    print(f"failover after kill -9 of the leader (s): {' '.join(f'{t:.2f}' for t in times)}; "
          f"median {statistics.median(times):.2f}, max {max(times):.2f}")
    print(f"acknowledged PUTs during the kills: {acked}, lost: {lost}")


if __name__ == "__main__":
    main()
