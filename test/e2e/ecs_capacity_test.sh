#!/usr/bin/env bash
# ECS capacity providers backed by EC2 Auto Scaling groups with both aws
# CLIs: a launch configuration and an empty group, a provider with managed
# scaling, the cluster's association and default strategy, ECS's errors,
# deletion. Placement and managed scaling with containers are covered by
# the Go tests (TestManagedScalingFromZero).
source "$(dirname "$0")/lib.sh"

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  cluster="cap-$tag"
  subnet=$(awsc "$cli" ec2 describe-subnets --query 'Subnets[0].SubnetId' --output text)
  ami=$(awsc "$cli" ec2 describe-images --filters Name=name,Values='al2023-ami-ecs-hvm-*' Name=architecture,Values=x86_64 \
    --query 'Images[0].ImageId' --output text)
  awsc "$cli" autoscaling create-launch-configuration --launch-configuration-name "cap-$tag" --image-id "$ami" \
    --instance-type t3.medium --user-data "$(printf '#!/bin/bash\necho ECS_CLUSTER=%s >> /etc/ecs/ecs.config\n' "$cluster")"
  awsc "$cli" autoscaling create-auto-scaling-group --auto-scaling-group-name "cap-$tag" --launch-configuration-name "cap-$tag" \
    --min-size 0 --max-size 2 --desired-capacity 0 --vpc-zone-identifier "$subnet"
  group=$(awsc "$cli" autoscaling describe-auto-scaling-groups --auto-scaling-group-names "cap-$tag" \
    --query 'AutoScalingGroups[0].AutoScalingGroupARN' --output text)

  if out=$(awsc "$cli" ecs create-capacity-provider --name "aws-$tag" \
    --auto-scaling-group-provider "autoScalingGroupArn=$group" 2>&1); then
    fail "a provider named aws-... was created"
  fi
  expect_contains "reserved prefix" "$out" "ClientException"

  got=$(awsc "$cli" ecs create-capacity-provider --name "cap-$tag" \
    --auto-scaling-group-provider "autoScalingGroupArn=$group,managedScaling={status=ENABLED,targetCapacity=90}" \
    --query 'capacityProvider.[name,status,autoScalingGroupProvider.managedScaling.status,autoScalingGroupProvider.managedScaling.targetCapacity]' \
    --output text)
  expect_eq "create-capacity-provider" "$got" "$(printf 'cap-%s\tACTIVE\tENABLED\t90' "$tag")"
  got=$(awsc "$cli" ecs describe-capacity-providers --capacity-providers "cap-$tag" FARGATE \
    --query 'capacityProviders[].name' --output text)
  expect_eq "describe-capacity-providers" "$got" "$(printf 'cap-%s\tFARGATE' "$tag")"

  awsc "$cli" ecs create-cluster --cluster-name "$cluster" >/dev/null
  got=$(awsc "$cli" ecs put-cluster-capacity-providers --cluster "$cluster" --capacity-providers "cap-$tag" \
    --default-capacity-provider-strategy "capacityProvider=cap-$tag,weight=1,base=1" \
    --query 'cluster.[capacityProviders[0],defaultCapacityProviderStrategy[0].base]' --output text)
  expect_eq "put-cluster-capacity-providers" "$got" "$(printf 'cap-%s\t1' "$tag")"
  if out=$(awsc "$cli" ecs put-cluster-capacity-providers --cluster "$cluster" --capacity-providers "cap-$tag" FARGATE \
    --default-capacity-provider-strategy "capacityProvider=cap-$tag,weight=1" "capacityProvider=FARGATE,weight=1" 2>&1); then
    fail "a strategy mixing Fargate and an Auto Scaling group provider was accepted"
  fi
  expect_contains "mixed strategy" "$out" "InvalidParameterException"
  if out=$(awsc "$cli" ecs delete-capacity-provider --capacity-provider "cap-$tag" 2>&1); then
    fail "deleting a provider in use succeeded"
  fi
  expect_contains "provider in use" "$out" "Exception"

  awsc "$cli" ecs put-cluster-capacity-providers --cluster "$cluster" --capacity-providers [] \
    --default-capacity-provider-strategy [] >/dev/null
  got=$(awsc "$cli" ecs delete-capacity-provider --capacity-provider "cap-$tag" \
    --query 'capacityProvider.[status,updateStatus]' --output text)
  expect_eq "delete-capacity-provider" "$got" "$(printf 'ACTIVE\tDELETE_IN_PROGRESS')"
  for _ in $(seq 1 50); do
    got=$(awsc "$cli" ecs describe-capacity-providers --capacity-providers "cap-$tag" \
      --query 'capacityProviders[0].[status,updateStatus]' --output text)
    [ "$got" = "$(printf 'INACTIVE\tDELETE_COMPLETE')" ] && break
    sleep 0.2
  done
  expect_eq "deleted provider" "$got" "$(printf 'INACTIVE\tDELETE_COMPLETE')"
  awsc "$cli" autoscaling delete-auto-scaling-group --auto-scaling-group-name "cap-$tag" --force-delete
  awsc "$cli" autoscaling delete-launch-configuration --launch-configuration-name "cap-$tag"
  awsc "$cli" ecs delete-cluster --cluster "$cluster" >/dev/null
done
