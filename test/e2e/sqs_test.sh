#!/usr/bin/env bash
# SQS with both aws CLIs (v1 speaks SQS's JSON protocol, v2 from Debian the
# query protocol): queues and attributes, messages with attributes (the
# CLIs check MD5OfMessageBody), visibility, FIFO groups and deduplication,
# a dead-letter queue, tags and bad input.
source "$(dirname "$0")/lib.sh"

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"

  url=$(awsc "$cli" sqs create-queue --queue-name "e2e-$tag" --attributes VisibilityTimeout=40 --query QueueUrl --output text)
  expect_eq "create-queue URL" "$url" "$OVERCAST_ENDPOINT/000000000000/e2e-$tag"
  got=$(awsc "$cli" sqs get-queue-url --queue-name "e2e-$tag" --query QueueUrl --output text)
  expect_eq "get-queue-url" "$got" "$url"
  got=$(awsc "$cli" sqs get-queue-attributes --queue-url "$url" --attribute-names VisibilityTimeout QueueArn --query 'Attributes.[VisibilityTimeout,QueueArn]' --output text)
  expect_eq "get-queue-attributes" "$got" "$(printf '40\tarn:aws:sqs:us-east-1:000000000000:e2e-%s' "$tag")"
  got=$(awsc "$cli" sqs list-queues --queue-name-prefix "e2e-$tag" --query 'QueueUrls' --output text)
  expect_eq "list-queues" "$got" "$url"

  awsc "$cli" sqs send-message --queue-url "$url" --message-body "hello $tag" \
    --message-attributes '{"kind":{"DataType":"String","StringValue":"greeting"},"n":{"DataType":"Number","StringValue":"7"}}' >/dev/null
  got=$(awsc "$cli" sqs get-queue-attributes --queue-url "$url" --attribute-names ApproximateNumberOfMessages --query 'Attributes.ApproximateNumberOfMessages' --output text)
  expect_eq "ApproximateNumberOfMessages" "$got" "1"
  msg=$(awsc "$cli" sqs receive-message --queue-url "$url" --message-attribute-names All --attribute-names ApproximateReceiveCount \
    --query 'Messages[0].[Body,MessageAttributes.kind.StringValue,Attributes.ApproximateReceiveCount,ReceiptHandle]' --output text)
  IFS=$'\t' read -r body kind count handle <<<"$msg"
  expect_eq "received" "$body/$kind/$count" "hello $tag/greeting/1"
  got=$(awsc "$cli" sqs receive-message --queue-url "$url" --query 'length(Messages || `[]`)' --output text)
  expect_eq "in flight" "$got" "0"
  awsc "$cli" sqs change-message-visibility --queue-url "$url" --receipt-handle "$handle" --visibility-timeout 0
  handle=$(awsc "$cli" sqs receive-message --queue-url "$url" --query 'Messages[0].ReceiptHandle' --output text)
  awsc "$cli" sqs delete-message --queue-url "$url" --receipt-handle "$handle"

  got=$(awsc "$cli" sqs send-message-batch --queue-url "$url" --entries Id=a,MessageBody=one Id=b,MessageBody=two \
    --query 'length(Successful)' --output text)
  expect_eq "send-message-batch" "$got" "2"
  got=$(awsc "$cli" sqs receive-message --queue-url "$url" --max-number-of-messages 10 --wait-time-seconds 1 --query 'sort(Messages[].Body)' --output text)
  expect_eq "batch received" "$got" "$(printf 'one\ttwo')"

  # FIFO: a duplicate is acknowledged as the original; a group waits for
  # its message in flight.
  fifo=$(awsc "$cli" sqs create-queue --queue-name "e2e-$tag.fifo" --attributes FifoQueue=true,ContentBasedDeduplication=true --query QueueUrl --output text)
  first=$(awsc "$cli" sqs send-message --queue-url "$fifo" --message-body a1 --message-group-id g --query MessageId --output text)
  again=$(awsc "$cli" sqs send-message --queue-url "$fifo" --message-body a1 --message-group-id g --query MessageId --output text)
  expect_eq "deduplicated" "$again" "$first"
  awsc "$cli" sqs send-message --queue-url "$fifo" --message-body a2 --message-group-id g >/dev/null
  got=$(awsc "$cli" sqs receive-message --queue-url "$fifo" --query 'Messages[0].Body' --output text)
  expect_eq "first of group" "$got" "a1"
  got=$(awsc "$cli" sqs receive-message --queue-url "$fifo" --query 'length(Messages || `[]`)' --output text)
  expect_eq "group blocked" "$got" "0"

  # A dead-letter queue takes the message received too often.
  dlq=$(awsc "$cli" sqs create-queue --queue-name "e2e-$tag-dlq" --query QueueUrl --output text)
  src=$(awsc "$cli" sqs create-queue --queue-name "e2e-$tag-src" --query QueueUrl --output text)
  awsc "$cli" sqs set-queue-attributes --queue-url "$src" --attributes \
    "{\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"arn:aws:sqs:us-east-1:000000000000:e2e-$tag-dlq\\\",\\\"maxReceiveCount\\\":\\\"1\\\"}\",\"VisibilityTimeout\":\"0\"}"
  awsc "$cli" sqs send-message --queue-url "$src" --message-body poison >/dev/null
  awsc "$cli" sqs receive-message --queue-url "$src" >/dev/null
  got=$(awsc "$cli" sqs receive-message --queue-url "$src" --query 'length(Messages || `[]`)' --output text)
  expect_eq "moved out of source" "$got" "0"
  got=$(awsc "$cli" sqs receive-message --queue-url "$dlq" --query 'Messages[0].Body' --output text)
  expect_eq "dead letter" "$got" "poison"
  got=$(awsc "$cli" sqs list-dead-letter-source-queues --queue-url "$dlq" --query 'queueUrls' --output text)
  expect_eq "list-dead-letter-source-queues" "$got" "$src"

  awsc "$cli" sqs tag-queue --queue-url "$url" --tags team=e2e
  got=$(awsc "$cli" sqs list-queue-tags --queue-url "$url" --query 'Tags.team' --output text)
  expect_eq "list-queue-tags" "$got" "e2e"

  # Bad input.
  if out=$(awsc "$cli" sqs send-message --queue-url "$fifo" --message-body x 2>&1); then fail "FIFO send without a group succeeded"; fi
  expect_contains "missing group" "$out" "MessageGroupId"
  if out=$(awsc "$cli" sqs get-queue-url --queue-name "e2e-$tag-nope" 2>&1); then fail "get-queue-url of a missing queue succeeded"; fi
  expect_contains "missing queue" "$out" "does not exist"

  for q in "$url" "$fifo" "$dlq" "$src"; do awsc "$cli" sqs delete-queue --queue-url "$q"; done
  got=$(awsc "$cli" sqs list-queues --queue-name-prefix "e2e-$tag" --query 'length(QueueUrls || `[]`)' --output text)
  expect_eq "queues deleted" "$got" "0"
done
