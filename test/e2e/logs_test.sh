#!/usr/bin/env bash
# CloudWatch Logs with both aws CLIs: groups, streams, put/get/filter, AWS's
# errors, (v2 only) `aws logs tail`, including --follow while events
# arrive, metric and subscription filters, an export task to S3 (read back
# with `aws s3 cp` and zcat), and Logs Insights queries.
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# export_policy BUCKET: the bucket policy AWS documents for exports to S3.
export_policy() {
  cat <<JSON
{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"}, "Action": "s3:GetBucketAcl",
   "Resource": "arn:aws:s3:::$1", "Condition": {"StringEquals": {"aws:SourceAccount": ["000000000000"]}}},
  {"Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"}, "Action": "s3:PutObject",
   "Resource": "arn:aws:s3:::$1/*", "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
     "aws:SourceAccount": ["000000000000"]}, "ArnLike": {"aws:SourceArn": ["arn:aws:logs:us-east-1:000000000000:log-group:*"]}}}]}
JSON
}

# wait_for WHAT CMD...: runs CMD until it prints "yes" (10 s at most).
wait_for() {
  local what=$1
  shift
  for _ in $(seq 1 100); do
    [ "$("$@")" = yes ] && return 0
    sleep 0.1
  done
  fail "timed out waiting for $what"
}

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

  # Metric filters: stored, counted, tested.
  awsc "$cli" logs put-metric-filter --log-group-name "$group" --filter-name errors --filter-pattern ERROR \
    --metric-transformations metricName=Errors,metricNamespace=E2E,metricValue=1,defaultValue=0
  got=$(awsc "$cli" logs describe-metric-filters --log-group-name "$group" \
    --query 'metricFilters[].[filterName,filterPattern,metricTransformations[0].metricName]' --output text)
  expect_eq "describe-metric-filters" "$got" "errors	ERROR	Errors"
  got=$(awsc "$cli" logs describe-log-groups --log-group-name-prefix "$group" --query 'logGroups[0].metricFilterCount' --output text)
  expect_eq "metricFilterCount" "$got" 1
  got=$(awsc "$cli" logs test-metric-filter --filter-pattern '[ip, user, status = 404, size]' \
    --log-event-messages "10.0.0.1 bob 404 512" "10.0.0.1 bob 200 64" \
    --query 'matches[].[eventNumber,extractedValues."$size"]' --output text)
  expect_eq "test-metric-filter" "$got" "1	512"
  if out=$(awsc "$cli" logs put-metric-filter --log-group-name "$group" --filter-name bad --filter-pattern ERROR \
    --metric-transformations 'metricName=M,metricNamespace=E2E,metricValue=$.latency' 2>&1); then
    fail "a JSON value for a term pattern accepted"
  fi
  expect_contains "bad metric value" "$out" "InvalidParameterException"
  awsc "$cli" logs delete-metric-filter --log-group-name "$group" --filter-name errors

  # Subscription filters: stored (their destinations do not exist yet).
  awsc "$cli" logs put-subscription-filter --log-group-name "$group" --filter-name to-lambda --filter-pattern ERROR \
    --destination-arn arn:aws:lambda:us-east-1:000000000000:function:ship-logs
  got=$(awsc "$cli" logs describe-subscription-filters --log-group-name "$group" \
    --query 'subscriptionFilters[].[filterName,destinationArn,distribution]' --output text)
  expect_eq "describe-subscription-filters" "$got" "to-lambda	arn:aws:lambda:us-east-1:000000000000:function:ship-logs	ByLogStream"
  awsc "$cli" logs delete-subscription-filter --log-group-name "$group" --filter-name to-lambda

  # An export task to S3: refused until the bucket policy lets CloudWatch
  # Logs in, then really exported.
  bucket="e2e-logs-export-$tag"
  awsc "$cli" s3 mb "s3://$bucket" >/dev/null
  export_args=(logs create-export-task --log-group-name "$group" --log-stream-name-prefix web/ --from 0 --to $(($(now_ms) + 60000))
    --destination "$bucket" --destination-prefix exp --query taskId --output text)
  if out=$(awsc "$cli" "${export_args[@]}" 2>&1); then fail "export to a bucket without a policy accepted"; fi
  expect_contains "export without a policy" "$out" "GetBucketAcl call on the given bucket failed"
  export_policy "$bucket" >"$work/policy.json"
  awsc "$cli" s3api put-bucket-policy --bucket "$bucket" --policy "file://$work/policy.json"
  task=$(awsc "$cli" "${export_args[@]}")
  task_done() {
    [ "$(awsc "$cli" logs describe-export-tasks --task-id "$task" --query 'exportTasks[0].status.code' --output text)" = COMPLETED ] && echo yes
  }
  wait_for "the export task" task_done
  got=$(awsc "$cli" s3 cp "s3://$bucket/exp/$task/web/1/000000.gz" - | zcat)
  expect_contains "exported web/1" "$got" "Z GET / 200"
  expect_contains "exported web/1" "$got" "Z ERROR upstream timeout"
  got=$(awsc "$cli" s3 cp "s3://$bucket/exp/aws-logs-write-test" -)
  expect_eq "write test object" "$got" "Permission Check Successful"

  # Logs Insights: start a query, poll its results.
  query() {
    local qid status
    qid=$(awsc "$cli" logs start-query --log-group-name "$group" --start-time $(($(date +%s) - 3600)) \
      --end-time $(($(date +%s) + 3600)) --query-string "$1" --query queryId --output text)
    for _ in $(seq 1 100); do
      status=$(awsc "$cli" logs get-query-results --query-id "$qid" --query status --output text)
      [ "$status" = Complete ] && break
      sleep 0.1
    done
    [ "$status" = Complete ] || fail "query $1: status $status"
    awsc "$cli" logs get-query-results --query-id "$qid" --query "$2" --output text
  }
  got=$(query 'fields @timestamp, @message | filter @message like /ERROR/' 'results[0][?field==`"@message"`].value')
  expect_eq "insights filter" "$got" "ERROR upstream timeout"
  got=$(query 'filter ispresent(ms) | stats count(*) as n, max(ms) as slowest by level' 'results[*].[[0].value, [1].value, [2].value]')
  expect_eq "insights stats" "$got" "WARN	1	950"
  if out=$(awsc "$cli" logs start-query --log-group-name "$group" --start-time 0 --end-time 1 --query-string 'fields @message | sort @timestamp dsc' 2>&1); then
    fail "a malformed query accepted"
  fi
  expect_contains "malformed query" "$out" "MalformedQueryException"
  expect_contains "malformed query" "$out" "unexpected symbol found dsc at line 1 and position 35"

  awsc "$cli" logs delete-log-stream --log-group-name "$group" --log-stream-name web/2
  awsc "$cli" logs delete-log-group --log-group-name "$group"
  if out=$(awsc "$cli" logs delete-log-group --log-group-name "$group" 2>&1); then
    fail "deleted log group deleted again"
  fi
  expect_contains "deleted group" "$out" "The specified log group does not exist."
done
