#!/usr/bin/env bash
# Application Auto Scaling of an ECS service with both aws CLIs (JSON 1.1):
# a scalable target, a target tracking policy and the CloudWatch alarms it
# creates, scheduled actions, AWS's errors. Scaling by alarms and schedules
# is covered by the Go tests.
source "$(dirname "$0")/lib.sh"

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  cluster="aas-$tag"
  resource="service/$cluster/web"
  target=(--service-namespace ecs --scalable-dimension ecs:service:DesiredCount --resource-id "$resource")

  awsc "$cli" ecs create-cluster --cluster-name "$cluster" >/dev/null
  awsc "$cli" ecs register-task-definition --family "aas-$tag" \
    --container-definitions '[{"name":"web","image":"web:latest","memory":64}]' >/dev/null
  awsc "$cli" ecs create-service --cluster "$cluster" --service-name web --task-definition "aas-$tag" --desired-count 0 >/dev/null

  # A policy before its target is registered.
  if out=$(awsc "$cli" application-autoscaling put-scaling-policy "${target[@]}" --policy-name cpu \
    --policy-type TargetTrackingScaling --target-tracking-scaling-policy-configuration \
    '{"TargetValue":50,"PredefinedMetricSpecification":{"PredefinedMetricType":"ECSServiceAverageCPUUtilization"}}' 2>&1); then
    fail "put-scaling-policy without a target succeeded"
  fi
  expect_contains "unregistered target" "$out" "ObjectNotFoundException"
  if out=$(awsc "$cli" application-autoscaling register-scalable-target --service-namespace ecs \
    --scalable-dimension ecs:service:DesiredCount --resource-id "service/$cluster/nope" --min-capacity 1 --max-capacity 2 2>&1); then
    fail "register-scalable-target of an unknown service succeeded"
  fi
  expect_contains "unknown service" "$out" "ECS service doesn't exist: service/$cluster/nope"

  awsc "$cli" application-autoscaling register-scalable-target "${target[@]}" --min-capacity 0 --max-capacity 4 >/dev/null
  got=$(awsc "$cli" application-autoscaling describe-scalable-targets --service-namespace ecs --resource-ids "$resource" \
    --query 'ScalableTargets[0].[MinCapacity,MaxCapacity]' --output text)
  expect_eq "describe-scalable-targets" "$got" "$(printf '0\t4')"

  alarms=$(awsc "$cli" application-autoscaling put-scaling-policy "${target[@]}" --policy-name cpu \
    --policy-type TargetTrackingScaling --target-tracking-scaling-policy-configuration \
    '{"TargetValue":50,"PredefinedMetricSpecification":{"PredefinedMetricType":"ECSServiceAverageCPUUtilization"}}' \
    --query 'Alarms[].AlarmName' --output text)
  expect_contains "policy alarms" "$alarms" "TargetTracking-$resource-AlarmHigh-"
  got=$(awsc "$cli" cloudwatch describe-alarms --alarm-name-prefix "TargetTracking-$resource-AlarmLow-" \
    --query 'MetricAlarms[0].[MetricName,Threshold,EvaluationPeriods]' --output text | sed -E 's/\.0(\s|$)/\1/g')
  expect_eq "low alarm" "$got" "$(printf 'CPUUtilization\t45\t15')"
  got=$(awsc "$cli" application-autoscaling describe-scaling-policies --service-namespace ecs --resource-id "$resource" \
    --query 'ScalingPolicies[0].[PolicyName,PolicyType]' --output text)
  expect_eq "describe-scaling-policies" "$got" "$(printf 'cpu\tTargetTrackingScaling')"
  got=$(awsc "$cli" application-autoscaling describe-scaling-activities --service-namespace ecs --resource-id "$resource" \
    --query 'length(ScalingActivities)' --output text)
  expect_eq "no activities yet" "$got" 0

  awsc "$cli" application-autoscaling put-scheduled-action "${target[@]}" --scheduled-action-name mornings \
    --schedule 'cron(0 8 ? * MON-FRI *)' --timezone Europe/Paris --scalable-target-action MinCapacity=2,MaxCapacity=4
  got=$(awsc "$cli" application-autoscaling describe-scheduled-actions --service-namespace ecs --resource-id "$resource" \
    --query 'ScheduledActions[0].[ScheduledActionName,Schedule,Timezone,ScalableTargetAction.MinCapacity]' --output text)
  expect_eq "describe-scheduled-actions" "$got" "$(printf 'mornings\tcron(0 8 ? * MON-FRI *)\tEurope/Paris\t2')"
  if out=$(awsc "$cli" application-autoscaling put-scheduled-action "${target[@]}" --scheduled-action-name bad \
    --schedule 'cron(99 8 * * ? *)' --scalable-target-action MinCapacity=1 2>&1); then
    fail "an invalid cron expression was accepted"
  fi
  expect_contains "invalid schedule" "$out" "Invalid schedule expression"
  awsc "$cli" application-autoscaling delete-scheduled-action "${target[@]}" --scheduled-action-name mornings
  got=$(awsc "$cli" application-autoscaling describe-scheduled-actions --service-namespace ecs --resource-id "$resource" \
    --query 'length(ScheduledActions)' --output text)
  expect_eq "scheduled actions after delete" "$got" 0

  awsc "$cli" application-autoscaling delete-scaling-policy "${target[@]}" --policy-name cpu
  got=$(awsc "$cli" cloudwatch describe-alarms --alarm-name-prefix "TargetTracking-$resource-" --query 'length(MetricAlarms)' --output text)
  expect_eq "alarms after delete-scaling-policy" "$got" 0
  awsc "$cli" application-autoscaling deregister-scalable-target "${target[@]}"
  if out=$(awsc "$cli" application-autoscaling deregister-scalable-target "${target[@]}" 2>&1); then
    fail "deregistering twice succeeded"
  fi
  expect_contains "deregistered target" "$out" "No scalable target registered for service namespace: ecs, resource ID: $resource"
done
