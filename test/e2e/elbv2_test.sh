#!/usr/bin/env bash
# ELBv2 with both aws CLIs and curl: an Application Load Balancer in the
# default subnets forwarding to a web server on loopback, reached by its
# DNS name (curl resolves *.localhost) and by its own address; the
# target-in-service waiter; a fixed-response rule; deletion.
source "$(dirname "$0")/lib.sh"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

site=$(mktemp -d)
echo "hello from the target" >"$site/index.html"
backend_port=$(free_port)
python3 -m http.server "$backend_port" --bind 127.0.0.1 --directory "$site" >/dev/null 2>&1 &
backend=$!
trap 'kill $backend 2>/dev/null || true; rm -rf "$site"' EXIT
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$backend_port/" >/dev/null 2>&1 && break; sleep 0.1; done

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  read -r -a subnets < <(awsc "$cli" ec2 describe-subnets --query 'Subnets[].SubnetId' --output text)
  vpc=$(awsc "$cli" ec2 describe-vpcs --query 'Vpcs[0].VpcId' --output text)

  read -r lb dns < <(awsc "$cli" elbv2 create-load-balancer --name "e2e-$tag" --subnets "${subnets[@]}" \
    --query 'LoadBalancers[0].[LoadBalancerArn,DNSName]' --output text)
  expect_contains "DNS name" "$dns" ".us-east-1.elb.localhost"
  awsc "$cli" elbv2 wait load-balancer-available --load-balancer-arns "$lb"

  tg=$(awsc "$cli" elbv2 create-target-group --name "e2e-$tag" --protocol HTTP --port 80 --vpc-id "$vpc" \
    --target-type ip --query 'TargetGroups[0].TargetGroupArn' --output text)
  awsc "$cli" elbv2 register-targets --target-group-arn "$tg" --targets "Id=127.0.0.1,Port=$backend_port"
  port=$(free_port)
  listener=$(awsc "$cli" elbv2 create-listener --load-balancer-arn "$lb" --protocol HTTP --port "$port" \
    --default-actions "Type=forward,TargetGroupArn=$tg" --query 'Listeners[0].ListenerArn' --output text)
  awsc "$cli" elbv2 wait target-in-service --target-group-arn "$tg" --targets "Id=127.0.0.1,Port=$backend_port"

  expect_eq "through the DNS name" "$(curl -fsS "http://$dns:$port/")" "hello from the target"
  ip=$(awsc "$cli" ec2 describe-network-interfaces --query "NetworkInterfaces[?Description=='ELB ${lb#*:loadbalancer/}'] | [0].PrivateIpAddress" --output text)
  expect_eq "through the load balancer's address $ip" "$(curl -fsS "http://$ip:$port/")" "hello from the target"

  awsc "$cli" elbv2 create-rule --listener-arn "$listener" --priority 10 \
    --conditions Field=path-pattern,Values=/health \
    --actions 'Type=fixed-response,FixedResponseConfig={StatusCode=200,ContentType=text/plain,MessageBody=ok}' >/dev/null
  expect_eq "fixed response" "$(curl -fsS "http://$dns:$port/health")" "ok"
  expect_eq "rules" "$(awsc "$cli" elbv2 describe-rules --listener-arn "$listener" --query 'Rules[].Priority' --output text)" "10	default"

  out=$(awsc "$cli" elbv2 delete-target-group --target-group-arn "$tg" 2>&1) && fail "deleting a group in use succeeded"
  expect_contains "deleting a group in use" "$out" "ResourceInUse"
  awsc "$cli" elbv2 delete-load-balancer --load-balancer-arn "$lb"
  awsc "$cli" elbv2 delete-target-group --target-group-arn "$tg"
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$dns:$port/" || true)
  expect_eq "after deletion" "$code" "000"
done
