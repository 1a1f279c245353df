#!/usr/bin/env bash
# ECR with both aws CLIs and the docker CLI: a repository, docker login with
# get-login-password, push of an image built here (a static Go binary), rmi,
# pull, run, describe-images, an immutable tag refusing an overwrite, and
# batch-delete-image.
source "$(dirname "$0")/lib.sh"

require_docker
registry=${OVERCAST_ENDPOINT#http://}
work=$(mktemp -d)
images=()
cleanup() {
  for i in "${images[@]}"; do docker rmi -f "$i" >/dev/null 2>&1 || true; done
  docker logout "$registry" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The image: one static binary, imported as a root filesystem (nothing is
# pulled from the internet).
mkdir -p "$work/src" "$work/rootfs"
cat >"$work/src/main.go" <<'EOF'
package main

import (
	"fmt"
	"os"
)

func main() { fmt.Println("hello from overcast ECR", os.Getenv("FLAVOR")) }
EOF
(cd "$work/src" && go mod init hello >/dev/null 2>&1 && CGO_ENABLED=0 go build -o "$work/rootfs/hello" .) || fail "building the test binary"
tar -C "$work/rootfs" -cf "$work/rootfs.tar" hello
local_image="overcast-e2e-hello:$$"
docker import -c 'ENTRYPOINT ["/hello"]' -c 'ENV FLAVOR=one' "$work/rootfs.tar" "$local_image" >/dev/null
images+=("$local_image")

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  repo="e2e-$tag/hello"

  uri=$(awsc "$cli" ecr create-repository --repository-name "$repo" --query repository.repositoryUri --output text)
  expect_eq "repositoryUri" "$uri" "$registry/$repo"

  awsc "$cli" ecr get-login-password | docker login --username AWS --password-stdin "$registry" >/dev/null 2>"$work/login.err" \
    || fail "docker login: $(cat "$work/login.err")"

  docker tag "$local_image" "$uri:v1"
  images+=("$uri:v1")
  docker push "$uri:v1" >"$work/push.out" 2>&1 || fail "docker push: $(cat "$work/push.out")"
  digest=$(grep -o 'digest: sha256:[0-9a-f]*' "$work/push.out" | cut -d' ' -f2)
  [ -n "$digest" ] || fail "docker push printed no digest: $(cat "$work/push.out")"

  docker rmi "$uri:v1" >/dev/null
  docker pull "$uri:v1" >"$work/pull.out" 2>&1 || fail "docker pull: $(cat "$work/pull.out")"
  images+=("$(docker image inspect -f '{{.Id}}' "$uri:v1")")
  out=$(docker run --rm "$uri:v1")
  echo "    docker run: $out"
  expect_eq "docker run output" "$out" "hello from overcast ECR one"

  # CloudTrail shows the push and the pull as the ECR calls they stand
  # for, made by docker.
  for name in PutImage BatchGetImage; do
    got=$(awsc "$cli" cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=$name \
      --query 'Events[0].CloudTrailEvent' --output text)
    expect_contains "lookup-events $name" "$got" "\"repositoryName\":\"$repo\""
    expect_contains "lookup-events $name user agent" "$got" '"userAgent":"docker/'
  done

  got=$(awsc "$cli" ecr describe-images --repository-name "$repo" \
    --query 'imageDetails[0].[imageDigest,imageTags[0],imageManifestMediaType]' --output text)
  expect_eq "describe-images" "$got" "$digest	v1	application/vnd.docker.distribution.manifest.v2+json"

  # A push to a repository that does not exist fails as on AWS.
  docker tag "$local_image" "$registry/e2e-$tag/missing:v1"
  images+=("$registry/e2e-$tag/missing:v1")
  if out=$(docker push "$registry/e2e-$tag/missing:v1" 2>&1); then fail "push to a missing repository succeeded"; fi
  expect_contains "push to a missing repository" "$out" "The repository with name 'e2e-$tag/missing' does not exist in the registry with id '000000000000'"

  # An immutable tag cannot be overwritten by another image.
  awsc "$cli" ecr put-image-tag-mutability --repository-name "$repo" --image-tag-mutability IMMUTABLE >/dev/null
  docker import -c 'ENTRYPOINT ["/hello"]' -c "ENV FLAVOR=two-$tag" "$work/rootfs.tar" "$uri:v1" >/dev/null
  if out=$(docker push "$uri:v1" 2>&1); then fail "overwriting an immutable tag succeeded"; fi
  expect_contains "immutable overwrite" "$out" "The image tag 'v1' already exists in the '$repo' repository and cannot be overwritten because the repository is immutable."

  got=$(awsc "$cli" ecr batch-delete-image --repository-name "$repo" --image-ids imageTag=v1 \
    --query '[imageIds[0].imageDigest,length(failures)]' --output text)
  expect_eq "batch-delete-image" "$got" "$digest	0"
  got=$(awsc "$cli" ecr list-images --repository-name "$repo" --query 'length(imageIds)' --output text)
  expect_eq "list-images after delete" "$got" "0"
  awsc "$cli" ecr delete-repository --repository-name "$repo" --force >/dev/null
done
