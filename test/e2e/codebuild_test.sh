#!/usr/bin/env bash
# CodeBuild with both aws CLIs: projects created, read, listed, updated
# and deleted; a build that runs its buildspec in a container (a busybox
# image made here: no registry is reachable), with a parameter-store
# variable, an exported variable and a zip artifact landing in S3; a
# failing build's phases; bad input answered with CodeBuild's exceptions.
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
image="overcast-e2e-codebuild:$$"
cleanup() {
  docker rmi -f "$image" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

role=arn:aws:iam::000000000000:role/codebuild-e2e
env_json() { printf '{"type":"LINUX_CONTAINER","computeType":"BUILD_GENERAL1_SMALL","image":"%s"}' "$1"; }
source_json() { python3 -c 'import json,sys; print(json.dumps({"type":"NO_SOURCE","buildspec":sys.argv[1]}))' "$1"; }

# wait_build CLI ID: waits for the build to complete and prints its status.
wait_build() {
  local status
  for _ in $(seq 1 600); do
    status=$(awsc "$1" codebuild batch-get-builds --ids "$2" --query 'builds[0].[buildComplete,buildStatus]' --output text)
    case "$status" in True*) echo "${status#True?}"; return;; esac
    sleep 0.2
  done
  fail "build $2 did not complete: $status"
}

have_builds=0
if docker version >/dev/null 2>&1 && [ -x /bin/busybox ]; then
  mkdir -p "$work/rootfs/bin" "$work/rootfs/tmp" "$work/rootfs/root"
  cp /bin/busybox "$work/rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$work/rootfs/bin/$applet"
  done
  tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
  docker import "$work/rootfs.tar" "$image" >/dev/null
  have_builds=1
elif [ "${OVERCAST_TEST_DOCKER:-}" = 1 ]; then
  fail "builds need a Docker engine and /bin/busybox, and OVERCAST_TEST_DOCKER=1"
else
  echo "  skip builds: no Docker engine or no /bin/busybox"
fi

buildspec='version: 0.2
env:
  parameter-store:
    GREETING: /e2e/codebuild/greeting
  exported-variables:
    - SAID
phases:
  install:
    commands:
      - echo installing
  pre_build:
    commands:
      - mkdir -p out
  build:
    commands:
      - echo "$GREETING from build $CODEBUILD_BUILD_NUMBER" > out/said.txt
      - export SAID="$(cat out/said.txt)"
  post_build:
    commands:
      - echo done
artifacts:
  files:
    - out/said.txt
cache:
  paths:
    - out/**/*
