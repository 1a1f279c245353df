#!/usr/bin/env bash
# EventBridge with both aws CLIs: a custom bus, a rule with an event
# pattern and an input transformer, PutEvents (with its per-entry errors),
# the event delivered to a CloudWatch Logs log group target and to an SQS
# queue whose policy lets EventBridge send, the rule listings,
# TestEventPattern, and AWS's errors for bad patterns and schedules.
source "$(dirname "$0")/lib.sh"

# log_messages CLI GROUP STREAM: the stream's messages once it has any;
# delivery is asynchronous (10 s at most).
log_messages() {
  local out
  for _ in $(seq 1 100); do
    if out=$(awsc "$1" logs get-log-events --log-group-name "$2" --log-stream-name "$3" \
      --query 'events[].message' --output text 2>/dev/null) && [ -n "$out" ]; then
      echo "$out"
      return
    fi
    sleep 0.1
  done
  fail "no event in $2/$3"
}

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  bus="orders-$tag"
  group="/e2e/events-$tag"

  arn=$(awsc "$cli" events create-event-bus --name "$bus" --query EventBusArn --output text)
  expect_eq "bus ARN" "$arn" "arn:aws:events:us-east-1:000000000000:event-bus/$bus"
  awsc "$cli" logs create-log-group --log-group-name "$group"

  rule_arn=$(awsc "$cli" events put-rule --name big --event-bus-name "$bus" \
    --event-pattern '{"source":["shop"],"detail":{"total":[{"numeric":[">",100]}]}}' --query RuleArn --output text)
  expect_eq "rule ARN" "$rule_arn" "arn:aws:events:us-east-1:000000000000:rule/$bus/big"
  awsc "$cli" events put-targets --rule big --event-bus-name "$bus" --targets "[{\"Id\":\"log\",
    \"Arn\":\"arn:aws:logs:us-east-1:000000000000:log-group:$group\",
    \"InputTransformer\":{\"InputPathsMap\":{\"who\":\"\$.detail.customer\",\"total\":\"\$.detail.total\"},
      \"InputTemplate\":\"{\\\"message\\\": \\\"<who> spent <total>\\\", \\\"total\\\": <total>}\"}}]" >/dev/null
  queue_url=$(awsc "$cli" sqs create-queue --queue-name "events-$tag" --query QueueUrl --output text)
  queue_arn="arn:aws:sqs:us-east-1:000000000000:events-$tag"
  policy="{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"events.amazonaws.com\"},\"Action\":\"sqs:SendMessage\",\"Resource\":\"$queue_arn\",\"Condition\":{\"ArnEquals\":{\"aws:SourceArn\":\"$rule_arn\"}}}]}"
  awsc "$cli" sqs set-queue-attributes --queue-url "$queue_url" --attributes "{\"Policy\":$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$policy")}"
  awsc "$cli" events put-targets --rule big --event-bus-name "$bus" \
    --targets "[{\"Id\":\"queue\",\"Arn\":\"$queue_arn\",\"InputPath\":\"\$.detail\"}]" >/dev/null
  expect_eq "rules by target" "$(awsc "$cli" events list-rule-names-by-target --event-bus-name "$bus" \
    --target-arn "arn:aws:logs:us-east-1:000000000000:log-group:$group" --query 'RuleNames[0]' --output text)" big

  entries="[{\"Source\":\"shop\",\"DetailType\":\"Order Placed\",\"Detail\":\"{\\\"total\\\":150,\\\"customer\\\":\\\"ann\\\"}\",\"EventBusName\":\"$bus\"},
    {\"Source\":\"shop\",\"DetailType\":\"Order Placed\",\"Detail\":\"{\\\"total\\\":50,\\\"customer\\\":\\\"bob\\\"}\",\"EventBusName\":\"$bus\"},
    {\"Source\":\"shop\",\"DetailType\":\"Order Placed\",\"Detail\":\"not json\",\"EventBusName\":\"$bus\"}]"
  out=$(awsc "$cli" events put-events --entries "$entries" --query '[FailedEntryCount, Entries[0].EventId, Entries[2].ErrorCode]' --output text)
  read -r failed event_id code <<<"$out"
  expect_eq "failed entries" "$failed" 1
  expect_eq "malformed detail" "$code" MalformedDetail
  expect_eq "delivered" "$(log_messages "$cli" "$group" "$event_id")" '{"message": "ann spent 150", "total": 150}'
  body=$(awsc "$cli" sqs receive-message --queue-url "$queue_url" --wait-time-seconds 5 --query 'Messages[0].Body' --output text)
  expect_eq "queue target" "$body" '{"total":150,"customer":"ann"}'

  out=$(awsc "$cli" events test-event-pattern --event-pattern '{"detail":{"state":[{"prefix":"run"}]}}' \
    --event '{"id":"1","source":"x","detail-type":"y","account":"000000000000","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{"state":"running"}}' \
    --query Result --output text)
  expect_eq "test-event-pattern" "$out" True

  if out=$(awsc "$cli" events put-rule --name bad --event-pattern '{"source":"shop"}' 2>&1); then
    fail "invalid pattern accepted"
  fi
  expect_contains "invalid pattern" "$out" "InvalidEventPatternException"
  expect_contains "invalid pattern" "$out" '"source" must be an object or an array'
  if out=$(awsc "$cli" events put-rule --name bad --schedule-expression 'rate(1 minutes)' 2>&1); then
    fail "invalid schedule accepted"
  fi
  expect_contains "invalid schedule" "$out" "Parameter ScheduleExpression is not valid."
  awsc "$cli" events put-rule --name "tick-$tag" --schedule-expression 'cron(0/5 * ? * MON-FRI *)' >/dev/null
  expect_eq "schedule" "$(awsc "$cli" events describe-rule --name "tick-$tag" --query ScheduleExpression --output text)" 'cron(0/5 * ? * MON-FRI *)'
  awsc "$cli" events delete-rule --name "tick-$tag"

  if out=$(awsc "$cli" events delete-rule --name big --event-bus-name "$bus" 2>&1); then
    fail "rule with targets deleted"
  fi
  expect_contains "delete with targets" "$out" "Rule can't be deleted since it has targets."
  awsc "$cli" events remove-targets --rule big --event-bus-name "$bus" --ids log queue >/dev/null
  awsc "$cli" events delete-rule --name big --event-bus-name "$bus"
  awsc "$cli" events delete-event-bus --name "$bus"
  expect_eq "rules left" "$(awsc "$cli" events list-rules --event-bus-name default --query 'length(Rules)' --output text)" 0
done
