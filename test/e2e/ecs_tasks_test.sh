#!/usr/bin/env bash
# ECS tasks with both aws CLIs, docker and curl: an image pushed to ECR runs
# as a Fargate task in EC2's default subnet (run-task, wait tasks-running),
# answers curl at its interface's address, and stops (stop-task, wait
# tasks-stopped) with UserInitiated; its output is in CloudWatch Logs.
source "$(dirname "$0")/lib.sh"

require_docker
registry=${OVERCAST_ENDPOINT#http://}
work=$(mktemp -d)
export DOCKER_CONFIG="$work/docker" # leave the user's logins alone
images=()
cleanup() {
  for i in "${images[@]}"; do docker rmi -f "$i" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The image: a static web server, imported as a root filesystem.
mkdir -p "$work/src" "$work/rootfs"
cat >"$work/src/main.go" <<'EOF'
package main

import (
	"fmt"
	"net/http"
)

func main() {
	fmt.Println("listening")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello from an ECS task") })
	http.ListenAndServe(":8080", nil)
}
EOF
(cd "$work/src" && go mod init web >/dev/null 2>&1 && CGO_ENABLED=0 go build -o "$work/rootfs/web" .) || fail "building the test binary"
tar -C "$work/rootfs" -cf "$work/rootfs.tar" web
local_image="overcast-e2e-web:$$"
docker import -c 'ENTRYPOINT ["/web"]' "$work/rootfs.tar" "$local_image" >/dev/null
images+=("$local_image")
aws --endpoint-url "$OVERCAST_ENDPOINT" ecr get-login-password | docker login --username AWS --password-stdin "$registry" >/dev/null 2>&1 \
  || fail "docker login"
subnet=$(aws --endpoint-url "$OVERCAST_ENDPOINT" ec2 describe-subnets --query 'Subnets[0].SubnetId' --output text)

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  c="tasks-$tag"
  uri=$(awsc "$cli" ecr create-repository --repository-name "tasks-$tag/web" --query repository.repositoryUri --output text)
  docker tag "$local_image" "$uri:v1"
  images+=("$uri:v1")
  docker push "$uri:v1" >"$work/push.out" 2>&1 || fail "docker push: $(cat "$work/push.out")"
  docker rmi "$uri:v1" >/dev/null

  awsc "$cli" ecs create-cluster --cluster-name "$c" >/dev/null
  # The execution role pulls the image and writes the logs: it must exist.
  role=$(awsc "$cli" iam create-role --role-name "ecsTaskExecutionRole-$tag" --query Role.Arn --output text \
    --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}')
  cat >"$work/td.json" <<JSON
{
  "family": "runner-$tag",
  "networkMode": "awsvpc",
  "requiresCompatibilities": ["FARGATE"],
  "cpu": "256",
  "memory": "512",
  "executionRoleArn": "$role",
  "containerDefinitions": [{
    "name": "web",
    "image": "000000000000.dkr.ecr.us-east-1.amazonaws.com/tasks-$tag/web:v1",
    "portMappings": [{"containerPort": 8080}],
    "logConfiguration": {"logDriver": "awslogs",
      "options": {"awslogs-group": "/ecs/runner-$tag", "awslogs-create-group": "true", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}}
  }]
}
JSON
  awsc "$cli" ecs register-task-definition --cli-input-json "file://$work/td.json" >/dev/null

  task=$(awsc "$cli" ecs run-task --cluster "$c" --task-definition "runner-$tag" --launch-type FARGATE \
    --network-configuration "awsvpcConfiguration={subnets=[$subnet],assignPublicIp=DISABLED}" \
    --query 'tasks[0].taskArn' --output text)
  expect_contains "run-task ARN" "$task" "arn:aws:ecs:us-east-1:000000000000:task/$c/"
  awsc "$cli" ecs wait tasks-running --cluster "$c" --tasks "$task" || fail "wait tasks-running"
  ip=$(awsc "$cli" ecs describe-tasks --cluster "$c" --tasks "$task" \
    --query "tasks[0].attachments[0].details[?name=='privateIPv4Address'].value" --output text)
  got=$(curl -fsS --retry 20 --retry-connrefused --retry-delay 0 "http://$ip:8080/") || fail "curl http://$ip:8080/"
  expect_eq "curl the task" "$got" "hello from an ECS task"

  awsc "$cli" ecs stop-task --cluster "$c" --task "$task" --reason "e2e done" >/dev/null
  awsc "$cli" ecs wait tasks-stopped --cluster "$c" --tasks "$task" || fail "wait tasks-stopped"
  got=$(awsc "$cli" ecs describe-tasks --cluster "$c" --tasks "$task" --query '[tasks[0].lastStatus, tasks[0].stopCode, tasks[0].stoppedReason]' --output text)
  expect_eq "stopped task" "$got" "STOPPED	UserInitiated	e2e done"
  id=${task##*/}
  got=$(awsc "$cli" logs get-log-events --log-group-name "/ecs/runner-$tag" --log-stream-name "ecs/web/$id" --query 'events[0].message' --output text)
  expect_eq "the task's output in CloudWatch Logs" "$got" "listening"
  # The agent pulled the image under the registry's name.
  for i in $(docker images --format '{{.Repository}}:{{.Tag}}' | grep "tasks-$tag/web:v1"); do images+=("$i"); done
done
