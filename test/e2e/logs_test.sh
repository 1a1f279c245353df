#!/usr/bin/env bash
# CloudWatch Logs with both aws CLIs: groups, streams, put/get/filter, AWS's
# errors, and (v2 only) `aws logs tail`, including --follow while events
# arrive.
source "$(dirname "$0")/lib.sh"

now_ms() { echo $(($(date +%s) * 1000)); }

# events_json TS MSG [TS MSG...]: a --log-events JSON list.
events_json() {
  local out="[" sep=""
  while [ $# -gt 0 ]; do
    out+="$sep{\"timestamp\":$1,\"message\":\"$2\"}"
    sep=","
    shift 2
  done
  echo "$out]"
}

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  group="/e2e/logs-$tag"

  awsc "$cli" logs create-log-group --log-group-name "$group" --tags team=ci
  awsc "$cli" logs create-log-stream --log-group-name "$group" --log-stream-name web/1
  awsc "$cli" logs create-log-stream --log-group-name "$group" --log-stream-name web/2

  if out=$(awsc "$cli" logs create-log-group --log-group-name "$group" 2>&1); then
    fail "duplicate log group accepted"
  fi
  expect_contains "duplicate group" "$out" "ResourceAlreadyExistsException"

  t=$(now_ms)
  token=$(awsc "$cli" logs put-log-events --log-group-name "$group" --log-stream-name web/1 \
    --log-events "$(events_json $((t - 3)) "GET / 200" $((t - 1)) "ERROR upstream timeout")" \
    --query nextSequenceToken --output text)
  [ -n "$token" ] || fail "no nextSequenceToken"
  # A stale sequence token is ignored, as AWS now does.
  awsc "$cli" logs put-log-events --log-group-name "$group" --log-stream-name web/2 --sequence-token 42 \
    --log-events "$(events_json $((t - 2)) '{\"level\":\"WARN\",\"ms\":950}')" >/dev/null

  got=$(awsc "$cli" logs get-log-events --log-group-name "$group" --log-stream-name web/1 --start-from-head \
    --query 'events[].message' --output text)
  expect_eq "get-log-events" "$got" "GET / 200	ERROR upstream timeout"
  fwd=$(awsc "$cli" logs get-log-events --log-group-name "$group" --log-stream-name web/1 --query nextForwardToken --output text)
  expect_contains "forward token" "$fwd" "f/"
  again=$(awsc "$cli" logs get-log-events --log-group-name "$group" --log-stream-name web/1 --next-token "$fwd" --query nextForwardToken --output text)
  expect_eq "forward token at the end" "$again" "$fwd"

  got=$(awsc "$cli" logs filter-log-events --log-group-name "$group" --query 'events[].[logStreamName,message]' --output text)
  expect_eq "filter-log-events, interleaved" "$got" "web/1	GET / 200
web/2	{\"level\":\"WARN\",\"ms\":950}
web/1	ERROR upstream timeout"
  got=$(awsc "$cli" logs filter-log-events --log-group-name "$group" --filter-pattern ERROR --query 'events[].message' --output text)
  expect_eq "filter-log-events ERROR" "$got" "ERROR upstream timeout"
  got=$(awsc "$cli" logs filter-log-events --log-group-name "$group" --filter-pattern '{ $.ms > 500 }' \
    --log-stream-names web/2 --query 'events[].logStreamName' --output text)
  expect_eq "filter-log-events JSON" "$got" "web/2"

  # The CLI's paginator follows nextToken page by page (--page-size).
  got=$(awsc "$cli" logs filter-log-events --log-group-name "$group" --page-size 1 --query 'events[].eventId' --output text | sort -u | wc -l)
  expect_eq "paginated filter-log-events" "$got" 3

  got=$(awsc "$cli" logs describe-log-streams --log-group-name "$group" --order-by LastEventTime --descending \
    --query 'logStreams[].[logStreamName,storedBytes]' --output text)
  expect_eq "describe-log-streams" "$got" "web/1	31
web/2	25"

  awsc "$cli" logs put-retention-policy --log-group-name "$group" --retention-in-days 7
  got=$(awsc "$cli" logs describe-log-groups --log-group-name-prefix "$group" --query 'logGroups[].[logGroupName,retentionInDays]' --output text)
  expect_eq "describe-log-groups" "$got" "$group	7"
  if out=$(awsc "$cli" logs put-retention-policy --log-group-name "$group" --retention-in-days 2 2>&1); then
    fail "retention of 2 days accepted"
  fi
  expect_contains "bad retention" "$out" "InvalidParameterException"
  got=$(awsc "$cli" logs list-tags-log-group --log-group-name "$group" --query tags.team --output text)
  expect_eq "tags" "$got" ci

  if out=$(awsc "$cli" logs put-log-events --log-group-name "$group" --log-stream-name web/1 \
    --log-events "$(events_json "$t" b $((t - 1)) a)" 2>&1); then
    fail "out-of-order batch accepted"
  fi
  expect_contains "out of order" "$out" "must be in chronological order"
  if out=$(awsc "$cli" logs get-log-events --log-group-name "$group" --log-stream-name nope 2>&1); then
    fail "missing stream found"
  fi
  expect_contains "missing stream" "$out" "The specified log stream does not exist."

  if [ "$tag" = v2 ]; then
    got=$(awsc "$cli" logs tail "$group" --format short)
    expect_contains "logs tail" "$got" "ERROR upstream timeout"

    # --follow polls FilterLogEvents every 5 s; events put while it runs must
    # show up. Python buffers stdout to a file, hence PYTHONUNBUFFERED.
    out_file=$(mktemp)
    PYTHONUNBUFFERED=1 awsc "$cli" logs tail "$group" --follow --since 1m --format short >"$out_file" 2>&1 &
    tail_pid=$!
    sleep 2
    awsc "$cli" logs put-log-events --log-group-name "$group" --log-stream-name web/2 \
      --log-events "$(events_json "$(now_ms)" "followed event")" >/dev/null
    seen=""
    for _ in $(seq 1 30); do
      if grep -q "followed event" "$out_file"; then seen=1; break; fi
      sleep 0.5
    done
    kill "$tail_pid" 2>/dev/null || true
    wait "$tail_pid" 2>/dev/null || true
    got=$(cat "$out_file")
    rm -f "$out_file"
    [ -n "$seen" ] || fail "logs tail --follow did not print the new event; it printed: $got"
    expect_contains "tail --follow, earlier events" "$got" "ERROR upstream timeout"
    [ "$(grep -c "followed event" <<<"$got")" = 1 ] || fail "tail --follow printed the new event more than once: $got"
  fi

  awsc "$cli" logs delete-log-stream --log-group-name "$group" --log-stream-name web/2
  awsc "$cli" logs delete-log-group --log-group-name "$group"
  if out=$(awsc "$cli" logs delete-log-group --log-group-name "$group" 2>&1); then
    fail "deleted log group deleted again"
  fi
  expect_contains "deleted group" "$out" "The specified log group does not exist."
done
