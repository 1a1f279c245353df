package efs_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/efs/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"overcast/internal/awstest"
)

const account = "000000000000"

// defaultSubnets are two of EC2's default subnets, in different zones:
// mount targets live in EC2's subnets.
func defaultSubnets(t *testing.T, srv *awstest.Server) (a, b ec2types.Subnet) {
	t.Helper()
	ec2c := ec2.NewFromConfig(awstest.KeepRequestBodies(srv.Config()))
	out := awstest.Call(t, ec2c.DescribeSubnets, &ec2.DescribeSubnetsInput{})
	if len(out.Subnets) < 2 {
		t.Fatalf("default subnets: got %d, want 3", len(out.Subnets))
	}
	slices.SortFunc(out.Subnets, func(x, y ec2types.Subnet) int {
		return strings.Compare(aws.ToString(x.AvailabilityZone), aws.ToString(y.AvailabilityZone))
	})
	return out.Subnets[0], out.Subnets[1]
}

// nthAddress is the address n after the first of a subnet's CIDR block.
func nthAddress(t *testing.T, sn ec2types.Subnet, n int) string {
	t.Helper()
	ip := netip.MustParsePrefix(aws.ToString(sn.CidrBlock)).Addr()
	for range n {
		ip = ip.Next()
	}
	return ip.String()
}

func start(t *testing.T) (*awstest.Server, *efs.Client) {
	t.Helper()
	srv, c, _ := awstest.StartClient(t, time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC), efs.NewFromConfig)
	return srv, c
}

// waitFileSystem waits until the file system is in state, or is gone when
// state is "".
func waitFileSystem(t *testing.T, c *efs.Client, id string, state types.LifeCycleState) {
	t.Helper()
	awstest.WaitFor(t, "file system "+id+" "+string(state), func() bool {
		out, err := c.DescribeFileSystems(context.Background(), &efs.DescribeFileSystemsInput{FileSystemId: aws.String(id)})
		if state == "" {
			var nf *types.FileSystemNotFound
			return errors.As(err, &nf)
		}
		return err == nil && out.FileSystems[0].LifeCycleState == state
	})
}

func createAvailable(t *testing.T, c *efs.Client, token string) string {
	t.Helper()
	out := awstest.Call(t, c.CreateFileSystem, &efs.CreateFileSystemInput{CreationToken: aws.String(token)})
	id := aws.ToString(out.FileSystemId)
	waitFileSystem(t, c, id, types.LifeCycleStateAvailable)
	return id
}