'

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  project="e2e-$tag"
  bucket="codebuild-e2e-$tag"
  awsc "$cli" s3 mb "s3://$bucket" >/dev/null
  awsc "$cli" ssm put-parameter --name /e2e/codebuild/greeting --value "hello $tag" --type SecureString --overwrite >/dev/null

  got=$(awsc "$cli" codebuild create-project --name "$project" --source "$(source_json "$buildspec")" \
    --artifacts "{\"type\":\"S3\",\"location\":\"$bucket\",\"name\":\"said.zip\",\"packaging\":\"ZIP\"}" \
    --cache "{\"type\":\"S3\",\"location\":\"$bucket/cache\"}" \
    --environment "$(env_json "$image")" --service-role "$role" --tags key=team,value=e2e \
    --query 'project.[arn,timeoutInMinutes,logsConfig.cloudWatchLogs.status]' --output text)
  expect_eq "create-project" "$got" "$(printf 'arn:aws:codebuild:us-east-1:000000000000:project/%s\t60\tENABLED' "$project")"
  got=$(awsc "$cli" codebuild batch-get-projects --names "$project" nope --query '[projects[0].name,projectsNotFound[0]]' --output text)
  expect_eq "batch-get-projects" "$got" "$(printf '%s\tnope' "$project")"
  got=$(awsc "$cli" codebuild update-project --name "$project" --timeout-in-minutes 20 --query 'project.[timeoutInMinutes,tags[0].value]' --output text)
  expect_eq "update-project" "$got" "$(printf '20\te2e')"
  got=$(awsc "$cli" codebuild list-projects --query "contains(projects, '$project')" --output text)
  expect_eq "list-projects" "$got" "True"

  # Bad input.
  if out=$(awsc "$cli" codebuild create-project --name "$project" --source "$(source_json "$buildspec")" --artifacts type=NO_ARTIFACTS \
    --environment "$(env_json "$image")" --service-role "$role" 2>&1); then fail "a second project of the same name was created"; fi
  expect_contains "duplicate project" "$out" "ResourceAlreadyExistsException"
  if out=$(awsc "$cli" codebuild start-build --project-name "$project-nope" 2>&1); then fail "start-build of a missing project succeeded"; fi
  expect_contains "missing project" "$out" "ResourceNotFoundException"
  if out=$(awsc "$cli" codebuild create-project --name "$project-cc" --source type=CODECOMMIT --artifacts type=NO_ARTIFACTS \
    --environment "$(env_json "$image")" --service-role "$role" 2>&1); then fail "a CODECOMMIT source without a location was accepted"; fi
  expect_contains "missing location" "$out" "Project source location is required"

  if [ "$have_builds" = 1 ]; then
    id=$(awsc "$cli" codebuild start-build --project-name "$project" --query build.id --output text)
    expect_contains "build id" "$id" "$project:"
    expect_eq "build status" "$(wait_build "$cli" "$id")" "SUCCEEDED"
    got=$(awsc "$cli" codebuild batch-get-builds --ids "$id" \
      --query 'builds[0].[buildNumber,exportedEnvironmentVariables[0].value,artifacts.location]' --output text)
    expect_eq "the build" "$got" "$(printf '1\thello %s from build 1\tarn:aws:s3:::%s/said.zip' "$tag" "$bucket")"
    awsc "$cli" s3 cp "s3://$bucket/said.zip" "$work/said-$tag.zip" >/dev/null
    got=$(python3 -c 'import sys,zipfile; print(zipfile.ZipFile(sys.argv[1]).read("out/said.txt").decode().strip())' "$work/said-$tag.zip")
    expect_eq "the artifact" "$got" "hello $tag from build 1"
    got=$(awsc "$cli" codebuild list-builds-for-project --project-name "$project" --query 'ids[0]' --output text)
    expect_eq "list-builds-for-project" "$got" "$id"
    group=$(awsc "$cli" codebuild batch-get-builds --ids "$id" --query 'builds[0].logs.groupName' --output text)
    stream=$(awsc "$cli" codebuild batch-get-builds --ids "$id" --query 'builds[0].logs.streamName' --output text)
    got=$(awsc "$cli" logs get-log-events --log-group-name "$group" --log-stream-name "$stream" --start-from-head --query 'events[].message' --output text)
    expect_contains "the build log" "$got" "installing"

    id=$(awsc "$cli" codebuild start-build --project-name "$project" --buildspec-override "$(printf 'version: 0.2\nphases:\n  build:\n    commands:\n      - "false"\n')" \
      --query build.id --output text)
    expect_eq "failing build status" "$(wait_build "$cli" "$id")" "FAILED"
    got=$(awsc "$cli" codebuild batch-get-builds --ids "$id" --query "builds[0].phases[?phaseType=='BUILD'].[phaseStatus,contexts[0].statusCode]" --output text)
    expect_eq "the failed phase" "$got" "$(printf 'FAILED\tCOMMAND_EXECUTION_ERROR')"
  fi

  awsc "$cli" codebuild delete-project --name "$project"
  got=$(awsc "$cli" codebuild batch-get-projects --names "$project" --query 'projectsNotFound[0]' --output text)
  expect_eq "after delete-project" "$got" "$project"
done
