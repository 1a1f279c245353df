#!/usr/bin/env bash
# CloudFront with both aws CLIs: a distribution is created, waited for
# until Deployed, and curl gets its origin's file at its DomainName (a
# miss, then a hit); an invalidation (waited for until Completed) makes the
# next request a miss again; it is updated with If-Match (a stale ETag is
# refused), disabled (the edge then answers 403) and deleted. Last, a
# private bucket behind an origin access control is served through its
# distribution and refused to a direct read.
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
mkdir "$work/site" && echo "hello from the origin" >"$work/site/hello.txt"
origin_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$origin_port" --bind 127.0.0.1 --directory "$work/site" >/dev/null 2>&1 &
origin=$!
trap 'kill $origin; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$origin_port/hello.txt" >/dev/null 2>&1 && break; sleep 0.1; done
edge_port=${OVERCAST_ENDPOINT##*:}

# edge_get DOMAIN: the body and X-Cache of /hello.txt at the distribution.
edge_get() {
  local body
  body=$(curl -sS -D "$work/headers" "http://$1:$edge_port/hello.txt")
  printf '%s %s' "$body" "$(tr -d '\r' <"$work/headers" | sed -n 's/^[Xx]-[Cc]ache: //p')"
}

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  cat >"$work/config.json" <<JSON
{
  "CallerReference": "e2e-$tag",
  "Comment": "e2e $tag",
  "Enabled": true,
  "Origins": {"Quantity": 1, "Items": [{"Id": "web", "DomainName": "127.0.0.1",
    "CustomOriginConfig": {"HTTPPort": $origin_port, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}]},
  "DefaultCacheBehavior": {"TargetOriginId": "web", "ViewerProtocolPolicy": "allow-all",
    "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}
}
JSON
  id=$(awsc "$cli" cloudfront create-distribution --distribution-config "file://$work/config.json" --query Distribution.Id --output text)
  expect_contains "distribution ID" "$id" "E"
  domain=$(awsc "$cli" cloudfront get-distribution --id "$id" --query Distribution.DomainName --output text)
  expect_eq "DomainName" "$domain" "$(echo "$id" | tr 'A-Z' 'a-z').cloudfront.localhost"
  awsc "$cli" cloudfront wait distribution-deployed --id "$id"
  expect_eq "status" "$(awsc "$cli" cloudfront get-distribution --id "$id" --query Distribution.Status --output text)" "Deployed"
  expect_eq "first request" "$(edge_get "$domain")" "hello from the origin Miss from cloudfront"
  expect_eq "second request" "$(edge_get "$domain")" "hello from the origin Hit from cloudfront"

  inv=$(awsc "$cli" cloudfront create-invalidation --distribution-id "$id" --paths "/hello.txt" "/img/*" --query Invalidation.Id --output text)
  awsc "$cli" cloudfront wait invalidation-completed --distribution-id "$id" --id "$inv"
  got=$(awsc "$cli" cloudfront list-invalidations --distribution-id "$id" --query 'InvalidationList.Items[0].[Id,Status]' --output text)
  expect_eq "list-invalidations" "$got" "$(printf '%s\tCompleted' "$inv")"
  expect_eq "after the invalidation" "$(edge_get "$domain")" "hello from the origin Miss from cloudfront"

  etag=$(awsc "$cli" cloudfront get-distribution-config --id "$id" --query ETag --output text)
  awsc "$cli" cloudfront get-distribution-config --id "$id" --query DistributionConfig --output json >"$work/current.json"
  python3 - "$work/current.json" <<'PY'
import json, sys
path = sys.argv[1]
cfg = json.load(open(path))
cfg["Enabled"] = False
json.dump(cfg, open(path, "w"))
PY
  if awsc "$cli" cloudfront delete-distribution --id "$id" --if-match "$etag" 2>"$work/err"; then fail "deleted an enabled distribution"; fi
  expect_contains "delete while enabled" "$(cat "$work/err")" "DistributionNotDisabled"
  new=$(awsc "$cli" cloudfront update-distribution --id "$id" --if-match "$etag" --distribution-config "file://$work/current.json" --query ETag --output text)
  [ "$new" != "$etag" ] || fail "update kept the ETag $etag"
  if awsc "$cli" cloudfront update-distribution --id "$id" --if-match "$etag" --distribution-config "file://$work/current.json" 2>"$work/err" >/dev/null; then
    fail "an update with a stale ETag went through"
  fi
  expect_contains "stale If-Match" "$(cat "$work/err")" "PreconditionFailed"
  awsc "$cli" cloudfront wait distribution-deployed --id "$id"
  expect_eq "disabled distribution" "$(curl -s -o /dev/null -w '%{http_code}' "http://$domain:$edge_port/hello.txt")" "403"
  awsc "$cli" cloudfront delete-distribution --id "$id" --if-match "$new"
  if awsc "$cli" cloudfront get-distribution --id "$id" 2>"$work/err" >/dev/null; then fail "the distribution is still there"; fi
  expect_contains "deleted" "$(cat "$work/err")" "NoSuchDistribution"
done

# A private bucket behind an origin access control: served through the
# distribution only (v2 CLI).
cli=/usr/bin/aws
echo "  private bucket through an origin access control"
awsc "$cli" s3api create-bucket --bucket e2e-cf-private >/dev/null
echo "private object" >"$work/private.txt"
awsc "$cli" s3api put-object --bucket e2e-cf-private --key private.txt --body "$work/private.txt" >/dev/null
oac=$(awsc "$cli" cloudfront create-origin-access-control --origin-access-control-config \
  Name=e2e,SigningProtocol=sigv4,SigningBehavior=always,OriginAccessControlOriginType=s3 --query OriginAccessControl.Id --output text)
cat >"$work/private.json" <<JSON
{
  "CallerReference": "e2e-private", "Comment": "", "Enabled": true,
  "Origins": {"Quantity": 1, "Items": [{"Id": "bucket", "DomainName": "e2e-cf-private.s3.us-east-1.amazonaws.com",
    "S3OriginConfig": {"OriginAccessIdentity": ""}, "OriginAccessControlId": "$oac"}]},
  "DefaultCacheBehavior": {"TargetOriginId": "bucket", "ViewerProtocolPolicy": "allow-all",
    "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}
}
JSON
read -r id arn domain < <(awsc "$cli" cloudfront create-distribution --distribution-config "file://$work/private.json" \
  --query 'Distribution.[Id,ARN,DomainName]' --output text)
cat >"$work/policy.json" <<JSON
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
  "Action": "s3:GetObject", "Resource": "arn:aws:s3:::e2e-cf-private/*",
  "Condition": {"StringEquals": {"AWS:SourceArn": "$arn"}}}]}
JSON
awsc "$cli" s3api put-bucket-policy --bucket e2e-cf-private --policy "file://$work/policy.json"
awsc "$cli" cloudfront wait distribution-deployed --id "$id"
expect_eq "through the distribution" "$(curl -sS "http://$domain:$edge_port/private.txt")" "private object"
expect_eq "read directly" "$(curl -s -o /dev/null -w '%{http_code}' "$OVERCAST_ENDPOINT/e2e-cf-private/private.txt")" "403"
