package efs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"overcast"
	api "overcast/internal/api/efs"
	"overcast/internal/awsproto"
	"overcast/internal/service/servicetest"
)

const (
	testAccount = "111111111111"
	testRegion  = "eu-west-1"
)

// fakeSubnets is EC2 for the tests: a VPC with a subnet per zone, and one
// in another VPC.
type fakeSubnets map[string]Subnet

func (f fakeSubnets) Subnet(ctx context.Context, account, region, subnetID string) (Subnet, error) {
	sn, ok := f[subnetID]
	if !ok {
		return Subnet{}, ErrSubnetNotFound
	}
	return sn, nil
}

var subnets = fakeSubnets{
	"subnet-a": {ID: "subnet-a", VPCID: "vpc-1", AvailabilityZone: "eu-west-1a", CIDR: "127.1.0.0/28"},
	"subnet-b": {ID: "subnet-b", VPCID: "vpc-1", AvailabilityZone: "eu-west-1b", CIDR: "127.1.1.0/24"},
	"subnet-c": {ID: "subnet-c", VPCID: "vpc-1", AvailabilityZone: "eu-west-1a", CIDR: "127.1.2.0/24"},
	"subnet-x": {ID: "subnet-x", VPCID: "vpc-2", AvailabilityZone: "eu-west-1c", CIDR: "127.2.0.0/24"},
}

func newTestService(t *testing.T) (*Service, context.Context) {
	t.Helper()
	env := servicetest.Env(t)
	s := New(env, subnets)
	env.Controllers.Start()
	return s, overcast.WithCaller(context.Background(), overcast.RootCaller(testAccount, testRegion))
}

