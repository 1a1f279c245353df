#!/usr/bin/env bash
# AssumeRoleWithWebIdentity with both aws CLIs: a CI job's ID token, minted
# here, assumes a role whose trust policy names the job's repository; a
# token for another repository, or an expired one, does not.
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The token minter: a new signing key per token, its key set written where
# the provider's overcast:jwks-uri tag says (the issuer is not reachable).
go build -o "$work/webidentitytoken" ./test/e2e/webidentitytoken
jwks="$work/jwks.json"
mint() { "$work/webidentitytoken" -jwks "$jwks" "$@"; }

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  host="ci-$tag.example.com"
  issuer="https://$host"

  provider=$(awsc "$cli" iam create-open-id-connect-provider --url "$issuer" --client-id-list sts.amazonaws.com \
    --thumbprint-list 6938fd4d98bab03faadb97b34396831e3780aea1 \
    --tags "Key=overcast:jwks-uri,Value=file://$jwks" --query OpenIDConnectProviderArn --output text)
  expect_eq "provider ARN" "$provider" "arn:aws:iam::000000000000:oidc-provider/$host"
  got=$(awsc "$cli" iam get-open-id-connect-provider --open-id-connect-provider-arn "$provider" \
    --query '[Url,ClientIDList[0]]' --output text)
  expect_eq "provider" "$got" "$host	sts.amazonaws.com"

  role="web-$tag"
  trust=$(printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"%s"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"%s:aud":"sts.amazonaws.com"},"StringLike":{"%s:sub":"repo:org/app:*"}}}]}' \
    "$provider" "$host" "$host")
  role_arn=$(awsc "$cli" iam create-role --role-name "$role" --assume-role-policy-document "$trust" --query Role.Arn --output text)

  # No credentials at all: the call is unsigned, as a CI job makes it.
  token=$(mint -iss "$issuer" -sub "repo:org/app:ref:refs/heads/main")
  read -r arn subject key secret session < <(AWS_ACCESS_KEY_ID= AWS_SECRET_ACCESS_KEY= awsc "$cli" sts assume-role-with-web-identity \
    --role-arn "$role_arn" --role-session-name "job-$tag" --web-identity-token "$token" \
    --query '[AssumedRoleUser.Arn,SubjectFromWebIdentityToken,Credentials.AccessKeyId,Credentials.SecretAccessKey,Credentials.SessionToken]' \
    --output text)
  expect_eq "assumed role" "$arn" "arn:aws:sts::000000000000:assumed-role/$role/job-$tag"
  expect_eq "subject" "$subject" "repo:org/app:ref:refs/heads/main"
  got=$(AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$session \
    awsc "$cli" sts get-caller-identity --query Arn --output text)
  expect_eq "session identity" "$got" "$arn"

  token=$(mint -iss "$issuer" -sub "repo:org/other:ref:refs/heads/main")
  if out=$(awsc "$cli" sts assume-role-with-web-identity --role-arn "$role_arn" --role-session-name job-x \
    --web-identity-token "$token" 2>&1); then
    fail "another repository's token assumed the role"
  fi
  expect_contains "another repository" "$out" "(AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity"

  token=$(mint -iss "$issuer" -sub "repo:org/app:ref:refs/heads/main" -expires -1m)
  if out=$(awsc "$cli" sts assume-role-with-web-identity --role-arn "$role_arn" --role-session-name job-x \
    --web-identity-token "$token" 2>&1); then
    fail "an expired token assumed the role"
  fi
  expect_contains "expired token" "$out" "(ExpiredTokenException)"

  token=$(mint -iss "$issuer" -aud sigstore -sub "repo:org/app:ref:refs/heads/main")
  if out=$(awsc "$cli" sts assume-role-with-web-identity --role-arn "$role_arn" --role-session-name job-x \
    --web-identity-token "$token" 2>&1); then
    fail "a token for another audience assumed the role"
  fi
  expect_contains "another audience" "$out" "(InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity operation: Incorrect token audience"

  awsc "$cli" iam delete-role --role-name "$role"
  awsc "$cli" iam delete-open-id-connect-provider --open-id-connect-provider-arn "$provider"
done
