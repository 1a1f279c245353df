#!/usr/bin/env bash
# SSM Parameter Store and Secrets Manager with both aws CLIs: plain and
# secure parameters, hierarchies, secrets with versions, deletion and restore.
source "$(dirname "$0")/lib.sh"

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  p="/e2e/$tag"

  # Parameters: a String and a SecureString, read back with and without decryption.
  v=$(awsc "$cli" ssm put-parameter --name "$p/app/url" --value "db.local:5432" --type String --query Version --output text)
  expect_eq "put-parameter String version" "$v" 1
  awsc "$cli" ssm put-parameter --name "$p/app/db/password" --value "s3cr3t-$tag" --type SecureString >/dev/null
  got=$(awsc "$cli" ssm get-parameter --name "$p/app/url" --query Parameter.Value --output text)
  expect_eq "get-parameter String" "$got" "db.local:5432"
  got=$(awsc "$cli" ssm get-parameter --name "$p/app/db/password" --with-decryption --query Parameter.Value --output text)
  expect_eq "get-parameter --with-decryption" "$got" "s3cr3t-$tag"
  got=$(awsc "$cli" ssm get-parameter --name "$p/app/db/password" --query Parameter.Value --output text)
  [ "$got" != "s3cr3t-$tag" ] || fail "SecureString read without decryption shows the plaintext"

  # Overwrite makes version 2; the selector reads version 1.
  v=$(awsc "$cli" ssm put-parameter --name "$p/app/url" --value "db2.local:5432" --type String --overwrite --query Version --output text)
  expect_eq "overwrite version" "$v" 2
  got=$(awsc "$cli" ssm get-parameter --name "$p/app/url:1" --query Parameter.Value --output text)
  expect_eq "selector :1" "$got" "db.local:5432"
  if out=$(awsc "$cli" ssm put-parameter --name "$p/app/url" --value x --type String 2>&1); then
    fail "put-parameter over an existing parameter succeeded without --overwrite"
  fi
  expect_contains "existing parameter" "$out" ParameterAlreadyExists

  # The hierarchy, recursively, decrypted.
  got=$(awsc "$cli" ssm get-parameters-by-path --path "$p" --recursive --with-decryption \
    --query 'sort_by(Parameters,&Name)[].[Name,Value]' --output text | tr '\t\n' '= ')
  expect_eq "get-parameters-by-path --recursive" "$got" "$p/app/db/password=s3cr3t-$tag $p/app/url=db2.local:5432 "
  got=$(awsc "$cli" ssm get-parameters-by-path --path "$p/app" --query 'Parameters[].Name' --output text)
  expect_eq "get-parameters-by-path one level" "$got" "$p/app/url"

  if out=$(awsc "$cli" ssm get-parameter --name "$p/missing" 2>&1); then
    fail "get-parameter of a missing parameter succeeded"
  fi
  expect_contains "missing parameter" "$out" ParameterNotFound
  awsc "$cli" ssm delete-parameters --names "$p/app/url" "$p/app/db/password" >/dev/null

  # Secrets: create, read, a new version, the previous one.
  s="e2e/$tag/db"
  arn=$(awsc "$cli" secretsmanager create-secret --name "$s" --secret-string '{"user":"admin","password":"one"}' \
    --description "e2e secret" --query ARN --output text)
  expect_contains "secret ARN" "$arn" "arn:aws:secretsmanager:us-east-1:000000000000:secret:$s-"
  got=$(awsc "$cli" secretsmanager get-secret-value --secret-id "$s" --query SecretString --output text)
  expect_eq "get-secret-value" "$got" '{"user":"admin","password":"one"}'
  awsc "$cli" secretsmanager put-secret-value --secret-id "$arn" --secret-string '{"user":"admin","password":"two"}' >/dev/null
  got=$(awsc "$cli" secretsmanager get-secret-value --secret-id "$s" --query SecretString --output text)
  expect_eq "AWSCURRENT after put-secret-value" "$got" '{"user":"admin","password":"two"}'
  got=$(awsc "$cli" secretsmanager get-secret-value --secret-id "$s" --version-stage AWSPREVIOUS --query SecretString --output text)
  expect_eq "AWSPREVIOUS" "$got" '{"user":"admin","password":"one"}'

  # Deleted secrets refuse reads until restored.
  awsc "$cli" secretsmanager delete-secret --secret-id "$s" --recovery-window-in-days 7 >/dev/null
  if out=$(awsc "$cli" secretsmanager get-secret-value --secret-id "$s" 2>&1); then
    fail "get-secret-value of a deleted secret succeeded"
  fi
  expect_contains "deleted secret" "$out" "InvalidRequestException"
  expect_contains "deleted secret" "$out" "marked for deletion"
  got=$(awsc "$cli" secretsmanager describe-secret --secret-id "$s" --query 'DeletedDate != null' --output text)
  expect_eq "describe-secret DeletedDate" "$got" True
  awsc "$cli" secretsmanager restore-secret --secret-id "$s" >/dev/null
  got=$(awsc "$cli" secretsmanager get-secret-value --secret-id "$s" --query SecretString --output text)
  expect_eq "after restore-secret" "$got" '{"user":"admin","password":"two"}'

  pw=$(awsc "$cli" secretsmanager get-random-password --password-length 20 --exclude-punctuation --query RandomPassword --output text)
  expect_eq "random password length" "${#pw}" 20
  awsc "$cli" secretsmanager delete-secret --secret-id "$s" --force-delete-without-recovery >/dev/null
  if out=$(awsc "$cli" secretsmanager describe-secret --secret-id "$s" 2>&1); then
    fail "describe-secret after a forced deletion succeeded"
  fi
  expect_contains "forced deletion" "$out" ResourceNotFoundException
done
