#!/usr/bin/env bash
# STS and IAM with both aws CLIs: who am I, a new user and key, and the key
# in use seeing its own identity.
source "$(dirname "$0")/lib.sh"

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"

  account=$(awsc "$cli" sts get-caller-identity --query Account --output text)
  expect_eq "default account" "$account" 000000000000
  arn=$(AWS_ACCESS_KEY_ID=123456789012 awsc "$cli" sts get-caller-identity --query Arn --output text)
  expect_eq "12-digit key account" "$arn" "arn:aws:iam::123456789012:root"

  user="e2e-$tag"
  awsc "$cli" iam create-user --user-name "$user" --tags Key=team,Value=ci >/dev/null
  read -r key secret < <(awsc "$cli" iam create-access-key --user-name "$user" \
    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
  expect_contains "access key id" "$key" AKIA

  users=$(awsc "$cli" iam list-users --query 'Users[].UserName' --output text)
  expect_contains "list-users" "$users" "$user"

  got=$(AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret awsc "$cli" sts get-caller-identity --query '[Account,Arn]' --output text)
  expect_eq "new key identity" "$got" "000000000000	arn:aws:iam::000000000000:user/$user"

  # A known key with the wrong secret is refused with AWS's error.
  if out=$(AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=wrong awsc "$cli" sts get-caller-identity 2>&1); then
    fail "wrong secret accepted"
  fi
  expect_contains "wrong secret" "$out" SignatureDoesNotMatch

  # Temporary credentials from the new user.
  read -r tkey tsecret ttoken < <(AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret \
    awsc "$cli" sts get-session-token --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
  got=$(AWS_ACCESS_KEY_ID=$tkey AWS_SECRET_ACCESS_KEY=$tsecret AWS_SESSION_TOKEN=$ttoken \
    awsc "$cli" sts get-caller-identity --query Arn --output text)
  expect_eq "session identity" "$got" "arn:aws:iam::000000000000:user/$user"

  awsc "$cli" iam delete-access-key --user-name "$user" --access-key-id "$key"
  awsc "$cli" iam delete-user --user-name "$user"

  # A service overcast does not model is refused with AWS's answer for an
  # operation an endpoint does not have: one attempt, answered at once,
  # not a dropped connection the CLI retries for seconds.
  if out=$(awsc "$cli" --debug dynamodb list-tables 2>&1); then
    fail "dynamodb list-tables succeeded"
  fi
  expect_contains "unmodelled service" "$out" "An error occurred (UnknownOperationException) when calling the ListTables operation"
  expect_eq "unmodelled service attempts" "$(grep -c 'Sending http request' <<<"$out")" 1
  ms=$(awk 'function ms(clock, f) { split(clock, f, /[:,]/); return ((f[1] * 60 + f[2]) * 60 + f[3]) * 1000 + f[4] }
    /Sending http request/ { sent = ms($2) } /Response headers/ { got = ms($2) } END { print (got == "" ? "no answer" : got - sent) }' <<<"$out")
  [ "$ms" -lt 1000 ] 2>/dev/null || fail "unmodelled service: answered after ${ms}ms, want well under a second"
done
