#!/usr/bin/env bash
# git against CodeCommit's data plane with both aws CLIs: clone and push
# over smart HTTP through `aws codecommit credential-helper` (the AWS-style
# host name, and the reported clone URL with --ignore-host-check), with an
# IAM Git credential, over SSH with a key uploaded to IAM; a bad password
# gets git's 403.
source "$(dirname "$0")/lib.sh"
command -v git >/dev/null || { echo "  skip: no git"; exit 0; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=${OVERCAST_ENDPOINT##*:}
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0
export GIT_AUTHOR_NAME=e2e GIT_AUTHOR_EMAIL=e2e@example.com GIT_COMMITTER_NAME=e2e GIT_COMMITTER_EMAIL=e2e@example.com

# urlencode S: S as one URL component (Git credentials hold / + =).
urlencode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  repo="git-$tag"
  user="git-user-$tag"
  awsc "$cli" codecommit create-repository --repository-name "$repo" >/dev/null
  awsc "$cli" iam create-user --user-name "$user" >/dev/null
  read -r key secret < <(awsc "$cli" iam create-access-key --user-name "$user" --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)

  # A push to the reported clone URL through the credential helper, as
  # AWS's setup guide configures it: the URL's host is AWS's name under
  # .localhost, which the helper signs for as is.
  src="$work/src-$tag"
  git init -q -b main "$src"
  echo "hello $tag" >"$src/README.md"
  git -C "$src" add README.md && git -C "$src" commit -qm first
  helper="!AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret $cli codecommit credential-helper \$@"
  aws_url=$(awsc "$cli" codecommit get-repository --repository-name "$repo" --query repositoryMetadata.cloneUrlHttp --output text)
  expect_eq "cloneUrlHttp" "$aws_url" "http://git-codecommit.us-east-1.amazonaws.com.localhost:$port/v1/repos/$repo"
  git -C "$src" -c credential.helper="$helper" -c credential.UseHttpPath=true push -q "$aws_url" main \
    || fail "push through the $tag credential helper"
  got=$(awsc "$cli" codecommit get-branch --repository-name "$repo" --branch-name main --query branch.commitId --output text)
  expect_eq "main after the push" "$got" "$(git -C "$src" rev-parse HEAD)"

  # A clone from the server's own address, whose host the helper signs with --ignore-host-check.
  http_url="$OVERCAST_ENDPOINT/v1/repos/$repo"
  helper="!AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret $cli codecommit credential-helper --ignore-host-check \$@"
  git -c credential.helper="$helper" -c credential.UseHttpPath=true clone -q "$http_url" "$work/clone-$tag" \
    || fail "clone of $http_url with --ignore-host-check"
  expect_eq "cloned README.md" "$(cat "$work/clone-$tag/README.md")" "hello $tag"

  # A wrong secret signs a password the server refuses with 403.
  helper="!AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=wrong $cli codecommit credential-helper \$@"
  out=$(git -c credential.helper="$helper" -c credential.UseHttpPath=true ls-remote "$aws_url" 2>&1) && fail "ls-remote with a bad signature succeeded"
  expect_contains "bad signature" "$out" "The requested URL returned error: 403"

  # An IAM Git credential, in the URL.
  read -r cuser cpass < <(awsc "$cli" iam create-service-specific-credential --user-name "$user" --service-name codecommit.amazonaws.com \
    --query 'ServiceSpecificCredential.[ServiceUserName,ServicePassword]' --output text)
  expect_eq "ServiceUserName" "$cuser" "$user-at-000000000000"
  echo "more" >"$src/more.txt"
  git -C "$src" add more.txt && git -C "$src" commit -qm second
  git -C "$src" push -q "http://$(urlencode "$cuser"):$(urlencode "$cpass")@127.0.0.1:$port/v1/repos/$repo" main \
    || fail "push with a Git credential"

  # SSH with a key uploaded to IAM; the key ID is the SSH user.
  if command -v ssh-keygen >/dev/null; then
    ssh-keygen -q -t ed25519 -N '' -f "$work/id-$tag"
    key_id=$(awsc "$cli" iam upload-ssh-public-key --user-name "$user" --ssh-public-key-body "file://$work/id-$tag.pub" \
      --query SSHPublicKey.SSHPublicKeyId --output text)
    ssh_url=$(awsc "$cli" codecommit get-repository --repository-name "$repo" --query repositoryMetadata.cloneUrlSsh --output text)
    ssh_url=${ssh_url/ssh:\/\//ssh://$key_id@}
    export GIT_SSH_COMMAND="ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o BatchMode=yes -o LogLevel=ERROR -i $work/id-$tag"
    git clone -q "$ssh_url" "$work/ssh-$tag" || fail "clone over SSH from $ssh_url"
    expect_eq "cloned over SSH" "$(cat "$work/ssh-$tag/more.txt")" "more"
    unset GIT_SSH_COMMAND
  fi
done
