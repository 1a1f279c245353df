#!/usr/bin/env python3
"""Side-by-side SQS benchmark of overcast and moto_server (issue 12's figures).

For each server, in one run on this machine: messages sent, received and
deleted through one standard queue under 16 concurrent connections (wrk,
SQS's JSON protocol as current SDKs speak it). Each connection's Lua state
sends a message, receives up to 10 and deletes each received one by its
receipt handle, so every message makes the full round (a thread keeps at
most 16 messages beyond those it deleted in the queue). Reported: completed
messages (deleted) per second, requests per second and the p50/p99 latency
of all requests — median of rounds. Requests carry an Authorization header
with a key nobody issued: overcast takes it unverified outside --strict,
moto verifies nothing. overcast writes every message to its store before
answering; moto keeps them in memory.

Usage: bench/sqs.py [--rounds N] [--seconds S] [--overcast bin/overcast] [--json out.json]
"""
import argparse, os, re, statistics, sys, tempfile, time

sys.path.insert(0, os.path.dirname(__file__))
from bench import client, free_port, overcast_server, moto, run_wrk, write_json  # noqa: E402

LUA = r"""
local url = "%(url)s"
local auth = "AWS4-HMAC-SHA256 Credential=AKIAUNKNOWNBENCHKEY1/%(day)s/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000"
local handles = {}
sends, deletes = 0, 0
local threads = {}

local function call(op, body)
  return wrk.format("POST", "/", {
    ["Content-Type"] = "application/x-amz-json-1.0",
    ["X-Amz-Target"] = "AmazonSQS." .. op,
    ["X-Amz-Date"] = "%(now)s",
    ["Authorization"] = auth,
  }, body)
end

setup = function(thread) table.insert(threads, thread) end

request = function()
  if #handles > 0 then
    local h = table.remove(handles)
    deletes = deletes + 1
    return call("DeleteMessage", '{"QueueUrl":"' .. url .. '","ReceiptHandle":"' .. h .. '"}')
  end
  if sends <= deletes + 16 then
    sends = sends + 1
    return call("SendMessage", '{"QueueUrl":"' .. url .. '","MessageBody":"benchmark message body"}')
  end
  return call("ReceiveMessage", '{"QueueUrl":"' .. url .. '","MaxNumberOfMessages":10}')
end

response = function(status, headers, body)
  for h in string.gmatch(body, '"ReceiptHandle"%%s*:%%s*"([^"]+)"') do
    table.insert(handles, h)
  end
end

done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("deletes") end
  io.write(string.format("deleted: %%d\n", total))
end
"""


def run(port, url, seconds):
    """Runs the send/receive/delete loop and returns messages/s, req/s,
    p50, p99 and non-2xx answers."""
    now = time.gmtime()
    script = LUA % {"url": url, "day": time.strftime("%Y%m%d", now), "now": time.strftime("%Y%m%dT%H%M%SZ", now)}
    res = run_wrk(port, script, seconds, keep_output=True)
    res["mps"] = int(re.search(r"deleted: (\d+)", res.pop("output")).group(1)) / seconds
    return res


def measure(srv, rounds, seconds):
    srv.start()
    try:
        url = client("sqs", srv.port).create_queue(QueueName="bench")["QueueUrl"]
        run(srv.port, url, 1)  # warm-up
        runs = [run(srv.port, url, seconds) for _ in range(rounds)]
        res = {k: statistics.median(r[k] for r in runs) for k in ("mps", "rps", "p50_ms", "p99_ms")}
        res["non2xx"] = sum(r["non2xx"] for r in runs)
        return res
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--overcast", default="bin/overcast")
    ap.add_argument("--json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        a = measure(overcast_server(args.overcast, free_port(), d), args.rounds, args.seconds)
    b = measure(moto(free_port()), args.rounds, args.seconds)
    print("| SQS send+receive+delete | overcast | moto | ratio |")
    print("|---|---|---|---|")
    print(f"| messages/s (full round) | {a['mps']:.0f} | {b['mps']:.0f} | {a['mps'] / b['mps']:.1f}x |")
    print(f"| requests/s | {a['rps']:.0f} | {b['rps']:.0f} | {a['rps'] / b['rps']:.1f}x |")
    print(f"| p50 (ms) | {a['p50_ms']:.2f} | {b['p50_ms']:.2f} | {b['p50_ms'] / a['p50_ms']:.1f}x lower |")
    print(f"| p99 (ms) | {a['p99_ms']:.2f} | {b['p99_ms']:.2f} | {b['p99_ms'] / a['p99_ms']:.1f}x lower |")
    if a["non2xx"] or b["non2xx"]:
        print(f"| non-2xx | {a['non2xx']} | {b['non2xx']} | |")
    write_json(args.json, {"overcast": a, "moto": b})


if __name__ == "__main__":
    main()