func TestFileSystemLifecycle(t *testing.T) {
	ctx := context.Background()
	srv, c := start(t)
	out := awstest.Call(t, c.CreateFileSystem, &efs.CreateFileSystemInput{CreationToken: aws.String("app-data"),
		PerformanceMode: types.PerformanceModeMaxIo, ThroughputMode: types.ThroughputModeElastic, Encrypted: aws.Bool(true),
		Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("shared")}}})
	id := aws.ToString(out.FileSystemId)
	if !regexp.MustCompile(`^fs-[0-9a-f]{17}$`).MatchString(id) {
		t.Errorf("FileSystemId: got %q, want fs- and 17 hex digits", id)
	}
	got := []string{string(out.LifeCycleState), aws.ToString(out.Name), string(out.PerformanceMode), string(out.ThroughputMode),
		aws.ToString(out.KmsKeyId), aws.ToString(out.FileSystemArn), aws.ToString(out.OwnerId)}
	want := []string{"creating", "shared", "maxIO", "elastic", "arn:aws:kms:us-east-1:" + account + ":alias/aws/elasticfilesystem",
		"arn:aws:elasticfilesystem:us-east-1:" + account + ":file-system/" + id, account}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CreateFileSystem (-want +got):\n%s", diff)
	}
	waitFileSystem(t, c, id, types.LifeCycleStateAvailable)
	dir := filepath.Join(srv.DataDir, "efs", account, id)
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		t.Fatalf("the file system's directory %s: %v", dir, err)
	}

	// The same creation token names the same file system.
	_, err := c.CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String("app-data")})
	var exists *types.FileSystemAlreadyExists
	if !errors.As(err, &exists) || aws.ToString(exists.FileSystemId) != id || aws.ToString(exists.ErrorCode_) != "FileSystemAlreadyExists" {
		t.Errorf("CreateFileSystem with a used token: got %v, want FileSystemAlreadyExists with %s", err, id)
	}
	byToken := awstest.Call(t, c.DescribeFileSystems, &efs.DescribeFileSystemsInput{CreationToken: aws.String("app-data")})
	if len(byToken.FileSystems) != 1 || aws.ToString(byToken.FileSystems[0].FileSystemId) != id {
		t.Errorf("DescribeFileSystems by token: got %+v, want %s", byToken.FileSystems, id)
	}

	// Pages of one.
	second := createAvailable(t, c, "second")
	third := createAvailable(t, c, "third")
	var ids []string
	p := efs.NewDescribeFileSystemsPaginator(c, &efs.DescribeFileSystemsInput{MaxItems: aws.Int32(1)})
	for pages := 0; p.HasMorePages(); pages++ {
		page := awstest.NextPage(t, p)
		if len(page.FileSystems) > 1 || pages > 3 {
			t.Fatalf("page %d: got %d file systems, want at most 1", pages, len(page.FileSystems))
		}
		for _, fs := range page.FileSystems {
			ids = append(ids, aws.ToString(fs.FileSystemId))
		}
	}
	if diff := cmp.Diff([]string{id, second, third}, ids, sortStrings); diff != "" {
		t.Errorf("paginated DescribeFileSystems (-want +got):\n%s", diff)
	}

	upd := awstest.Call(t, c.UpdateFileSystem, &efs.UpdateFileSystemInput{FileSystemId: aws.String(id),
		ThroughputMode: types.ThroughputModeProvisioned, ProvisionedThroughputInMibps: aws.Float64(128)})
	if upd.ThroughputMode != types.ThroughputModeProvisioned || aws.ToFloat64(upd.ProvisionedThroughputInMibps) != 128 {
		t.Errorf("UpdateFileSystem: got %s %v", upd.ThroughputMode, upd.ProvisionedThroughputInMibps)
	}

	backup := awstest.Call(t, c.DescribeBackupPolicy, &efs.DescribeBackupPolicyInput{FileSystemId: aws.String(id)})
	if backup.BackupPolicy.Status != types.StatusDisabled {
		t.Errorf("backup policy: got %s, want DISABLED for a Regional file system created without Backup", backup.BackupPolicy.Status)
	}
	awstest.Call(t, c.PutBackupPolicy, &efs.PutBackupPolicyInput{FileSystemId: aws.String(id), BackupPolicy: &types.BackupPolicy{Status: types.StatusEnabled}})
	backup = awstest.Call(t, c.DescribeBackupPolicy, &efs.DescribeBackupPolicyInput{FileSystemId: aws.String(id)})
	if backup.BackupPolicy.Status != types.StatusEnabled {
		t.Errorf("backup policy after PutBackupPolicy: got %s, want ENABLED", backup.BackupPolicy.Status)
	}

	if err := os.WriteFile(filepath.Join(dir, "data.txt"), []byte("shared"), 0o644); err != nil {
		t.Fatal(err)
	}
	awstest.Call(t, c.DeleteFileSystem, &efs.DeleteFileSystemInput{FileSystemId: aws.String(id)})
	waitFileSystem(t, c, id, "")
	awstest.WaitFor(t, "the deleted file system's directory to go", func() bool {
		_, err := os.Stat(dir)
		return errors.Is(err, os.ErrNotExist)
	})
	// Its creation token is free again.
	again := createAvailable(t, c, "app-data")
	if again == id {
		t.Errorf("a new file system with a freed token: got the deleted ID %s", id)
	}
}

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })

