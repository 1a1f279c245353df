#!/usr/bin/env bash
# SNS with both aws CLIs: a topic, an HTTP subscriber (python3's
# http.server) that confirms its subscription by fetching SubscribeURL as
# a real endpoint does, a publish it receives signed, raw delivery, a
# queue subscription (the queue policy lets the topic in), an email
# subscription recorded at /_overcast/sns/email, and the errors of a FIFO
# publish without a group.
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/subscriber.py" <<'EOF'
import http.server, json, sys, threading, urllib.request

log = sys.argv[2]

class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        kind = self.headers.get("x-amz-sns-message-type", "")
        with open(log, "a") as f:
            f.write(json.dumps({"type": kind, "raw": self.headers.get("x-amz-sns-rawdelivery", ""),
                                "subscription": self.headers.get("x-amz-sns-subscription-arn", ""), "body": body}) + "\n")
        self.send_response(200)
        self.end_headers()
        if kind == "SubscriptionConfirmation":
            url = json.loads(body)["SubscribeURL"]
            threading.Thread(target=lambda: urllib.request.urlopen(url).read()).start()

    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
EOF
python3 "$work/subscriber.py" "$port" "$work/posts.jsonl" &
subscriber=$!
trap 'kill $subscriber 2>/dev/null || true; rm -rf "$work"' EXIT
touch "$work/posts.jsonl"

# posts TYPE: the bodies the subscriber got of that message type.
posts() { python3 -c 'import json,sys
for line in open(sys.argv[1]):
    p = json.loads(line)
    if p["type"] == sys.argv[2]: print(json.dumps(p))' "$work/posts.jsonl" "$1"; }

# wait_posts TYPE N: until the subscriber has N posts of TYPE.
wait_posts() {
  for _ in $(seq 1 100); do
    [ "$(posts "$1" | wc -l)" -ge "$2" ] && return
    sleep 0.1
  done
  fail "subscriber got $(posts "$1" | wc -l) $1 posts, want $2"
}

n=0
for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  topic=$(awsc "$cli" sns create-topic --name "builds-$tag" --attributes DisplayName=Builds --query TopicArn --output text)
  expect_eq "create-topic" "$topic" "arn:aws:sns:us-east-1:000000000000:builds-$tag"
  got=$(awsc "$cli" sns get-topic-attributes --topic-arn "$topic" --query 'Attributes.[DisplayName,Owner]' --output text)
  expect_eq "get-topic-attributes" "$got" "$(printf 'Builds\t000000000000')"

  got=$(awsc "$cli" sns subscribe --topic-arn "$topic" --protocol http --notification-endpoint "http://127.0.0.1:$port/$tag" \
    --query SubscriptionArn --output text)
  expect_eq "subscribe" "$got" "pending confirmation"
  n=$((n + 1))
  wait_posts SubscriptionConfirmation "$n"
  for _ in $(seq 1 100); do
    sub=$(awsc "$cli" sns list-subscriptions-by-topic --topic-arn "$topic" --query 'Subscriptions[0].SubscriptionArn' --output text)
    [ "$sub" != PendingConfirmation ] && break
    sleep 0.1
  done
  expect_contains "confirmed subscription" "$sub" "$topic:"

  id=$(awsc "$cli" sns publish --topic-arn "$topic" --subject Build --message "build 7 FAILED" \
    --message-attributes '{"state":{"DataType":"String","StringValue":"FAILED"}}' --query MessageId --output text)
  wait_posts Notification "$((2 * n - 1))"
  got=$(posts Notification | tail -1)
  expect_contains "notification" "$got" "$id"
  expect_contains "notification subscription header" "$got" "\"subscription\": \"$sub\""
  # Verify the signature as a subscriber would: SigningCertURL's key over
  # the string to sign.
  posts Notification | tail -1 | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["body"])' >"$work/msg.json"
  python3 - "$work/msg.json" "$work" <<'EOF' || fail "signature does not verify"
import base64, json, subprocess, sys, urllib.request
m = json.load(open(sys.argv[1]))
open(sys.argv[2] + "/cert.pem", "wb").write(urllib.request.urlopen(m["SigningCertURL"]).read())
text = "".join(f"{k}\n{m[k]}\n" for k in ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"] if k in m)
open(sys.argv[2] + "/text", "w").write(text)
open(sys.argv[2] + "/sig", "wb").write(base64.b64decode(m["Signature"]))
subprocess.run(["sh", "-c", "openssl x509 -in cert.pem -pubkey -noout > pub.pem && openssl dgst -sha1 -verify pub.pem -signature sig text"],
               cwd=sys.argv[2], check=True, capture_output=True)
EOF

  awsc "$cli" sns set-subscription-attributes --subscription-arn "$sub" --attribute-name RawMessageDelivery --attribute-value true
  awsc "$cli" sns publish --topic-arn "$topic" --message "bare body" >/dev/null
  wait_posts Notification "$((2 * n))"
  got=$(posts Notification | tail -1)
  expect_contains "raw delivery" "$got" '"raw": "true"'
  expect_contains "raw body" "$got" '"body": "bare body"'

  awsc "$cli" sns subscribe --topic-arn "$topic" --protocol email --notification-endpoint "ops-$tag@example.com" >/dev/null
  for _ in $(seq 1 100); do
    got=$(curl -fsS "$OVERCAST_ENDPOINT/_overcast/sns/email?to=ops-$tag@example.com")
    case "$got" in *Confirmation*) break;; esac
    sleep 0.1
  done
  expect_contains "recorded confirmation email" "$got" "AWS Notification - Subscription Confirmation"

  # Fan-out to a queue whose policy lets the topic in.
  q=$(awsc "$cli" sqs create-queue --queue-name "fanout-$tag" --query QueueUrl --output text)
  qarn=$(awsc "$cli" sqs get-queue-attributes --queue-url "$q" --attribute-names QueueArn --query Attributes.QueueArn --output text)
  python3 -c 'import json,sys; print(json.dumps({"Policy": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": sys.argv[1],
    "Condition": {"ArnEquals": {"aws:SourceArn": sys.argv[2]}}}]})}))' "$qarn" "$topic" >"$work/queue-policy.json"
  awsc "$cli" sqs set-queue-attributes --queue-url "$q" --attributes "file://$work/queue-policy.json"
  awsc "$cli" sns subscribe --topic-arn "$topic" --protocol sqs --notification-endpoint "$qarn" >/dev/null
  id=$(awsc "$cli" sns publish --topic-arn "$topic" --message "to the queue" --query MessageId --output text)
  got=$(awsc "$cli" sqs receive-message --queue-url "$q" --wait-time-seconds 10 --query 'Messages[0].Body' --output text)
  expect_contains "queued envelope" "$got" "\"MessageId\":\"$id\""
  expect_contains "queued message" "$got" '"Message":"to the queue"'

  fifo=$(awsc "$cli" sns create-topic --name "jobs-$tag.fifo" --attributes FifoTopic=true --query TopicArn --output text)
  if out=$(awsc "$cli" sns publish --topic-arn "$fifo" --message x 2>&1); then fail "FIFO publish without a group succeeded"; fi
  expect_contains "FIFO publish without a group" "$out" "The MessageGroupId parameter is required for FIFO topics"

  awsc "$cli" sns unsubscribe --subscription-arn "$sub"
  awsc "$cli" sns delete-topic --topic-arn "$topic"
  awsc "$cli" sns delete-topic --topic-arn "$fifo"
  got=$(awsc "$cli" sns list-topics --query "Topics[?TopicArn=='$topic']" --output text)
  expect_eq "list-topics after delete" "$got" ""
done
