#!/usr/bin/env bash
# S3 with both aws CLIs and curl: buckets, small and multipart copies, sync,
# listing, removal, presigned URLs, metadata, object attributes, lifecycle
# validation, Object Lock, s3api multipart, virtual-hosted addressing, the
# static website endpoint and replication to another region.
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=${OVERCAST_ENDPOINT##*:}

echo "small file" >"$work/small.txt"
head -c $((21 * 1024 * 1024)) /dev/urandom >"$work/big.bin" # over the CLI's 8 MB threshold: multipart
mkdir -p "$work/tree/sub"
echo one >"$work/tree/one.txt"
echo two >"$work/tree/sub/two.txt"

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  b="e2e-s3-$tag"

  out=$(awsc "$cli" s3 mb "s3://$b")
  expect_eq "mb" "$out" "make_bucket: $b"
  # us-east-1 answers 200 OK to re-creating your own bucket; other
  # regions BucketAlreadyOwnedByYou.
  out=$(awsc "$cli" s3 mb "s3://$b")
  expect_eq "mb again in us-east-1" "$out" "make_bucket: $b"
  if out=$(awsc "$cli" s3api create-bucket --bucket "$b" --region eu-west-1 \
    --create-bucket-configuration LocationConstraint=eu-west-1 2>&1); then fail "create-bucket of an owned bucket outside us-east-1 succeeded"; fi
  expect_contains "create again in eu-west-1" "$out" BucketAlreadyOwnedByYou
  if out=$(awsc "$cli" s3 mb "s3://Bad_Name" 2>&1); then fail "invalid bucket name accepted"; fi
  expect_contains "invalid name" "$out" InvalidBucketName

  # cp small and multipart-sized, both ways.
  awsc "$cli" s3 cp "$work/small.txt" "s3://$b/docs/small.txt" --only-show-errors
  awsc "$cli" s3 cp "$work/big.bin" "s3://$b/big.bin" --only-show-errors
  etag=$(awsc "$cli" s3api head-object --bucket "$b" --key big.bin --query ETag --output text)
  expect_contains "multipart ETag" "$etag" "-"
  awsc "$cli" s3 cp "s3://$b/big.bin" "$work/big.back" --only-show-errors
  cmp -s "$work/big.bin" "$work/big.back" || fail "multipart object differs after a round trip"
  got=$(awsc "$cli" s3 cp "s3://$b/docs/small.txt" -)
  expect_eq "cp to stdout" "$got" "small file"
  # User metadata keys come back in lower case, as stored.
  awsc "$cli" s3 cp "$work/small.txt" "s3://$b/meta.txt" --metadata Md=1,other-Key=2 --only-show-errors
  got=$(awsc "$cli" s3api head-object --bucket "$b" --key meta.txt --query 'Metadata' --output json | tr -d ' \n')
  expect_eq "metadata keys" "$got" '{"md":"1","other-key":"2"}'
  got=$(awsc "$cli" s3api get-object-attributes --bucket "$b" --key meta.txt --object-attributes ObjectSize StorageClass \
    --query '[ObjectSize,StorageClass]' --output text)
  expect_eq "get-object-attributes" "$got" "11	STANDARD"
  if out=$(awsc "$cli" s3api put-bucket-lifecycle-configuration --bucket "$b" \
    --lifecycle-configuration '{"Rules":[{"Status":"Enabled","Filter":{},"Expiration":{"Days":0}}]}' 2>&1); then
    fail "lifecycle rule of 0 days accepted"
  fi
  expect_contains "lifecycle rule of 0 days" "$out" InvalidArgument

  # Object Lock: a COMPLIANCE version cannot be deleted before its date.
  lb="e2e-lock-$tag"
  awsc "$cli" s3api create-bucket --bucket "$lb" --object-lock-enabled-for-bucket >/dev/null
  until=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
  vid=$(awsc "$cli" s3api put-object --bucket "$lb" --key k --body "$work/small.txt" \
    --object-lock-mode COMPLIANCE --object-lock-retain-until-date "$until" --query VersionId --output text)
  got=$(awsc "$cli" s3api get-object-retention --bucket "$lb" --key k --query Retention.Mode --output text)
  expect_eq "get-object-retention" "$got" COMPLIANCE
  if out=$(awsc "$cli" s3api delete-object --bucket "$lb" --key k --version-id "$vid" --bypass-governance-retention 2>&1); then
    fail "a COMPLIANCE version was deleted"
  fi
  expect_contains "delete of a locked version" "$out" AccessDenied

  # sync uploads only what changed.
  awsc "$cli" s3 sync "$work/tree" "s3://$b/tree" --only-show-errors
  out=$(awsc "$cli" s3 sync "$work/tree" "s3://$b/tree")
  expect_eq "second sync" "$out" ""
  awsc "$cli" s3 sync "s3://$b/tree" "$work/tree-back-$tag" --only-show-errors
  diff -r "$work/tree" "$work/tree-back-$tag" >/dev/null || fail "sync down differs"

  # ls
  out=$(awsc "$cli" s3 ls "s3://$b/")
  expect_contains "ls prefixes" "$out" "PRE docs/"
  expect_contains "ls prefixes" "$out" "PRE tree/"
  expect_contains "ls objects" "$out" "big.bin"
  out=$(awsc "$cli" s3 ls "s3://$b" --recursive)
  expect_contains "ls --recursive" "$out" "tree/sub/two.txt"
  out=$(awsc "$cli" s3 ls)
  expect_contains "ls buckets" "$out" "$b"

  # presign, fetched with curl; the CLI v1 signs with SigV2, v2 with SigV4.
  url=$(awsc "$cli" s3 presign "s3://$b/docs/small.txt" --expires-in 300)
  got=$(curl -fsS "$url")
  expect_eq "presigned GET" "$got" "small file"
  code=$(curl -s -o /dev/null -w '%{http_code}' "$OVERCAST_ENDPOINT/$b/docs/small.txt")
  expect_eq "anonymous GET of a private object" "$code" 403

  # s3api multipart by hand.
  head -c $((5 * 1024 * 1024)) /dev/urandom >"$work/part1"
  echo "last part" >"$work/part2"
  id=$(awsc "$cli" s3api create-multipart-upload --bucket "$b" --key manual --query UploadId --output text)
  e1=$(awsc "$cli" s3api upload-part --bucket "$b" --key manual --upload-id "$id" --part-number 1 --body "$work/part1" --query ETag --output text)
  e2=$(awsc "$cli" s3api upload-part --bucket "$b" --key manual --upload-id "$id" --part-number 2 --body "$work/part2" --query ETag --output text)
  uploads=$(awsc "$cli" s3api list-multipart-uploads --bucket "$b" --query 'Uploads[].UploadId' --output text)
  expect_contains "list-multipart-uploads" "$uploads" "$id"
  parts=$(awsc "$cli" s3api list-parts --bucket "$b" --key manual --upload-id "$id" --query 'Parts[].PartNumber' --output text)
  expect_eq "list-parts" "$(echo $parts)" "1 2"
  cat >"$work/parts.json" <<EOF
{"Parts":[{"PartNumber":1,"ETag":$e1},{"PartNumber":2,"ETag":$e2}]}
EOF
  etag=$(awsc "$cli" s3api complete-multipart-upload --bucket "$b" --key manual --upload-id "$id" \
    --multipart-upload "file://$work/parts.json" --query ETag --output text)
  expect_contains "complete ETag" "$etag" "-2"
  awsc "$cli" s3api get-object --bucket "$b" --key manual "$work/manual.back" >/dev/null
  cat "$work/part1" "$work/part2" | cmp -s - "$work/manual.back" || fail "completed upload differs"
  if out=$(awsc "$cli" s3api get-object --bucket "$b" --key no-such-key "$work/x" 2>&1); then fail "missing key fetched"; fi
  expect_contains "missing key" "$out" NoSuchKey

  # Virtual-hosted addressing against s3.localhost. curl resolves
  # *.localhost itself; the CLIs reach it through overcast as their proxy,
  # so no DNS set-up is needed.
  printf '[default]\ns3 =\n    addressing_style = virtual\n' >"$work/virtual.cfg"
  got=$(AWS_CONFIG_FILE="$work/virtual.cfg" HTTP_PROXY="$OVERCAST_ENDPOINT" NO_PROXY= \
    "$cli" --endpoint-url "http://s3.localhost:$port" s3 cp "s3://$b/docs/small.txt" -)
  expect_eq "virtual-hosted cp" "$got" "small file"

  # Static website: by path and by Host header, with curl.
  echo "<h1>$tag home</h1>" >"$work/index.html"
  echo "<h1>not here</h1>" >"$work/error.html"
  awsc "$cli" s3 cp "$work/index.html" "s3://$b/site/index.html" --content-type text/html --only-show-errors
  awsc "$cli" s3 cp "$work/index.html" "s3://$b/index.html" --content-type text/html --only-show-errors
  awsc "$cli" s3 cp "$work/error.html" "s3://$b/error.html" --content-type text/html --only-show-errors
  awsc "$cli" s3 website "s3://$b" --index-document index.html --error-document error.html
  awsc "$cli" s3api put-bucket-policy --bucket "$b" --policy \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::$b/*\"}]}"
  got=$(curl -fsS "$OVERCAST_ENDPOINT/_overcast/s3-website/$b/")
  expect_eq "website by path" "$got" "<h1>$tag home</h1>"
  got=$(curl -fsS -H "Host: $b.s3-website.localhost:$port" "$OVERCAST_ENDPOINT/site/")
  expect_eq "website by Host header" "$got" "<h1>$tag home</h1>"
  got=$(curl -fsS "http://$b.s3-website-us-east-1.localhost:$port/")
  expect_eq "website by name" "$got" "<h1>$tag home</h1>"
  loc=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H "Host: $b.s3-website.localhost:$port" "$OVERCAST_ENDPOINT/site")
  expect_eq "directory redirect" "$loc" "302 $OVERCAST_ENDPOINT/site/"
  out=$(curl -s -w '%{http_code}' -H "Host: $b.s3-website.localhost:$port" "$OVERCAST_ENDPOINT/nope.html")
  expect_eq "error document" "$out" "<h1>not here</h1>
403"
  got=$(curl -fsS "$OVERCAST_ENDPOINT/$b/docs/small.txt")
  expect_eq "public-read object with plain curl" "$got" "small file"

  # Replication to a bucket in another region: PENDING, then COMPLETED on
  # the source and REPLICA on the copy, with the same version ID.
  rs="e2e-repl-src-$tag"
  rd="e2e-repl-dst-$tag"
  awsc "$cli" s3api create-bucket --bucket "$rs" >/dev/null
  awsc "$cli" s3api create-bucket --bucket "$rd" --region eu-west-1 \
    --create-bucket-configuration LocationConstraint=eu-west-1 >/dev/null
  if out=$(awsc "$cli" s3api put-bucket-replication --bucket "$rs" --replication-configuration \
    "{\"Role\":\"arn:aws:iam::000000000000:role/r\",\"Rules\":[{\"Status\":\"Enabled\",\"Prefix\":\"\",\"Destination\":{\"Bucket\":\"arn:aws:s3:::$rd\"}}]}" 2>&1); then
    fail "replication from an unversioned bucket accepted"
  fi
  expect_contains "replication from an unversioned bucket" "$out" "Versioning must be 'Enabled'"
  awsc "$cli" s3api put-bucket-versioning --bucket "$rs" --versioning-configuration Status=Enabled
  awsc "$cli" s3api put-bucket-versioning --bucket "$rd" --region eu-west-1 --versioning-configuration Status=Enabled
  awsc "$cli" s3api put-bucket-replication --bucket "$rs" --replication-configuration \
    "{\"Role\":\"arn:aws:iam::000000000000:role/r\",\"Rules\":[{\"ID\":\"all\",\"Priority\":1,\"Status\":\"Enabled\",\"Filter\":{},\"DeleteMarkerReplication\":{\"Status\":\"Disabled\"},\"Destination\":{\"Bucket\":\"arn:aws:s3:::$rd\"}}]}"
  got=$(awsc "$cli" s3api get-bucket-replication --bucket "$rs" --query 'ReplicationConfiguration.Rules[0].ID' --output text)
  expect_eq "get-bucket-replication" "$got" all
  vid=$(awsc "$cli" s3api put-object --bucket "$rs" --key doc.txt --body "$work/small.txt" --query VersionId --output text)
  repl_status() { awsc "$cli" s3api head-object --bucket "$1" --key doc.txt --version-id "$vid" --region "$2" --query ReplicationStatus --output text; }
  is_completed() { [ "$(repl_status "$rs" us-east-1)" = COMPLETED ]; }
  wait_for "$rs/doc.txt to be replicated" is_completed
  expect_eq "replica status" "$(repl_status "$rd" eu-west-1)" REPLICA
  got=$(awsc "$cli" s3 cp "s3://$rd/doc.txt" - --region eu-west-1)
  expect_eq "replica body" "$got" "small file"

  # rm, then the bucket.
  awsc "$cli" s3 rm "s3://$b/tree" --recursive --only-show-errors
  out=$(awsc "$cli" s3 ls "s3://$b/tree/" || true)
  expect_eq "after rm --recursive" "$out" ""
  if out=$(awsc "$cli" s3 rb "s3://$b" 2>&1); then fail "rb of a non-empty bucket succeeded"; fi
  expect_contains "rb non-empty" "$out" BucketNotEmpty
  awsc "$cli" s3 rb "s3://$b" --force >/dev/null
  if out=$(awsc "$cli" s3 ls "s3://$b" 2>&1); then fail "deleted bucket listed"; fi
  expect_contains "deleted bucket" "$out" NoSuchBucket
done