func codeOf(err error) string {
	var ae awsproto.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// available creates a file system and waits until the controller made it
// available.
func available(t *testing.T, s *Service, ctx context.Context, token string) string {
	t.Helper()
	fs, err := s.CreateFileSystem(ctx, &api.CreateFileSystemRequest{CreationToken: new(token)})
	if err != nil {
		t.Fatal(err)
	}
	waitAvailable(t, s, ctx, *fs.FileSystemId)
	return *fs.FileSystemId
}

func waitAvailable(t *testing.T, s *Service, ctx context.Context, id string) {
	t.Helper()
	waitState(t, "file system "+id, func() (string, error) {
		out, err := s.DescribeFileSystems(ctx, &api.DescribeFileSystemsRequest{FileSystemId: new(id)})
		if err != nil {
			return "", err
		}
		return *out.FileSystems[0].LifeCycleState, nil
	})
}

func waitState(t *testing.T, what string, state func() (string, error)) {
	t.Helper()
	servicetest.WaitFor(t, what+" available", func() bool {
		got, err := state()
		return err == nil && got == stateAvailable
	})
}

func TestMountTargetPerZone(t *testing.T) {
	s, ctx := newTestService(t)
	id := available(t, s, ctx, "zones")
	create := func(subnet, ip string) (*api.MountTargetDescription, error) {
		in := &api.CreateMountTargetRequest{FileSystemId: new(id), SubnetId: new(subnet)}
		if ip != "" {
			in.IpAddress = new(ip)
		}
		return s.CreateMountTarget(ctx, in)
	}
	a, err := create("subnet-a", "")
	if err != nil || *a.IpAddress != "127.1.0.4" || *a.VpcId != "vpc-1" || *a.AvailabilityZoneId != "euw1-az1" {
		t.Fatalf("in subnet-a: got %+v, %v", a, err)
	}
	b, err := create("subnet-b", "127.1.1.9")
	if err != nil || *b.IpAddress != "127.1.1.9" || *b.AvailabilityZoneName != "eu-west-1b" {
		t.Fatalf("in subnet-b: got %+v, %v", b, err)
	}
	for _, tc := range []struct {
		subnet, ip, want string
	}{
		{"subnet-c", "", "MountTargetConflict"}, // eu-west-1a has one
		{"subnet-x", "", "MountTargetConflict"}, // another VPC
		{"subnet-z", "", "SubnetNotFound"},      // EC2 does not know it
		{"subnet-b", "10.0.0.1", "BadRequest"},  // not in the subnet
		{"subnet-b", "127.1.1.9", "MountTargetConflict"},
	} {
		if _, err := create(tc.subnet, tc.ip); codeOf(err) != tc.want {
			t.Errorf("in %s %s: got %v, want %s", tc.subnet, tc.ip, err, tc.want)
		}
	}

	// A One Zone file system has its mount target in its zone only.
	oneZone, err := s.CreateFileSystem(ctx, &api.CreateFileSystemRequest{CreationToken: new("one-zone"), AvailabilityZoneName: new("eu-west-1b")})
	if err != nil {
		t.Fatal(err)
	}
	waitAvailable(t, s, ctx, *oneZone.FileSystemId)
	_, err = s.CreateMountTarget(ctx, &api.CreateMountTargetRequest{FileSystemId: oneZone.FileSystemId, SubnetId: new("subnet-a")})
	if codeOf(err) != "AvailabilityZonesMismatch" {
		t.Errorf("a One Zone file system's mount target in another zone: got %v, want AvailabilityZonesMismatch", err)
	}

	// A /28 has 16 addresses: 4 reserved at the start, the broadcast at
	// the end, and the mount target of another file system takes one more.
	other := available(t, s, ctx, "other")
	for i := range 10 {
		fsID := available(t, s, ctx, "fill-"+string(rune('a'+i)))
		if _, err := s.CreateMountTarget(ctx, &api.CreateMountTargetRequest{FileSystemId: new(fsID), SubnetId: new("subnet-a")}); err != nil {
			t.Fatalf("mount target %d in subnet-a: %v", i, err)
		}
	}
	_, err = s.CreateMountTarget(ctx, &api.CreateMountTargetRequest{FileSystemId: new(other), SubnetId: new("subnet-a")})
	if codeOf(err) != "NoFreeAddressesInSubnet" {
		t.Errorf("a full subnet: got %v, want NoFreeAddressesInSubnet", err)
	}
}

func TestMountSource(t *testing.T) {
	s, ctx := newTestService(t)
	id := available(t, s, ctx, "mounts")
	fsDir := s.fileSystemDir(overcast.ScopeOf(ctx), id)
	mkAccessPoint := func(token, path string, creation *api.CreationInfo) string {
		ap, err := s.CreateAccessPoint(ctx, &api.CreateAccessPointRequest{ClientToken: new(token), FileSystemId: new(id),
			RootDirectory: &api.RootDirectory{Path: new(path), CreationInfo: creation}})
		if err != nil {
			t.Fatalf("CreateAccessPoint %s: %v", path, err)
		}
		waitState(t, "access point", func() (string, error) {
			out, err := s.DescribeAccessPoints(ctx, &api.DescribeAccessPointsRequest{AccessPointId: ap.AccessPointId})
			if err != nil {
				return "", err
			}
			return *out.AccessPoints[0].LifeCycleState, nil
		})
		return *ap.AccessPointId
	}
	web := mkAccessPoint("web", "/srv/web", &api.CreationInfo{OwnerUid: new(int64(0)), OwnerGid: new(int64(0)), Permissions: new("0755")})
	missing := mkAccessPoint("missing", "/nowhere", nil)
	if err := os.MkdirAll(filepath.Join(fsDir, "shared", "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(fsDir, "escape")); err != nil {
		t.Fatal(err)
	}
	escaping := mkAccessPoint("escaping", "/escape", nil)
	otherFS := available(t, s, ctx, "other")
	otherAP, err := s.CreateAccessPoint(ctx, &api.CreateAccessPointRequest{ClientToken: new("other"), FileSystemId: new(otherFS)})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name         string
		fs, ap, root string
		want         string // relative to the file system's directory; "" when it must fail
	}{
		{name: "the whole file system", fs: id, want: "."},
		{name: "the whole file system, /", fs: id, root: "/", want: "."},
		{name: "a directory", fs: id, root: "/shared/logs", want: "shared/logs"},
		{name: "a directory without a leading /", fs: id, root: "shared", want: "shared"},
		{name: "an access point's root", fs: id, ap: web, want: "srv/web"},
		{name: "an access point with /", fs: id, ap: web, root: "/", want: "srv/web"},
		{name: "an access point and another root", fs: id, ap: web, root: "/shared"},
		{name: "an access point whose root does not exist", fs: id, ap: missing},
		{name: "an access point of another file system", fs: id, ap: *otherAP.AccessPointId},
		{name: "a directory that does not exist", fs: id, root: "/none"},
		{name: "..", fs: id, root: "/.."},
		{name: "../ inside", fs: id, root: "/shared/../../" + id},
		{name: "../ without a leading /", fs: id, root: "../../"},
		{name: "a symbolic link out", fs: id, root: "/escape"},
		{name: "an access point through a symbolic link out", fs: id, ap: escaping},
		{name: "no such file system", fs: "fs-00000000000000000"},
		{name: "no such access point", fs: id, ap: "fsap-00000000000000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.MountSource(context.Background(), testAccount, testRegion, tc.fs, tc.ap, tc.root)
			if tc.want == "" {
				if err == nil || !errors.Is(err, ErrNotMountable) {
					t.Errorf("got %q, %v; want an ErrNotMountable error", got, err)
				}
				return
			}
			want, _ := filepath.EvalSymlinks(filepath.Join(fsDir, tc.want))
			if err != nil || got != want {
				t.Errorf("got %q, %v; want %q", got, err, want)
			}
		})
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("something was created outside the file system: %v", entries)
	}

	// Another account does not see the file system.
	if _, err := s.MountSource(context.Background(), "222222222222", testRegion, id, "", ""); !errors.Is(err, ErrNotMountable) {
		t.Errorf("another account's mount: got %v, want ErrNotMountable", err)
	}
	// A file system being deleted is not mounted any more.
	if err := s.DeleteFileSystem(ctx, &api.DeleteFileSystemRequest{FileSystemId: new(otherFS)}); err != nil {
		t.Fatal(err)
	}
	servicetest.WaitFor(t, "the deleted file system to be unmountable", func() bool {
		_, err := s.MountSource(context.Background(), testAccount, testRegion, otherFS, "", "")
		return err != nil && strings.Contains(err.Error(), "does not exist")
	})
}