func TestTags(t *testing.T) {
	_, c := start(t)
	id := createAvailable(t, c, "tagged")
	awstest.Call(t, c.TagResource, &efs.TagResourceInput{ResourceId: aws.String(id),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}, {Key: aws.String("Name"), Value: aws.String("data")}}})
	awstest.Call(t, c.CreateTags, &efs.CreateTagsInput{FileSystemId: aws.String(id),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}})
	awstest.Call(t, c.UntagResource, &efs.UntagResourceInput{ResourceId: aws.String(id), TagKeys: []string{"team"}})
	list := awstest.Call(t, c.ListTagsForResource, &efs.ListTagsForResourceInput{ResourceId: aws.String(id)})
	legacy := awstest.Call(t, c.DescribeTags, &efs.DescribeTagsInput{FileSystemId: aws.String(id)})
	want := map[string]string{"Name": "data", "env": "dev"}
	for name, tags := range map[string][]types.Tag{"ListTagsForResource": list.Tags, "DescribeTags": legacy.Tags} {
		got := map[string]string{}
		for _, tg := range tags {
			got[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	fs := awstest.Call(t, c.DescribeFileSystems, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(id)})
	if aws.ToString(fs.FileSystems[0].Name) != "data" {
		t.Errorf("Name: got %q, want the Name tag's value", aws.ToString(fs.FileSystems[0].Name))
	}
}

func TestMountTargets(t *testing.T) {
	ctx := context.Background()
	srv, c := start(t)
	subnetA, subnetB := defaultSubnets(t, srv)
	id := createAvailable(t, c, "mounted")
	mt := awstest.Call(t, c.CreateMountTarget, &efs.CreateMountTargetInput{FileSystemId: aws.String(id),
		SubnetId: subnetA.SubnetId, SecurityGroups: []string{"sg-0000000000000000a"}})
	if mt.LifeCycleState != types.LifeCycleStateCreating || aws.ToString(mt.IpAddress) != nthAddress(t, subnetA, 4) ||
		aws.ToString(mt.AvailabilityZoneName) != "us-east-1a" || aws.ToString(mt.AvailabilityZoneId) != "use1-az1" {
		t.Errorf("CreateMountTarget: got %s %s %s %s, want creating, the subnet's first free loopback address, its zone",
			mt.LifeCycleState, aws.ToString(mt.IpAddress), aws.ToString(mt.AvailabilityZoneName), aws.ToString(mt.AvailabilityZoneId))
	}
	mtID := aws.ToString(mt.MountTargetId)
	awstest.WaitFor(t, "the mount target to be available", func() bool {
		out, err := c.DescribeMountTargets(ctx, &efs.DescribeMountTargetsInput{MountTargetId: aws.String(mtID)})
		return err == nil && out.MountTargets[0].LifeCycleState == types.LifeCycleStateAvailable
	})

	// One mount target per Availability Zone: a second one in the zone
	// (EC2's default VPC has one subnet a zone) is refused.
	_, err := c.CreateMountTarget(ctx, &efs.CreateMountTargetInput{FileSystemId: aws.String(id), SubnetId: subnetA.SubnetId})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "MountTargetConflict", Status: 409, Message: "mount target already exists in this AZ"})

	fs := awstest.Call(t, c.DescribeFileSystems, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(id)})
	if fs.FileSystems[0].NumberOfMountTargets != 1 {
		t.Errorf("NumberOfMountTargets: got %d, want 1", fs.FileSystems[0].NumberOfMountTargets)
	}
	_, err = c.DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: aws.String(id)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "FileSystemInUse", Status: 409})

	awstest.Call(t, c.ModifyMountTargetSecurityGroups, &efs.ModifyMountTargetSecurityGroupsInput{MountTargetId: aws.String(mtID),
		SecurityGroups: []string{"sg-0000000000000000b", "sg-0000000000000000c"}})
	sgs := awstest.Call(t, c.DescribeMountTargetSecurityGroups, &efs.DescribeMountTargetSecurityGroupsInput{MountTargetId: aws.String(mtID)})
	if diff := cmp.Diff([]string{"sg-0000000000000000b", "sg-0000000000000000c"}, sgs.SecurityGroups); diff != "" {
		t.Errorf("security groups (-want +got):\n%s", diff)
	}
	byFS := awstest.Call(t, c.DescribeMountTargets, &efs.DescribeMountTargetsInput{FileSystemId: aws.String(id)})
	if len(byFS.MountTargets) != 1 || aws.ToString(byFS.MountTargets[0].MountTargetId) != mtID {
		t.Errorf("DescribeMountTargets by file system: got %+v, want %s", byFS.MountTargets, mtID)
	}

	awstest.Call(t, c.DeleteMountTarget, &efs.DeleteMountTargetInput{MountTargetId: aws.String(mtID)})
	awstest.WaitFor(t, "the mount target to go", func() bool {
		_, err := c.DescribeMountTargets(ctx, &efs.DescribeMountTargetsInput{MountTargetId: aws.String(mtID)})
		var nf *types.MountTargetNotFound
		return errors.As(err, &nf)
	})
	// A caller's address is kept.
	want := nthAddress(t, subnetB, 7)
	mt2 := awstest.Call(t, c.CreateMountTarget, &efs.CreateMountTargetInput{FileSystemId: aws.String(id),
		SubnetId: subnetB.SubnetId, IpAddress: aws.String(want)})
	if aws.ToString(mt2.IpAddress) != want {
		t.Errorf("IpAddress: got %s, want the caller's %s", aws.ToString(mt2.IpAddress), want)
	}
}

