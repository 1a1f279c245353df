#!/usr/bin/env bash
# ELBv2 with both aws CLIs and curl: an Application Load Balancer in the
# default subnets forwarding to a web server on loopback, reached by its
# DNS name (curl resolves *.localhost) and by its own address; the
# target-in-service waiter; a fixed-response rule; an HTTPS listener with
# an ACM certificate, verified by curl with overcast's CA, and an HTTP →
# HTTPS redirect; deletion.
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

  cert=$(awsc "$cli" acm request-certificate --domain-name "$dns" --query CertificateArn --output text)
  https_port=$(free_port)
  https=$(awsc "$cli" elbv2 create-listener --load-balancer-arn "$lb" --protocol HTTPS --port "$https_port" \
    --certificates "CertificateArn=$cert" --default-actions "Type=forward,TargetGroupArn=$tg" \
    --query 'Listeners[0].ListenerArn' --output text)
  curl -fsS "$OVERCAST_ENDPOINT/_overcast/acm/ca.pem" -o "$site/ca.pem"
  expect_eq "HTTPS verified with overcast's CA" "$(curl -fsS --cacert "$site/ca.pem" "https://$dns:$https_port/")" "hello from the target"
  expect_eq "certificate in use by" "$(awsc "$cli" acm describe-certificate --certificate-arn "$cert" --query 'Certificate.InUseBy[0]' --output text)" "$lb"
  out=$(awsc "$cli" acm delete-certificate --certificate-arn "$cert" 2>&1) && fail "deleting a certificate in use succeeded"
  expect_contains "deleting a certificate in use" "$out" "ResourceInUseException"
  awsc "$cli" elbv2 create-rule --listener-arn "$listener" --priority 20 --conditions Field=path-pattern,Values='/secure/*' \
    --actions "Type=redirect,RedirectConfig={Protocol=HTTPS,Port=$https_port,StatusCode=HTTP_301}" >/dev/null
  expect_eq "HTTP → HTTPS redirect" "$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "http://$dns:$port/secure/page?x=1")" \
    "301 https://$dns:$https_port/secure/page?x=1"
  expect_eq "following the redirect" "$(curl -sSL --cacert "$site/ca.pem" -o /dev/null -w '%{http_code} %{url_effective}' "http://$dns:$port/secure/")" \
    "404 https://$dns:$https_port/secure/"
  awsc "$cli" elbv2 delete-listener --listener-arn "$https"
  expect_eq "certificate in use after the listener went" "$(awsc "$cli" acm describe-certificate --certificate-arn "$cert" --query 'length(Certificate.InUseBy)' --output text)" "0"
  awsc "$cli" acm delete-certificate --certificate-arn "$cert"

  out=$(awsc "$cli" elbv2 delete-target-group --target-group-arn "$tg" 2>&1) && fail "deleting a group in use succeeded"
  expect_contains "deleting a group in use" "$out" "ResourceInUse"
  awsc "$cli" elbv2 delete-load-balancer --load-balancer-arn "$lb"
  awsc "$cli" elbv2 delete-target-group --target-group-arn "$tg"
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$dns:$port/" || true)
  expect_eq "after deletion" "$code" "000"
done
