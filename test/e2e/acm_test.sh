#!/usr/bin/env bash
# ACM with both aws CLIs: a requested certificate is issued at once by
# overcast's local CA and verifies with openssl against the root served at
# /_overcast/acm/ca.pem; imports are checked (a key of another certificate
# is refused); tags, listing and deletion.
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

curl -fsS "$OVERCAST_ENDPOINT/_overcast/acm/ca.pem" -o "$work/ca.pem"
expect_contains "CA subject" "$(openssl x509 -in "$work/ca.pem" -noout -subject)" "Overcast Local Root CA"

# Two self-signed certificates to import, and the key of each.
for n in one two; do
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/$n.key" -out "$work/$n.crt" -days 2 \
    -subj "/O=E2E/CN=$n.imported.example.com" -addext "subjectAltName=DNS:$n.imported.example.com" 2>/dev/null
done

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  d="$tag.example.com"

  arn=$(awsc "$cli" acm request-certificate --domain-name "$d" --subject-alternative-names "*.$d" \
    --validation-method DNS --idempotency-token "e2e$tag" --tags Key=suite,Value=e2e --query CertificateArn --output text)
  expect_contains "request-certificate ARN" "$arn" "arn:aws:acm:us-east-1:000000000000:certificate/"
  again=$(awsc "$cli" acm request-certificate --domain-name "$d" --subject-alternative-names "*.$d" \
    --idempotency-token "e2e$tag" --query CertificateArn --output text)
  expect_eq "same idempotency token" "$again" "$arn"
  awsc "$cli" acm wait certificate-validated --certificate-arn "$arn"

  got=$(awsc "$cli" acm describe-certificate --certificate-arn "$arn" \
    --query 'Certificate.[Status,Type,DomainName,KeyAlgorithm,Issuer,DomainValidationOptions[0].ValidationStatus,DomainValidationOptions[0].ResourceRecord.Type]' \
    --output text)
  expect_eq "describe-certificate" "$got" "$(printf 'ISSUED\tAMAZON_ISSUED\t%s\tRSA-2048\tOvercast\tSUCCESS\tCNAME' "$d")"
  got=$(awsc "$cli" acm describe-certificate --certificate-arn "$arn" --query 'Certificate.SubjectAlternativeNames' --output text)
  expect_eq "SubjectAlternativeNames" "$got" "$(printf '%s\t*.%s' "$d" "$d")"

  # The certificate and its chain verify against the served root.
  awsc "$cli" acm get-certificate --certificate-arn "$arn" --query Certificate --output text >"$work/$tag.pem"
  got=$(openssl verify -CAfile "$work/ca.pem" "$work/$tag.pem")
  expect_eq "openssl verify" "$got" "$work/$tag.pem: OK"
  awsc "$cli" acm get-certificate --certificate-arn "$arn" --query CertificateChain --output text >"$work/$tag-chain.pem"
  cmp -s <(openssl x509 -in "$work/$tag-chain.pem" -outform der) <(openssl x509 -in "$work/ca.pem" -outform der) ||
    fail "CertificateChain is not the served root"
  expect_contains "certificate names" "$(openssl x509 -in "$work/$tag.pem" -noout -ext subjectAltName)" "DNS:*.$d"

  got=$(awsc "$cli" acm list-certificates --certificate-statuses ISSUED --query "CertificateSummaryList[?CertificateArn=='$arn'].DomainName" --output text)
  expect_eq "list-certificates ISSUED" "$got" "$d"
  awsc "$cli" acm add-tags-to-certificate --certificate-arn "$arn" --tags Key=owner,Value="$tag"
  got=$(awsc "$cli" acm list-tags-for-certificate --certificate-arn "$arn" --query 'sort_by(Tags,&Key)[].[Key,Value]' --output text | tr '\t\n' '= ')
  expect_eq "list-tags-for-certificate" "$got" "owner=$tag suite=e2e "

  # Imports: a matching key is taken, another certificate's key is not.
  imp=$(awsc "$cli" acm import-certificate --certificate "fileb://$work/one.crt" --private-key "fileb://$work/one.key" \
    --query CertificateArn --output text)
  got=$(awsc "$cli" acm describe-certificate --certificate-arn "$imp" --query 'Certificate.[Type,DomainName,Issuer,Subject]' --output text)
  expect_eq "imported certificate" "$got" "$(printf 'IMPORTED\tone.imported.example.com\tE2E\tO=E2E,CN=one.imported.example.com')"
  if out=$(awsc "$cli" acm import-certificate --certificate "fileb://$work/one.crt" --private-key "fileb://$work/two.key" 2>&1); then
    fail "import-certificate with another certificate's key succeeded"
  fi
  expect_contains "mismatched key" "$out" "ValidationException"
  awsc "$cli" acm import-certificate --certificate-arn "$imp" --certificate "fileb://$work/two.crt" --private-key "fileb://$work/two.key" >/dev/null
  got=$(awsc "$cli" acm describe-certificate --certificate-arn "$imp" --query Certificate.DomainName --output text)
  expect_eq "re-imported certificate" "$got" "two.imported.example.com"

  if out=$(awsc "$cli" acm export-certificate --certificate-arn "$arn" --passphrase "$(printf secret | base64)" 2>&1); then
    fail "export-certificate of a public certificate without export succeeded"
  fi
  expect_contains "export refused" "$out" "is not a private certificate"
  if [ "$tag" = v1 ]; then # the Export option is newer than the v2 CLI Debian ships
    exp=$(awsc "$cli" acm request-certificate --domain-name "export.$d" --options Export=ENABLED --query CertificateArn --output text)
    # The v1 CLI sends a blob argument's bytes as they are (v2 takes base64).
    awsc "$cli" acm export-certificate --certificate-arn "$exp" --passphrase secret >"$work/export.json"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); open(sys.argv[2],"w").write(d["Certificate"]); open(sys.argv[3],"w").write(d["PrivateKey"])' \
      "$work/export.json" "$work/export.crt" "$work/export.key"
    expect_contains "exported key" "$(cat "$work/export.key")" "BEGIN ENCRYPTED PRIVATE KEY"
    key_pub=$(openssl pkey -in "$work/export.key" -passin pass:secret -pubout)
    cert_pub=$(openssl x509 -in "$work/export.crt" -noout -pubkey)
    expect_eq "exported key matches the certificate" "$key_pub" "$cert_pub"
    awsc "$cli" acm delete-certificate --certificate-arn "$exp"
  fi

  for a in "$arn" "$imp"; do
    awsc "$cli" acm delete-certificate --certificate-arn "$a"
  done
  if out=$(awsc "$cli" acm describe-certificate --certificate-arn "$arn" 2>&1); then
    fail "describe-certificate after delete-certificate succeeded"
  fi
  expect_contains "deleted certificate" "$out" "ResourceNotFoundException"
  expect_contains "deleted certificate" "$out" "Could not find certificate $arn"
done