func TestCleanRootPath(t *testing.T) {
	for path, ok := range map[string]bool{"/": true, "": true, "/a/b": true, "/a/b/": true, "a": false, "/a/../b": false,
		"/./a": false, "//a": false, "/..": false} {
		if _, got := cleanRootPath(path); got != ok {
			t.Errorf("cleanRootPath(%q): got %v, want %v", path, got, ok)
		}
	}
}

// TestLifecycleResumes stops overcast while a file system is creating and
// another deleting: the next start finishes both, from the store alone.
func TestLifecycleResumes(t *testing.T) {
	dir := t.TempDir()
	env := servicetest.Env(t, servicetest.InDir(dir))
	s := New(env, subnets)
	env.Controllers.Start()
	ctx := overcast.WithCaller(context.Background(), overcast.RootCaller(testAccount, testRegion))
	deleted := available(t, s, ctx, "deleted")
	env.Controllers.Stop()

	created, err := s.CreateFileSystem(ctx, &api.CreateFileSystemRequest{CreationToken: new("created")})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFileSystem(ctx, &api.DeleteFileSystemRequest{FileSystemId: new(deleted)}); err != nil {
		t.Fatal(err)
	}
	deletedDir := s.fileSystemDir(overcast.ScopeOf(ctx), deleted)
	if err := env.Close(); err != nil {
		t.Fatal(err)
	}

	env = servicetest.Env(t, servicetest.InDir(dir))
	s = New(env, subnets)
	env.Controllers.Start()
	waitAvailable(t, s, ctx, *created.FileSystemId)
	servicetest.WaitFor(t, "the file system deleted before the restart to go", func() bool {
		_, err := os.Stat(deletedDir)
		_, derr := s.DescribeFileSystems(ctx, &api.DescribeFileSystemsRequest{FileSystemId: new(deleted)})
		return errors.Is(err, os.ErrNotExist) && codeOf(derr) == "FileSystemNotFound"
	})
}
