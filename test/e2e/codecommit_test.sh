#!/usr/bin/env bash
# CodeCommit with both aws CLIs: repositories, files committed through the
# API and read back (get-file, get-folder, get-differences), branches, and
# bad input answered with CodeCommit's own exceptions.
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  repo="e2e-$tag"

  got=$(awsc "$cli" codecommit create-repository --repository-name "$repo" --repository-description "e2e repository" \
    --query 'repositoryMetadata.[repositoryName,cloneUrlHttp,Arn]' --output text)
  expect_eq "create-repository" "$got" "$(printf '%s\t%s/v1/repos/%s\tarn:aws:codecommit:us-east-1:000000000000:%s' "$repo" "$OVERCAST_ENDPOINT" "$repo" "$repo")"

  printf 'hello %s\n' "$tag" >"$work/readme"
  first=$(awsc "$cli" codecommit put-file --repository-name "$repo" --branch-name main --file-path README.md \
    --file-content "fileb://$work/readme" --commit-message "first" --name e2e --email e2e@example.com --query commitId --output text)
  got=$(awsc "$cli" codecommit get-file --repository-name "$repo" --file-path README.md --query fileContent --output text | base64 -d)
  expect_eq "get-file" "$got" "hello $tag"
  got=$(awsc "$cli" codecommit get-repository --repository-name "$repo" --query 'repositoryMetadata.defaultBranch' --output text)
  expect_eq "default branch after the first commit" "$got" "main"

  printf '#!/bin/sh\necho %s\n' "$tag" >"$work/app.sh"
  second=$(awsc "$cli" codecommit put-file --repository-name "$repo" --branch-name main --file-path src/app.sh --file-mode EXECUTABLE \
    --file-content "fileb://$work/app.sh" --parent-commit-id "$first" --query commitId --output text)
  got=$(awsc "$cli" codecommit get-differences --repository-name "$repo" --before-commit-specifier "$first" --after-commit-specifier main \
    --query 'differences[].[changeType,afterBlob.path,afterBlob.mode]' --output text)
  expect_eq "get-differences" "$got" "$(printf 'A\tsrc/app.sh\t100755')"
  got=$(awsc "$cli" codecommit get-folder --repository-name "$repo" --folder-path / --query '[files[].absolutePath,subFolders[].absolutePath]' --output text)
  expect_eq "get-folder" "$got" "$(printf 'README.md\nsrc')"
  got=$(awsc "$cli" codecommit get-commit --repository-name "$repo" --commit-id "$first" --query 'commit.[message,author.name]' --output text)
  expect_eq "get-commit" "$got" "$(printf 'first\te2e')"

  awsc "$cli" codecommit create-branch --repository-name "$repo" --branch-name dev --commit-id "$second"
  got=$(awsc "$cli" codecommit list-branches --repository-name "$repo" --query 'sort(branches)' --output text)
  expect_eq "list-branches" "$got" "$(printf 'dev\tmain')"
  got=$(awsc "$cli" codecommit get-branch --repository-name "$repo" --branch-name dev --query 'branch.commitId' --output text)
  expect_eq "get-branch" "$got" "$second"

  # Bad input.
  if out=$(awsc "$cli" codecommit create-repository --repository-name "bad name" 2>&1); then fail "a name with a space was accepted"; fi
  expect_contains "bad repository name" "$out" "InvalidRepositoryNameException"
  if out=$(awsc "$cli" codecommit put-file --repository-name "$repo" --branch-name main --file-path x --file-content "fileb://$work/readme" 2>&1); then
    fail "put-file without a parent on an existing branch succeeded"
  fi
  expect_contains "missing parent" "$out" "ParentCommitIdRequiredException"
  if out=$(awsc "$cli" codecommit get-repository --repository-name "$repo-nope" 2>&1); then fail "get-repository of a missing repository succeeded"; fi
  expect_contains "missing repository" "$out" "RepositoryDoesNotExistException"

  got=$(awsc "$cli" codecommit delete-repository --repository-name "$repo" --query repositoryId --output text)
  [ -n "$got" ] && [ "$got" != None ] || fail "delete-repository: got no repository ID"
done
