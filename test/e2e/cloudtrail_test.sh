#!/usr/bin/env bash
# CloudTrail with both aws CLIs: the create-bucket call made just before is
# in the event history, found by `lookup-events --lookup-attributes
# AttributeKey=EventName,AttributeValue=CreateBucket`, with its caller (an
# IAM user's access key) and its parameters; a trail delivers log files.
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  user="trail-e2e-$tag-$RANDOM"
  bucket="trail-e2e-$tag-$RANDOM"
  awsc "$cli" iam create-user --user-name "$user" >/dev/null
  read -r key secret < <(awsc "$cli" iam create-access-key --user-name "$user" \
    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)

  AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret awsc "$cli" s3api create-bucket --bucket "$bucket" >/dev/null

  got=$(awsc "$cli" cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=CreateBucket \
    --max-results 5 --query 'Events[0].[EventName,Username,AccessKeyId,EventSource,ReadOnly]' --output text)
  expect_eq "lookup-events CreateBucket" "$got" "$(printf 'CreateBucket\t%s\t%s\ts3.amazonaws.com\tfalse' "$user" "$key")"
  event=$(awsc "$cli" cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=CreateBucket \
    --max-results 1 --query 'Events[0].CloudTrailEvent' --output text)
  got=$(jq -r '[.userIdentity.type, .userIdentity.userName, .userIdentity.arn, .requestParameters.bucket, .awsRegion, .eventType] | @tsv' <<<"$event")
  expect_eq "CloudTrailEvent" "$got" "$(printf 'IAMUser\t%s\tarn:aws:iam::000000000000:user/%s\t%s\tus-east-1\tAwsApiCall' "$user" "$user" "$bucket")"
  expect_contains "userAgent" "$(jq -r .userAgent <<<"$event")" "aws-cli/"

  # A failed call is recorded with its error.
  awsc "$cli" iam get-user --user-name "nobody-$tag" >/dev/null 2>&1 && fail "get-user of nobody succeeded"
  got=$(awsc "$cli" cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=GetUser \
    --max-results 1 --query 'Events[0].CloudTrailEvent' --output text | jq -r .errorCode)
  expect_eq "errorCode of a failed call" "$got" "NoSuchEntity"

  # A trail: its bucket must let CloudTrail write.
  logs="trail-logs-$tag-$RANDOM"
  awsc "$cli" s3api create-bucket --bucket "$logs" >/dev/null
  awsc "$cli" cloudtrail create-trail --name "e2e-$tag" --s3-bucket-name "$logs" >/dev/null 2>"$work/err" &&
    fail "create-trail without a bucket policy succeeded"
  expect_contains "create-trail without a bucket policy" "$(cat "$work/err")" "InsufficientS3BucketPolicyException"
  awsc "$cli" s3api put-bucket-policy --bucket "$logs" --policy "$(cat <<JSON
{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::$logs"},
  {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::$logs/*"}]}
JSON
)"
  arn=$(awsc "$cli" cloudtrail create-trail --name "e2e-$tag" --s3-bucket-name "$logs" --query TrailARN --output text)
  expect_eq "create-trail" "$arn" "arn:aws:cloudtrail:us-east-1:000000000000:trail/e2e-$tag"
  awsc "$cli" cloudtrail start-logging --name "e2e-$tag"
  expect_eq "get-trail-status" "$(awsc "$cli" cloudtrail get-trail-status --name "e2e-$tag" --query IsLogging --output text)" "True"
  got=$(awsc "$cli" cloudtrail describe-trails --trail-name-list "e2e-$tag" --query 'trailList[0].[Name,S3BucketName,HomeRegion]' --output text)
  expect_eq "describe-trails" "$got" "$(printf 'e2e-%s\t%s\tus-east-1' "$tag" "$logs")"
  # Stopping delivers what was recorded while logging.
  awsc "$cli" cloudtrail stop-logging --name "e2e-$tag"
  key=$(awsc "$cli" s3api list-objects-v2 --bucket "$logs" --prefix AWSLogs/000000000000/CloudTrail/us-east-1/ \
    --query 'Contents[0].Key' --output text)
  expect_contains "log file key" "$key" "000000000000_CloudTrail_us-east-1_"
  awsc "$cli" s3 cp "s3://$logs/$key" "$work/$tag.json.gz" >/dev/null
  got=$(gunzip -c "$work/$tag.json.gz" | jq -r '.Records[].eventName' | sort -u | tr '\n' ' ')
  expect_contains "delivered records" "$got" "GetTrailStatus"
  awsc "$cli" cloudtrail delete-trail --name "e2e-$tag"
done
