#!/usr/bin/env bash
# EFS with both aws CLIs: a file system with its creation token, a mount
# target, an access point whose root directory appears in the file
# system's directory, tags, and deletion in the right order.
source "$(dirname "$0")/lib.sh"

# The file systems' data is in the data dir run.sh gives overcast, next
# to its log.
data=""
[ -n "${OVERCAST_LOG:-}" ] && data="$(dirname "$OVERCAST_LOG")/data/efs/000000000000"

fs_state() { awsc "$1" efs describe-file-systems --file-system-id "$2" --query 'FileSystems[0].LifeCycleState' --output text; }
is_state() { [ "$("$1" "$2" "$3")" = "$4" ]; }
fs_gone() { ! out=$(awsc "$1" efs describe-file-systems --file-system-id "$2" 2>&1) && [[ $out == *FileSystemNotFound* ]]; }
mt_state() { awsc "$1" efs describe-mount-targets --mount-target-id "$2" --query 'MountTargets[0].LifeCycleState' --output text; }
mt_gone() { ! out=$(awsc "$1" efs describe-mount-targets --mount-target-id "$2" 2>&1) && [[ $out == *MountTargetNotFound* ]]; }
ap_state() { awsc "$1" efs describe-access-points --access-point-id "$2" --query 'AccessPoints[0].LifeCycleState' --output text; }

for cli in "${CLIS[@]}"; do
  tag=$(cli_tag "$cli")
  echo "  $cli ($tag)"
  # Mount targets live in EC2's default subnets, one per zone.
  read -r -a subnets < <(awsc "$cli" ec2 describe-subnets --filters Name=default-for-az,Values=true \
    --query 'sort_by(Subnets,&AvailabilityZone)[].SubnetId' --output text)
  [ "${#subnets[@]}" = 3 ] || fail "default subnets: got '${subnets[*]}'"

  # A file system: creating, then available; its token names it again.
  read -r fs state < <(awsc "$cli" efs create-file-system --creation-token "e2e-$tag" --performance-mode generalPurpose \
    --tags "Key=Name,Value=shared-$tag" --query '[FileSystemId,LifeCycleState]' --output text)
  [[ $fs == fs-* ]] || fail "create-file-system id: got '$fs'"
  expect_eq "create-file-system state" "$state" creating
  wait_for "$fs to be available" is_state fs_state "$cli" "$fs" available
  if out=$(awsc "$cli" efs create-file-system --creation-token "e2e-$tag" 2>&1); then
    fail "create-file-system with a used creation token succeeded"
  fi
  expect_contains "reused creation token" "$out" FileSystemAlreadyExists
  got=$(awsc "$cli" efs describe-file-systems --creation-token "e2e-$tag" --query 'FileSystems[0].[FileSystemId,Name]' --output text)
  expect_eq "describe-file-systems --creation-token" "$got" "$fs	shared-$tag"
  [ -z "$data" ] || [ -d "$data/$fs" ] || fail "no directory $data/$fs for the file system"

  # A mount target in one zone, with a loopback address; one per zone.
  read -r mt ip < <(awsc "$cli" efs create-mount-target --file-system-id "$fs" --subnet-id "${subnets[0]}" \
    --security-groups sg-0000000000000000a --query '[MountTargetId,IpAddress]' --output text)
  [[ $ip == 127.* ]] || fail "mount target address: got '$ip', want a loopback address"
  wait_for "$mt to be available" is_state mt_state "$cli" "$mt" available
  if out=$(awsc "$cli" efs create-mount-target --file-system-id "$fs" --subnet-id "${subnets[0]}" 2>&1); then
    fail "a second mount target in the zone succeeded"
  fi
  expect_contains "second mount target" "$out" MountTargetConflict
  got=$(awsc "$cli" efs describe-mount-target-security-groups --mount-target-id "$mt" --query 'SecurityGroups[0]' --output text)
  expect_eq "describe-mount-target-security-groups" "$got" sg-0000000000000000a
  if out=$(awsc "$cli" efs delete-file-system --file-system-id "$fs" 2>&1); then
    fail "delete-file-system with a mount target succeeded"
  fi
  expect_contains "delete a file system in use" "$out" FileSystemInUse

  # An access point: its root directory is made with the owner and mode asked.
  ap=$(awsc "$cli" efs create-access-point --file-system-id "$fs" --client-token "ap-$tag" \
    --posix-user Uid=1000,Gid=1000 \
    --root-directory 'Path=/apps/web,CreationInfo={OwnerUid=1000,OwnerGid=1000,Permissions=750}' \
    --query AccessPointId --output text)
  [[ $ap == fsap-* ]] || fail "create-access-point id: got '$ap'"
  wait_for "$ap to be available" is_state ap_state "$cli" "$ap" available
  got=$(awsc "$cli" efs describe-access-points --file-system-id "$fs" --query 'AccessPoints[0].RootDirectory.Path' --output text)
  expect_eq "describe-access-points root" "$got" /apps/web
  if [ -n "$data" ]; then
    expect_eq "access point root directory mode" "$(stat -c %a "$data/$fs/apps/web")" 750
  fi

  # Tags, both ways.
  awsc "$cli" efs tag-resource --resource-id "$fs" --tags Key=team,Value=core >/dev/null
  got=$(awsc "$cli" efs list-tags-for-resource --resource-id "$fs" --query 'sort_by(Tags,&Key)[].Key' --output text)
  expect_eq "list-tags-for-resource" "$got" "Name	team"
  # The legacy describe-tags: the CLIs send its URI's trailing slash
  # (/2015-02-01/tags/fs-.../).
  got=$(awsc "$cli" efs describe-tags --file-system-id "$fs" --query 'sort_by(Tags,&Key)[].Key' --output text)
  expect_eq "describe-tags" "$got" "Name	team"

  # Deleting, in order; the data goes with the file system.
  awsc "$cli" efs delete-access-point --access-point-id "$ap" >/dev/null
  awsc "$cli" efs delete-mount-target --mount-target-id "$mt" >/dev/null
  wait_for "$mt to go" mt_gone "$cli" "$mt"
  awsc "$cli" efs delete-file-system --file-system-id "$fs" >/dev/null
  wait_for "$fs to go" fs_gone "$cli" "$fs"
  [ -z "$data" ] || wait_for "$data/$fs to be removed" test ! -e "$data/$fs"
done
