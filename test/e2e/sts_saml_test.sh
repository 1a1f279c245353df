#!/usr/bin/env bash
# AssumeRoleWithSAML with both aws CLIs: a SAML provider made from an IdP's
# metadata, and responses that IdP signed, minted here; the trust policy
# lets developers in, not operators.
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/samlresponse" ./test/e2e/samlresponse

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  provider_arn="arn:aws:iam::000000000000:saml-provider/corp-$tag"
  role="saml-$tag"
  role_arn="arn:aws:iam::000000000000:role/$role"
  { read -r dev; read -r ops; } < <("$work/samlresponse" -metadata "$work/idp-$tag.xml" -role "$role_arn" \
    -provider "$provider_arn" -subject dev-alice -subject ops-bob)

  got=$(awsc "$cli" iam create-saml-provider --name "corp-$tag" --saml-metadata-document "file://$work/idp-$tag.xml" \
    --query SAMLProviderArn --output text)
  expect_eq "provider ARN" "$got" "$provider_arn"
  trust=$(printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"%s"},"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"},"StringLike":{"saml:sub":"dev-*"}}}]}' "$provider_arn")
  awsc "$cli" iam create-role --role-name "$role" --assume-role-policy-document "$trust" >/dev/null

  read -r arn subject key secret session < <(AWS_ACCESS_KEY_ID= AWS_SECRET_ACCESS_KEY= awsc "$cli" sts assume-role-with-saml \
    --role-arn "$role_arn" --principal-arn "$provider_arn" --saml-assertion "$dev" \
    --query '[AssumedRoleUser.Arn,Subject,Credentials.AccessKeyId,Credentials.SecretAccessKey,Credentials.SessionToken]' --output text)
  expect_eq "assumed role" "$arn" "arn:aws:sts::000000000000:assumed-role/$role/dev-alice"
  expect_eq "subject" "$subject" dev-alice
  got=$(AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$session \
    awsc "$cli" sts get-caller-identity --query Arn --output text)
  expect_eq "session identity" "$got" "$arn"

  if out=$(awsc "$cli" sts assume-role-with-saml --role-arn "$role_arn" --principal-arn "$provider_arn" \
    --saml-assertion "$ops" 2>&1); then
    fail "an operator assumed the developers' role"
  fi
  expect_contains "operator" "$out" "(AccessDenied) when calling the AssumeRoleWithSAML operation: Not authorized to perform sts:AssumeRoleWithSAML"

  awsc "$cli" iam delete-role --role-name "$role"
  awsc "$cli" iam delete-saml-provider --saml-provider-arn "$provider_arn"
done
