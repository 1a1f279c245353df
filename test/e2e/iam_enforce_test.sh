#!/usr/bin/env bash
# IAM enforcement (--enforce-iam) with both aws CLIs: a user allowed only
# s3:GetObject on one prefix is refused elsewhere with AWS's message, an
# explicit deny and a permissions boundary cap it, aws:SourceIp conditions
# hold, and the policy simulator agrees. The suite's server runs
# permissive, so this script starts one of its own that enforces.
source "$(dirname "$0")/lib.sh"

bin=${OVERCAST_BIN:-bin/overcast}
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" up --enforce-iam --addr "127.0.0.1:$port" --data-dir "$work/data" \
  --cloudfront-https-addr 127.0.0.1:0 --codecommit-ssh-addr 127.0.0.1:0 >"$work/overcast.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
export OVERCAST_ENDPOINT="http://127.0.0.1:$port"
wait_for "the enforcing server" curl -fsS "$OVERCAST_ENDPOINT/_overcast/health"

account=000000000000
for cli in "${CLIS[@]}"; do
  v=$(cli_tag "$cli")
  bucket="enforce-$v"
  awsc "$cli" s3api create-bucket --bucket "$bucket" >/dev/null
  echo hi >"$work/f"
  for key in reports/q1.csv private/salary.csv; do
    awsc "$cli" s3api put-object --bucket "$bucket" --key "$key" --body "$work/f" >/dev/null
  done

  user="dev-$v"
  awsc "$cli" iam create-user --user-name "$user" >/dev/null
  awsc "$cli" iam put-user-policy --user-name "$user" --policy-name reports --policy-document \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::$bucket/reports/*\"},
      {\"Effect\":\"Deny\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::$bucket/reports/secret*\"}]}"
  read -r key secret < <(awsc "$cli" iam create-access-key --user-name "$user" --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)

  as_user() { AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret awsc "$@"; }
  as_user "$cli" s3api get-object --bucket "$bucket" --key reports/q1.csv "$work/out" >/dev/null ||
    fail "$v: the user could not read the prefix its policy allows"

  out=$(as_user "$cli" s3api get-object --bucket "$bucket" --key private/salary.csv "$work/out" 2>&1) && fail "$v: read outside the prefix"
  expect_contains "$v: refusal" "$out" "AccessDenied"
  expect_contains "$v: refusal" "$out" "User: arn:aws:iam::$account:user/$user is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::$bucket/private/salary.csv\" because no identity-based policy allows the s3:GetObject action"

  out=$(as_user "$cli" s3api list-objects-v2 --bucket "$bucket" 2>&1) && fail "$v: listed without s3:ListBucket"
  expect_contains "$v: list refusal" "$out" "s3:ListBucket on resource: \"arn:aws:s3:::$bucket\""

  out=$(as_user "$cli" iam list-users 2>&1) && fail "$v: listed users without iam:ListUsers"
  expect_contains "$v: IAM refusal" "$out" "AccessDenied"
  expect_contains "$v: IAM refusal" "$out" "is not authorized to perform: iam:ListUsers on resource: *"

  # An explicit deny wins over the prefix's Allow.
  awsc "$cli" s3api put-object --bucket "$bucket" --key reports/secret.csv --body "$work/f" >/dev/null
  out=$(as_user "$cli" s3api get-object --bucket "$bucket" --key reports/secret.csv "$work/out" 2>&1) && fail "$v: read past an explicit deny"
  expect_contains "$v: deny" "$out" "with an explicit deny in an identity-based policy"

  # A permissions boundary caps what the policies allow.
  arn=$(awsc "$cli" iam create-policy --policy-name "list-only-$v" --query Policy.Arn --output text --policy-document \
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}')
  awsc "$cli" iam put-user-permissions-boundary --user-name "$user" --permissions-boundary "$arn"
  out=$(as_user "$cli" s3api get-object --bucket "$bucket" --key reports/q1.csv "$work/out" 2>&1) && fail "$v: read past the boundary"
  expect_contains "$v: boundary" "$out" "because no permissions boundary allows the s3:GetObject action"
  awsc "$cli" iam delete-user-permissions-boundary --user-name "$user"

  # aws:SourceIp: allowed from loopback, not from elsewhere.
  awsc "$cli" iam put-user-policy --user-name "$user" --policy-name from-far --policy-document \
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}'
  as_user "$cli" s3api list-objects-v2 --bucket "$bucket" >/dev/null 2>&1 && fail "$v: aws:SourceIp 203.0.113.0/24 let loopback in"
  awsc "$cli" iam put-user-policy --user-name "$user" --policy-name from-far --policy-document \
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}]}'
  as_user "$cli" s3api list-objects-v2 --bucket "$bucket" >/dev/null || fail "$v: aws:SourceIp 127.0.0.0/8 kept loopback out"

  # The simulator decides as enforcement does.
  got=$(awsc "$cli" iam simulate-principal-policy --policy-source-arn "arn:aws:iam::$account:user/$user" \
    --action-names s3:GetObject --resource-arns "arn:aws:s3:::$bucket/reports/q1.csv" "arn:aws:s3:::$bucket/private/salary.csv" \
    --query 'EvaluationResults[].EvalDecision' --output text)
  expect_eq "$v: simulate-principal-policy" "$(echo $got)" "allowed implicitDeny"
done
