#!/usr/bin/env bash
# ECS's control plane with both aws CLIs: clusters, task definitions
# registered from a JSON file (revisions, Fargate validation, deregister and
# delete), container instances and their attributes, tags (of a cluster and
# a service), errors.
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  c="e2e-$tag"
  fam="web-$tag"

  # Clusters.
  arn=$(awsc "$cli" ecs create-cluster --cluster-name "$c" --tags key=team,value=web \
    --settings name=containerInsights,value=enabled --query cluster.clusterArn --output text)
  expect_eq "create-cluster ARN" "$arn" "arn:aws:ecs:us-east-1:000000000000:cluster/$c"
  got=$(awsc "$cli" ecs describe-clusters --clusters "$c" missing-$tag --include TAGS SETTINGS \
    --query '[clusters[0].status, clusters[0].tags[0].value, clusters[0].settings[0].value, failures[0].reason]' --output text)
  expect_eq "describe-clusters" "$got" "ACTIVE	web	enabled	MISSING"
  got=$(awsc "$cli" ecs list-clusters --query "clusterArns[?contains(@, '$c')]" --output text)
  expect_eq "list-clusters" "$got" "$arn"

  # A task definition from a JSON file, twice: two revisions.
  cat >"$work/td.json" <<JSON
{
  "family": "$fam",
  "networkMode": "awsvpc",
  "requiresCompatibilities": ["FARGATE"],
  "cpu": "0.25 vCPU",
  "memory": "0.5 GB",
  "executionRoleArn": "arn:aws:iam::000000000000:role/ecsTaskExecutionRole",
  "containerDefinitions": [{
    "name": "web",
    "image": "nginx:latest",
    "portMappings": [{"containerPort": 80}],
    "logConfiguration": {"logDriver": "awslogs",
      "options": {"awslogs-group": "/ecs/$fam", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web"}}
  }],
  "tags": [{"key": "app", "value": "web"}]
}
JSON
  got=$(awsc "$cli" ecs register-task-definition --cli-input-json "file://$work/td.json" \
    --query 'taskDefinition.[revision, cpu, memory, status, join(`,`, compatibilities)]' --output text)
  expect_eq "register-task-definition" "$got" "1	256	512	ACTIVE	EC2,FARGATE"
  awsc "$cli" ecs register-task-definition --cli-input-json "file://$work/td.json" >/dev/null
  got=$(awsc "$cli" ecs describe-task-definition --task-definition "$fam" --include TAGS \
    --query '[taskDefinition.revision, taskDefinition.containerDefinitions[0].portMappings[0].hostPort, tags[0].value]' --output text)
  expect_eq "describe-task-definition by family" "$got" "2	80	web"
  got=$(awsc "$cli" ecs list-task-definitions --family-prefix "$fam" --sort DESC --query 'taskDefinitionArns' --output text)
  expect_eq "list-task-definitions DESC" "$got" "arn:aws:ecs:us-east-1:000000000000:task-definition/$fam:2	arn:aws:ecs:us-east-1:000000000000:task-definition/$fam:1"
  got=$(awsc "$cli" ecs list-task-definition-families --family-prefix "$fam" --query families --output text)
  expect_eq "list-task-definition-families" "$got" "$fam"

  got=$(awsc "$cli" ecs deregister-task-definition --task-definition "$fam:2" --query taskDefinition.status --output text)
  expect_eq "deregister-task-definition" "$got" INACTIVE
  got=$(awsc "$cli" ecs describe-task-definition --task-definition "$fam" --query taskDefinition.revision --output text)
  expect_eq "family after deregistering its latest" "$got" 1
  # delete-task-definitions (2023) is newer than some packaged CLIs.
  if "$cli" ecs delete-task-definitions help >/dev/null 2>&1; then
    got=$(awsc "$cli" ecs delete-task-definitions --task-definitions "$fam:2" "$fam:1" \
      --query '[taskDefinitions[0].status, failures[0].reason]' --output text)
    expect_contains "delete-task-definitions" "$got" "DELETE_IN_PROGRESS"
    expect_contains "delete-task-definitions of an ACTIVE one" "$got" "still in ACTIVE status"
  fi

  # Fargate's CPU and memory table.
  sed 's/"0.5 GB"/"4096"/' "$work/td.json" >"$work/bad.json"
  if out=$(awsc "$cli" ecs register-task-definition --cli-input-json "file://$work/bad.json" 2>&1); then
    fail "register-task-definition with 256 CPU and 4096 memory on Fargate succeeded"
  fi
  expect_contains "Fargate pair" "$out" "ClientException"
  expect_contains "Fargate pair" "$out" "No Fargate configuration exists for given values: 256 CPU, 4096 memory"

  # A container instance, registered the way an agent does.
  doc='{"instanceId":"i-0e2e'$tag'","instanceType":"t3.medium","availabilityZone":"us-east-1a","region":"us-east-1","imageId":"ami-1"}'
  ci=$(awsc "$cli" ecs register-container-instance --cluster "$c" --instance-identity-document "$doc" \
    --total-resources name=CPU,type=INTEGER,integerValue=2048 name=MEMORY,type=INTEGER,integerValue=3904 \
    --query containerInstance.containerInstanceArn --output text)
  expect_contains "register-container-instance ARN" "$ci" "arn:aws:ecs:us-east-1:000000000000:container-instance/$c/"
  got=$(awsc "$cli" ecs describe-clusters --clusters "$c" --query 'clusters[0].registeredContainerInstancesCount' --output text)
  expect_eq "registeredContainerInstancesCount" "$got" 1
  awsc "$cli" ecs put-attributes --cluster "$c" --attributes name=stack,value=prod,targetId="$ci" >/dev/null
  got=$(awsc "$cli" ecs list-attributes --cluster "$c" --target-type container-instance --attribute-name stack \
    --query 'attributes[0].value' --output text)
  expect_eq "list-attributes" "$got" prod
  got=$(awsc "$cli" ecs describe-container-instances --cluster "$c" --container-instances "$ci" \
    --query "containerInstances[0].[agentConnected, attributes[?name=='ecs.availability-zone'].value | [0]]" --output text)
  expect_eq "describe-container-instances" "$got" "True	us-east-1a"
  got=$(awsc "$cli" ecs update-container-instances-state --cluster "$c" --container-instances "$ci" --status DRAINING \
    --query 'containerInstances[0].status' --output text)
  expect_eq "update-container-instances-state" "$got" DRAINING

  if out=$(awsc "$cli" ecs delete-cluster --cluster "$c" 2>&1); then
    fail "delete-cluster with a container instance succeeded"
  fi
  expect_contains "delete-cluster with an instance" "$out" ClusterContainsContainerInstancesException
  awsc "$cli" ecs deregister-container-instance --cluster "$c" --container-instance "$ci" >/dev/null

  # Tags.
  awsc "$cli" ecs tag-resource --resource-arn "$arn" --tags key=env,value=e2e >/dev/null
  awsc "$cli" ecs untag-resource --resource-arn "$arn" --tag-keys team >/dev/null
  got=$(awsc "$cli" ecs list-tags-for-resource --resource-arn "$arn" --query 'tags[].key' --output text)
  expect_eq "list-tags-for-resource" "$got" env

  # A service of no task, tagged by its ARN; its ARN of the old format is refused.
  awsc "$cli" ecs register-task-definition --family "batch-$tag" --container-definitions name=main,image=batch,memory=64 >/dev/null
  svc=$(awsc "$cli" ecs create-service --cluster "$c" --service-name api --task-definition "batch-$tag" --desired-count 0 \
    --query service.serviceArn --output text)
  expect_eq "create-service ARN" "$svc" "arn:aws:ecs:us-east-1:000000000000:service/$c/api"
  awsc "$cli" ecs tag-resource --resource-arn "$svc" --tags key=team,value=api key=env,value=e2e >/dev/null
  awsc "$cli" ecs untag-resource --resource-arn "$svc" --tag-keys env >/dev/null
  got=$(awsc "$cli" ecs describe-services --cluster "$c" --services api --include TAGS --query 'services[0].tags[].[key, value]' --output text)
  expect_eq "describe-services --include TAGS" "$got" "team	api"
  if out=$(awsc "$cli" ecs list-tags-for-resource --resource-arn "arn:aws:ecs:us-east-1:000000000000:service/api" 2>&1); then
    fail "list-tags-for-resource of a short service ARN succeeded"
  fi
  expect_contains "short service ARN" "$out" "Long arn format must be used for tagging operations"
  awsc "$cli" ecs delete-service --cluster "$c" --service api >/dev/null
  inactive() { [ "$(awsc "$cli" ecs describe-services --cluster "$c" --services api --query 'services[0].status' --output text)" = INACTIVE ]; }
  wait_for "the deleted service to be INACTIVE" inactive

  # Errors.
  if out=$(awsc "$cli" ecs describe-task-definition --task-definition "nope-$tag" 2>&1); then
    fail "describe-task-definition of an unknown family succeeded"
  fi
  expect_contains "unknown task definition" "$out" "Unable to describe task definition."
  if out=$(awsc "$cli" ecs update-cluster-settings --cluster "nope-$tag" --settings name=containerInsights,value=enabled 2>&1); then
    fail "update-cluster-settings of an unknown cluster succeeded"
  fi
  expect_contains "unknown cluster" "$out" ClusterNotFoundException

  got=$(awsc "$cli" ecs delete-cluster --cluster "$c" --query cluster.status --output text)
  expect_eq "delete-cluster" "$got" INACTIVE
done
