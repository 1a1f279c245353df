#!/usr/bin/env bash
# CloudWatch metrics and alarms with both aws CLIs: v1 speaks the service's
# query-compatible JSON 1.0, v2 (Debian's) its query protocol; the Go SDK's
# CBOR is covered by the integration tests.
source "$(dirname "$0")/lib.sh"

# Two minutes ago, on a minute boundary: a complete period on either side.
t1=$(date -u -d '-2 minutes' +%Y-%m-%dT%H:%M:00Z)
from=$(date -u -d '-10 minutes' +%Y-%m-%dT%H:%M:00Z)
to=$(date -u -d '+1 minute' +%Y-%m-%dT%H:%M:00Z)

# Whole doubles print as 20 from JSON (v1) and 20.0 from XML (v2).
whole() { sed -E 's/([0-9])\.0(\s|$)/\1\2/g'; }

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  ns="E2E/$tag"

  # Datapoints in one period come back aggregated.
  awsc "$cli" cloudwatch put-metric-data --namespace "$ns" --metric-name Latency --unit Milliseconds \
    --dimensions Service=web --timestamp "$t1" --value 10
  awsc "$cli" cloudwatch put-metric-data --namespace "$ns" --metric-data \
    "MetricName=Latency,Dimensions=[{Name=Service,Value=web}],Timestamp=$t1,Value=30,Unit=Milliseconds"
  got=$(awsc "$cli" cloudwatch get-metric-statistics --namespace "$ns" --metric-name Latency --dimensions Name=Service,Value=web \
    --start-time "$from" --end-time "$to" --period 60 --statistics Average Maximum SampleCount \
    --query 'Datapoints[0].[Average,Maximum,SampleCount,Unit]' --output text | whole)
  expect_eq "get-metric-statistics" "$got" "$(printf '20\t30\t2\tMilliseconds')"
  got=$(awsc "$cli" cloudwatch list-metrics --namespace "$ns" --query 'Metrics[].[MetricName,Dimensions[0].Value]' --output text)
  expect_eq "list-metrics" "$got" "$(printf 'Latency\tweb')"
  got=$(awsc "$cli" cloudwatch get-metric-data --start-time "$from" --end-time "$to" --metric-data-queries \
    "[{\"Id\":\"m1\",\"MetricStat\":{\"Metric\":{\"Namespace\":\"$ns\",\"MetricName\":\"Latency\",\"Dimensions\":[{\"Name\":\"Service\",\"Value\":\"web\"}]},\"Period\":60,\"Stat\":\"Sum\"}}]" \
    --query 'MetricDataResults[0].Values' --output text | whole)
  expect_eq "get-metric-data" "$got" "40"

  # An alarm: created unchecked, set by hand, listed, its history, deleted.
  # Its metric has no data and missing data is ignored, so the evaluations
  # the real clock runs meanwhile keep whatever state it is in.
  awsc "$cli" cloudwatch put-metric-alarm --alarm-name "high-$tag" --namespace "$ns" --metric-name Latency \
    --dimensions Name=Service,Value=api --statistic Average --period 60 --evaluation-periods 3 --datapoints-to-alarm 2 \
    --threshold 50 --comparison-operator GreaterThanThreshold --treat-missing-data ignore
  got=$(awsc "$cli" cloudwatch describe-alarms --alarm-names "high-$tag" --query 'MetricAlarms[0].[StateValue,StateReason,AlarmArn]' --output text)
  expect_eq "new alarm" "$got" "$(printf 'INSUFFICIENT_DATA\tUnchecked: Initial alarm creation\tarn:aws:cloudwatch:us-east-1:000000000000:alarm:high-%s' "$tag")"
  awsc "$cli" cloudwatch set-alarm-state --alarm-name "high-$tag" --state-value ALARM --state-reason "e2e"
  got=$(awsc "$cli" cloudwatch describe-alarms --state-value ALARM --alarm-name-prefix high- --query 'MetricAlarms[].AlarmName' --output text)
  expect_contains "describe-alarms --state-value ALARM" "$got" "high-$tag"
  got=$(awsc "$cli" cloudwatch describe-alarms-for-metric --namespace "$ns" --metric-name Latency \
    --dimensions Name=Service,Value=api --query 'MetricAlarms[0].DatapointsToAlarm' --output text)
  expect_eq "describe-alarms-for-metric" "$got" 2
  got=$(awsc "$cli" cloudwatch describe-alarm-history --alarm-name "high-$tag" --history-item-type StateUpdate \
    --query 'AlarmHistoryItems[0].HistorySummary' --output text)
  expect_eq "describe-alarm-history" "$got" "Alarm updated from INSUFFICIENT_DATA to ALARM"

  # Bad input gets CloudWatch's error codes.
  if out=$(awsc "$cli" cloudwatch set-alarm-state --alarm-name "missing-$tag" --state-value OK --state-reason x 2>&1); then
    fail "set-alarm-state of an unknown alarm succeeded"
  fi
  expect_contains "unknown alarm" "$out" ResourceNotFound
  if out=$(awsc "$cli" cloudwatch put-metric-data --namespace AWS/EC2 --metric-name M --value 1 2>&1); then
    fail "put-metric-data into AWS/EC2 succeeded"
  fi
  expect_contains "reserved namespace" "$out" InvalidParameterValue
  if out=$(awsc "$cli" cloudwatch get-metric-statistics --namespace "$ns" --metric-name Latency \
    --start-time "$from" --end-time "$to" --period 61 --statistics Sum 2>&1); then
    fail "get-metric-statistics with a 61 s period succeeded"
  fi
  expect_contains "odd period" "$out" InvalidParameterValue

  awsc "$cli" cloudwatch delete-alarms --alarm-names "high-$tag"
  got=$(awsc "$cli" cloudwatch describe-alarms --alarm-names "high-$tag" --query 'length(MetricAlarms)' --output text)
  expect_eq "after delete-alarms" "$got" 0
done