func TestAccessPointsCreateTheirRootDirectory(t *testing.T) {
	ctx := context.Background()
	srv, c := start(t)
	id := createAvailable(t, c, "with-access-points")
	ap := awstest.Call(t, c.CreateAccessPoint, &efs.CreateAccessPointInput{ClientToken: aws.String("ap-1"),
		FileSystemId: aws.String(id), PosixUser: &types.PosixUser{Uid: aws.Int64(1001), Gid: aws.Int64(1002)},
		RootDirectory: &types.RootDirectory{Path: aws.String("/apps/web"),
			CreationInfo: &types.CreationInfo{OwnerUid: aws.Int64(1001), OwnerGid: aws.Int64(1002), Permissions: aws.String("750")}},
		Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}})
	apID := aws.ToString(ap.AccessPointId)
	if !regexp.MustCompile(`^fsap-[0-9a-f]{17}$`).MatchString(apID) || aws.ToString(ap.Name) != "web" ||
		aws.ToString(ap.AccessPointArn) != "arn:aws:elasticfilesystem:us-east-1:"+account+":access-point/"+apID {
		t.Errorf("CreateAccessPoint: got %s %s %s", apID, aws.ToString(ap.Name), aws.ToString(ap.AccessPointArn))
	}
	awstest.WaitFor(t, "the access point to be available", func() bool {
		out, err := c.DescribeAccessPoints(ctx, &efs.DescribeAccessPointsInput{AccessPointId: aws.String(apID)})
		return err == nil && out.AccessPoints[0].LifeCycleState == types.LifeCycleStateAvailable
	})
	root := filepath.Join(srv.DataDir, "efs", account, id, "apps", "web")
	info, err := os.Stat(root)
	if err != nil {
		t.Fatalf("the access point's root directory: %v", err)
	}
	if info.Mode().Perm() != 0o750 {
		t.Errorf("root directory permissions: got %o, want 750", info.Mode().Perm())
	}
	if st := info.Sys().(*syscall.Stat_t); os.Geteuid() == 0 && (st.Uid != 1001 || st.Gid != 1002) {
		t.Errorf("root directory owner: got %d:%d, want 1001:1002", st.Uid, st.Gid)
	}

	_, err = c.CreateAccessPoint(ctx, &efs.CreateAccessPointInput{ClientToken: aws.String("ap-1"), FileSystemId: aws.String(id)})
	var exists *types.AccessPointAlreadyExists
	if !errors.As(err, &exists) || aws.ToString(exists.AccessPointId) != apID {
		t.Errorf("CreateAccessPoint with a used token: got %v, want AccessPointAlreadyExists with %s", err, apID)
	}
	awstest.Call(t, c.CreateAccessPoint, &efs.CreateAccessPointInput{ClientToken: aws.String("ap-2"), FileSystemId: aws.String(id)})
	list := awstest.Call(t, c.DescribeAccessPoints, &efs.DescribeAccessPointsInput{FileSystemId: aws.String(id)})
	if len(list.AccessPoints) != 2 {
		t.Errorf("DescribeAccessPoints by file system: got %d, want 2", len(list.AccessPoints))
	}
	awstest.Call(t, c.DeleteAccessPoint, &efs.DeleteAccessPointInput{AccessPointId: aws.String(apID)})
	awstest.WaitFor(t, "the access point to go", func() bool {
		_, err := c.DescribeAccessPoints(ctx, &efs.DescribeAccessPointsInput{AccessPointId: aws.String(apID)})
		var nf *types.AccessPointNotFound
		return errors.As(err, &nf)
	})
	// The data stays: an access point is only a view of the file system.
	if _, err := os.Stat(root); err != nil {
		t.Errorf("the root directory after DeleteAccessPoint: %v", err)
	}
}

