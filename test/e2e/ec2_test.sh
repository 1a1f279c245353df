#!/usr/bin/env bash
# EC2 with both aws CLIs: the default network, a security group, an
# instance launched with user data from a file, waited for, described and
# terminated.
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '#!/bin/bash\necho ECS_CLUSTER=e2e >> /etc/ecs/ecs.config\n' >"$work/user-data.sh"

# The ECS-optimized Amazon Linux 2023 image, as DescribeImages finds it.
image=$(awsc aws ec2 describe-images --owners amazon \
  --filters 'Name=name,Values=al2023-ami-ecs-hvm-*' Name=architecture,Values=x86_64 \
  --query 'Images[0].ImageId' --output text)
expect_contains "ECS-optimized image" "$image" ami-

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"

  # The default VPC lives in its own /16 of loopback, with a subnet per zone.
  cidr=$(awsc "$cli" ec2 describe-vpcs --filters Name=is-default,Values=true --query 'Vpcs[0].CidrBlock' --output text)
  case "$cidr" in 127.*.0.0/16) ;; *) fail "default VPC CIDR: got $cidr, want a /16 of 127.0.0.0/8";; esac
  [ "$cidr" != 127.0.0.0/16 ] || fail "default VPC CIDR is 127.0.0.0/16"
  zones=$(awsc "$cli" ec2 describe-subnets --filters Name=default-for-az,Values=true \
    --query 'sort_by(Subnets,&AvailabilityZone)[].AvailabilityZone' --output text | tr '\t' ' ')
  expect_eq "default subnets' zones" "$zones" "us-east-1a us-east-1b us-east-1c"
  zones=$(awsc "$cli" ec2 describe-availability-zones --query 'AvailabilityZones[].ZoneName' --output text | tr '\t' ' ')
  expect_eq "availability zones" "$zones" "us-east-1a us-east-1b us-east-1c"

  # A security group with a rule.
  sg=$(awsc "$cli" ec2 create-security-group --group-name "e2e-$tag" --description "e2e $tag" --query GroupId --output text)
  awsc "$cli" ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 80 --cidr 0.0.0.0/0 >/dev/null
  got=$(awsc "$cli" ec2 describe-security-groups --group-ids "$sg" --query 'SecurityGroups[0].IpPermissions[0].[IpProtocol,FromPort,IpRanges[0].CidrIp]' --output text | tr '\t' ' ')
  expect_eq "ingress rule" "$got" "tcp 80 0.0.0.0/0"

  # An instance with user data from a file, tagged, in that group.
  id=$(awsc "$cli" ec2 run-instances --image-id "$image" --instance-type t3.micro --count 1 \
    --security-group-ids "$sg" --user-data "file://$work/user-data.sh" \
    --tag-specifications "ResourceType=instance,Tags=[{Key=Name,Value=e2e-$tag}]" \
    --query 'Instances[0].InstanceId' --output text)
  expect_contains "run-instances" "$id" i-
  awsc "$cli" ec2 wait instance-running --instance-ids "$id"
  got=$(awsc "$cli" ec2 describe-instances --filters "Name=tag:Name,Values=e2e-$tag" Name=instance-state-name,Values=running \
    --query 'Reservations[].Instances[].[InstanceId,InstanceType,SecurityGroups[0].GroupId]' --output text | tr '\t' ' ')
  expect_eq "describe-instances by tag" "$got" "$id t3.micro $sg"
  ip=$(awsc "$cli" ec2 describe-instances --instance-ids "$id" --query 'Reservations[0].Instances[0].PrivateIpAddress' --output text)
  case "$ip" in 127.*) ;; *) fail "private IP: got $ip, want a loopback address";; esac
  dns=$(awsc "$cli" ec2 describe-instances --instance-ids "$id" --query 'Reservations[0].Instances[0].PrivateDnsName' --output text)
  expect_eq "private DNS name" "$dns" "ip-${ip//./-}.ec2.internal"
  got=$(awsc "$cli" ec2 describe-instance-attribute --instance-id "$id" --attribute userData --query UserData.Value --output text | base64 -d)
  expect_eq "user data" "$got" "$(cat "$work/user-data.sh")"
  got=$(awsc "$cli" ec2 describe-instance-status --instance-ids "$id" --query 'InstanceStatuses[0].InstanceStatus.Status' --output text)
  expect_eq "instance status" "$got" ok

  # Terminate, wait, and the group can go.
  got=$(awsc "$cli" ec2 terminate-instances --instance-ids "$id" --query 'TerminatingInstances[0].CurrentState.Name' --output text)
  expect_eq "terminate-instances" "$got" shutting-down
  awsc "$cli" ec2 wait instance-terminated --instance-ids "$id"
  awsc "$cli" ec2 delete-security-group --group-id "$sg" >/dev/null

  # Errors come in EC2's envelope with AWS's codes.
  if out=$(awsc "$cli" ec2 describe-instances --instance-ids i-0123456789abcdef0 2>&1); then
    fail "describe-instances of a missing instance succeeded"
  fi
  expect_contains "missing instance" "$out" "InvalidInstanceID.NotFound"
  if out=$(awsc "$cli" ec2 run-instances --image-id ami-0123456789abcdef0 --count 1 2>&1); then
    fail "run-instances of a missing image succeeded"
  fi
  expect_contains "missing image" "$out" "The image id '[ami-0123456789abcdef0]' does not exist"
done
