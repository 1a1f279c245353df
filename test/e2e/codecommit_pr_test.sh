#!/usr/bin/env bash
# CodeCommit pull requests with both aws CLIs: a template's approval rule on
# a new pull request, a conflict shown by get-merge-conflicts, an approval by
# another IAM user, and a three-way merge with a conflict resolution.
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A reviewer with its own access key: the author cannot approve.
aws --endpoint-url "$OVERCAST_ENDPOINT" iam create-user --user-name pr-reviewer >/dev/null
read -r reviewer_key reviewer_secret < <(aws --endpoint-url "$OVERCAST_ENDPOINT" iam create-access-key --user-name pr-reviewer \
  --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
as_reviewer() { AWS_ACCESS_KEY_ID=$reviewer_key AWS_SECRET_ACCESS_KEY=$reviewer_secret awsc "$@"; }

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  repo="e2e-pr-$tag"
  awsc "$cli" codecommit create-repository --repository-name "$repo" >/dev/null

  printf 'one\ntwo\nthree\n' >"$work/base"
  base=$(awsc "$cli" codecommit put-file --repository-name "$repo" --branch-name main --file-path f.txt \
    --file-content "fileb://$work/base" --query commitId --output text)
  awsc "$cli" codecommit create-branch --repository-name "$repo" --branch-name feature --commit-id "$base"
  printf 'one\nfeature\nthree\n' >"$work/feature"
  feature=$(awsc "$cli" codecommit put-file --repository-name "$repo" --branch-name feature --file-path f.txt \
    --file-content "fileb://$work/feature" --parent-commit-id "$base" --query commitId --output text)
  printf 'one\nmain\nthree\n' >"$work/main"
  awsc "$cli" codecommit put-file --repository-name "$repo" --branch-name main --file-path f.txt \
    --file-content "fileb://$work/main" --parent-commit-id "$base" >/dev/null

  template="review-$tag"
  awsc "$cli" codecommit create-approval-rule-template --approval-rule-template-name "$template" \
    --approval-rule-template-content '{"Version":"2018-11-08","DestinationReferences":["refs/heads/main"],"Statements":[{"Type":"Approvers","NumberOfApprovalsNeeded":1,"ApprovalPoolMembers":["CodeCommitApprovers:000000000000:pr-reviewer"]}]}' >/dev/null
  awsc "$cli" codecommit associate-approval-rule-template-with-repository --approval-rule-template-name "$template" --repository-name "$repo"

  read -r id revision < <(awsc "$cli" codecommit create-pull-request --title "Feature $tag" \
    --targets "repositoryName=$repo,sourceReference=feature,destinationReference=main" \
    --query 'pullRequest.[pullRequestId,revisionId]' --output text)
  got=$(awsc "$cli" codecommit get-pull-request --pull-request-id "$id" \
    --query 'pullRequest.[pullRequestStatus,approvalRules[0].approvalRuleName,pullRequestTargets[0].sourceCommit]' --output text)
  expect_eq "get-pull-request" "$got" "$(printf 'OPEN\t%s\t%s' "$template" "$feature")"

  got=$(awsc "$cli" codecommit get-merge-conflicts --repository-name "$repo" --source-commit-specifier feature \
    --destination-commit-specifier main --merge-option THREE_WAY_MERGE --query '[mergeable,conflictMetadataList[0].filePath]' --output text)
  expect_eq "get-merge-conflicts" "$got" "$(printf 'False\tf.txt')"

  if out=$(awsc "$cli" codecommit merge-pull-request-by-three-way --pull-request-id "$id" --repository-name "$repo" 2>&1); then
    fail "an unapproved pull request merged"
  fi
  expect_contains "merge before approval" "$out" "PullRequestApprovalRulesNotSatisfiedException"
  if out=$(awsc "$cli" codecommit update-pull-request-approval-state --pull-request-id "$id" --revision-id "$revision" --approval-state APPROVE 2>&1); then
    fail "the author approved their own pull request"
  fi
  expect_contains "author approval" "$out" "PullRequestCannotBeApprovedByAuthorException"
  as_reviewer "$cli" codecommit update-pull-request-approval-state --pull-request-id "$id" --revision-id "$revision" --approval-state APPROVE
  got=$(awsc "$cli" codecommit evaluate-pull-request-approval-rules --pull-request-id "$id" --revision-id "$revision" --query 'evaluation.approved' --output text)
  expect_eq "evaluate after approval" "$got" "True"

  printf 'one\nresolved\nthree\n' >"$work/resolved"
  # A blob inside JSON: v2 takes it base64-encoded, v1 as it is.
  content='one\nresolved\nthree\n'
  [ "$tag" = v2 ] && content=$(base64 -w0 <"$work/resolved")
  resolution=$(printf '{"replaceContents":[{"filePath":"f.txt","replacementType":"USE_NEW_CONTENT","content":"%s"}]}' "$content")
  got=$(awsc "$cli" codecommit merge-pull-request-by-three-way --pull-request-id "$id" --repository-name "$repo" \
    --conflict-resolution "$resolution" --query 'pullRequest.[pullRequestStatus,pullRequestTargets[0].mergeMetadata.isMerged]' --output text)
  expect_eq "three-way merge" "$got" "$(printf 'CLOSED\tTrue')"
  got=$(awsc "$cli" codecommit get-file --repository-name "$repo" --file-path f.txt --commit-specifier main --query fileContent --output text | base64 -d)
  expect_eq "merged file" "$got" "$(printf 'one\nresolved\nthree')"

  awsc "$cli" codecommit disassociate-approval-rule-template-from-repository --approval-rule-template-name "$template" --repository-name "$repo"
  awsc "$cli" codecommit delete-approval-rule-template --approval-rule-template-name "$template" >/dev/null
  awsc "$cli" codecommit delete-repository --repository-name "$repo" >/dev/null
done