func TestRestartKeepsState(t *testing.T) {
	srv, c := start(t)
	subnetA, _ := defaultSubnets(t, srv)
	id := createAvailable(t, c, "durable")
	mt := awstest.Call(t, c.CreateMountTarget, &efs.CreateMountTargetInput{FileSystemId: aws.String(id), SubnetId: subnetA.SubnetId})
	ap := awstest.Call(t, c.CreateAccessPoint, &efs.CreateAccessPointInput{ClientToken: aws.String("t"), FileSystemId: aws.String(id)})
	srv.Restart(t)
	c = efs.NewFromConfig(srv.Config())
	waitFileSystem(t, c, id, types.LifeCycleStateAvailable)
	awstest.WaitFor(t, "the mount target and access point to be available after the restart", func() bool {
		mts, err1 := c.DescribeMountTargets(context.Background(), &efs.DescribeMountTargetsInput{MountTargetId: mt.MountTargetId})
		aps, err2 := c.DescribeAccessPoints(context.Background(), &efs.DescribeAccessPointsInput{AccessPointId: ap.AccessPointId})
		return err1 == nil && err2 == nil && mts.MountTargets[0].LifeCycleState == types.LifeCycleStateAvailable &&
			aps.AccessPoints[0].LifeCycleState == types.LifeCycleStateAvailable
	})
	_, err := c.CreateFileSystem(context.Background(), &efs.CreateFileSystemInput{CreationToken: aws.String("durable")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "FileSystemAlreadyExists", Status: 409})
}

func TestLifecycleAndFileSystemPolicies(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	id := createAvailable(t, c, "policies")
	awstest.Call(t, c.PutLifecycleConfiguration, &efs.PutLifecycleConfigurationInput{FileSystemId: aws.String(id),
		LifecyclePolicies: []types.LifecyclePolicy{{TransitionToIA: types.TransitionToIARulesAfter30Days},
			{TransitionToPrimaryStorageClass: types.TransitionToPrimaryStorageClassRulesAfter1Access}}})
	lc := awstest.Call(t, c.DescribeLifecycleConfiguration, &efs.DescribeLifecycleConfigurationInput{FileSystemId: aws.String(id)})
	if len(lc.LifecyclePolicies) != 2 || lc.LifecyclePolicies[0].TransitionToIA != types.TransitionToIARulesAfter30Days ||
		lc.LifecyclePolicies[1].TransitionToPrimaryStorageClass != types.TransitionToPrimaryStorageClassRulesAfter1Access {
		t.Errorf("DescribeLifecycleConfiguration: got %+v", lc.LifecyclePolicies)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"elasticfilesystem:ClientMount","Resource":"*"}]}`
	awstest.Call(t, c.PutFileSystemPolicy, &efs.PutFileSystemPolicyInput{FileSystemId: aws.String(id), Policy: aws.String(policy)})
	got := awstest.Call(t, c.DescribeFileSystemPolicy, &efs.DescribeFileSystemPolicyInput{FileSystemId: aws.String(id)})
	if aws.ToString(got.Policy) != policy {
		t.Errorf("DescribeFileSystemPolicy: got %s, want %s", aws.ToString(got.Policy), policy)
	}
	awstest.Call(t, c.DeleteFileSystemPolicy, &efs.DeleteFileSystemPolicyInput{FileSystemId: aws.String(id)})
	_, err := c.DescribeFileSystemPolicy(ctx, &efs.DescribeFileSystemPolicyInput{FileSystemId: aws.String(id)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "PolicyNotFound", Status: 404})
}
