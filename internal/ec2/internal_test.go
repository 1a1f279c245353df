package ec2

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/ec2"
	"overcast/internal/service/servicetest"
)

const (
	testAccount = "000000000000"
	testRegion  = "eu-west-1"
)

func callerCtx() context.Context {
	return overcast.WithCaller(context.Background(), overcast.RootCaller(testAccount, testRegion))
}

// profiles is IAM's instance profiles as RunInstances sees them.
type profiles map[string]string

func (p profiles) InstanceProfileARN(_ context.Context, account, nameOrARN string) (string, bool, error) {
	for name, arn := range p {
		if nameOrARN == name || nameOrARN == arn {
			return arn, true, nil
		}
	}
	return "", false, nil
}

func newService(t *testing.T) *Service {
	t.Helper()
	env := servicetest.Env(t)
	s := New(env, Options{Profiles: profiles{"ecsInstanceRole": "arn:aws:iam::000000000000:instance-profile/ecsInstanceRole"}})
	env.Controllers.Start()
	return s
}

func TestInstanceForOtherServices(t *testing.T) {
	s := newService(t)
	ctx := callerCtx()
	res, err := s.RunInstances(ctx, &api.RunInstancesRequest{ImageId: new(Images[1].ID), InstanceType: new("m7g.xlarge"),
		MinCount: new(int32(1)), MaxCount: new(int32(1)), UserData: new(base64.StdEncoding.EncodeToString([]byte("ECS_CLUSTER=prod"))),
		IamInstanceProfile: &api.IamInstanceProfileSpecification{Name: new("ecsInstanceRole")},
		TagSpecifications:  api.TagSpecificationList{{ResourceType: new("instance"), Tags: api.TagList{{Key: new("Name"), Value: new("ecs")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := *res.Instances[0].InstanceId
	var got InstanceInfo
	servicetest.WaitFor(t, "the instance running", func() bool {
		got, err = s.Instance(context.Background(), testAccount, testRegion, id)
		return err == nil && got.State == "running"
	})
	ip := *res.Instances[0].PrivateIpAddress
	want := InstanceInfo{ID: id, Type: "m7g.xlarge", ImageID: Images[1].ID, State: "running", AvailabilityZone: "eu-west-1a",
		SubnetID: *res.Instances[0].SubnetId, VPCID: *res.Instances[0].VpcId, PrivateIP: ip,
		PrivateDNSName: privateDNSName(testRegion, ip), Architecture: "arm64", VCPUs: 4, MemoryMiB: 16384,
		UserData: []byte("ECS_CLUSTER=prod"), IamInstanceProfileArn: "arn:aws:iam::000000000000:instance-profile/ecsInstanceRole",
		LaunchTime: servicetest.Epoch.UTC(), Tags: map[string]string{"Name": "ecs"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Instance (-want +got):\n%s", diff)
	}
	if _, err := s.Instance(context.Background(), testAccount, "us-east-1", id); !errors.Is(err, ErrInstanceNotFound) {
		t.Errorf("Instance in another region: got %v, want ErrInstanceNotFound", err)
	}

	_, err = s.RunInstances(ctx, &api.RunInstancesRequest{ImageId: new(Images[0].ID), MinCount: new(int32(1)), MaxCount: new(int32(1)),
		IamInstanceProfile: &api.IamInstanceProfileSpecification{Name: new("nobody")}})
	if code := awsCode(err); code != "InvalidParameterValue" {
		t.Errorf("an unknown instance profile: got %v, want InvalidParameterValue", err)
	}
}

func TestTaskInterfaces(t *testing.T) {
	s := newService(t)
	ctx := callerCtx()
	subnets, err := s.DescribeSubnets(ctx, &api.DescribeSubnetsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	sn := subnets.Subnets[1]
	free := *sn.AvailableIpAddressCount
	seen := map[string]bool{}
	var enis []NetworkInterfaceInfo
	for i := range 5 {
		eni, err := s.AttachTaskInterface(context.Background(), testAccount, testRegion, *sn.SubnetId, nil, fmt.Sprintf("arn:aws:ecs:eu-west-1:000000000000:attachment/a%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if seen[eni.PrivateIP] || eni.SubnetID != *sn.SubnetId || eni.AvailabilityZone != *sn.AvailabilityZone ||
			eni.PrivateDNSName != privateDNSName(testRegion, eni.PrivateIP) || len(eni.MAC) != 17 {
			t.Errorf("AttachTaskInterface: got %+v", eni)
		}
		seen[eni.PrivateIP] = true
		enis = append(enis, eni)
	}
	// Asking again for the same attachment (a caller that crashed before
	// recording what it got) returns the same interface.
	again, err := s.AttachTaskInterface(context.Background(), testAccount, testRegion, *sn.SubnetId, nil, "arn:aws:ecs:eu-west-1:000000000000:attachment/a3")
	if err != nil || again != enis[3] {
		t.Errorf("attaching attachment/a3 again: got %+v (%v), want %+v", again, err, enis[3])
	}
	if err := s.DeleteNetworkInterface(ctx, &api.DeleteNetworkInterfaceRequest{NetworkInterfaceId: new(enis[0].ID)}); awsCode(err) != "InvalidNetworkInterface.InUse" {
		t.Errorf("deleting a task's interface: got %v, want InvalidNetworkInterface.InUse", err)
	}
	listed, err := s.DescribeNetworkInterfaces(ctx, &api.DescribeNetworkInterfacesRequest{Filters: api.FilterList{
		{Name: new("requester-managed"), Values: api.ValueStringList{"true"}}}})
	if err != nil || len(listed.NetworkInterfaces) != 5 {
		t.Fatalf("requester-managed interfaces: got %v (%v), want 5", listed, err)
	}
	for _, eni := range enis {
		for range 2 { // releasing is idempotent
			if err := s.ReleaseInterface(context.Background(), testAccount, testRegion, eni.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	after, err := s.DescribeSubnets(ctx, &api.DescribeSubnetsRequest{SubnetIds: api.SubnetIdStringList{*sn.SubnetId}})
	if err != nil || *after.Subnets[0].AvailableIpAddressCount != free {
		t.Errorf("free addresses after release: got %v (%v), want %d", *after.Subnets[0].AvailableIpAddressCount, err, free)
	}
	if _, err := s.AttachTaskInterface(context.Background(), testAccount, testRegion, "subnet-0123456789abcdef0", nil, ""); awsCode(err) != "InvalidSubnetID.NotFound" {
		t.Errorf("a missing subnet: got %v", err)
	}
}

func TestZoneIDs(t *testing.T) {
	for zone, want := range map[string]string{"us-east-1a": "use1-az1", "us-west-2c": "usw2-az3", "eu-central-1b": "euc1-az2",
		"ap-southeast-2a": "apse2-az1", "ap-northeast-1c": "apne1-az3", "sa-east-1a": "sae1-az1"} {
		if got := zoneID(zone); got != want {
			t.Errorf("zoneID(%s): got %s, want %s", zone, got, want)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"web", "web", true}, {"web", "webs", false}, {"w*", "web", true}, {"*b", "web", true}, {"w?b", "web", true},
		{"w?b", "wb", false}, {`a\*`, "a*", true}, {`a\*`, "ab", false}, {"*", "", true}, {"", "", true},
	} {
		if got := globMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q): got %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestStopBeforeRunning(t *testing.T) {
	s := New(servicetest.Env(t), Options{}) // no controllers: the instance stays pending
	ctx := callerCtx()
	res, err := s.RunInstances(ctx, &api.RunInstancesRequest{ImageId: new(Images[0].ID), MinCount: new(int32(1)), MaxCount: new(int32(1))})
	if err != nil {
		t.Fatal(err)
	}
	id := *res.Instances[0].InstanceId
	if *res.Instances[0].InstanceType != "m1.small" {
		t.Errorf("default instance type: got %s, want m1.small", *res.Instances[0].InstanceType)
	}
	_, err = s.StopInstances(ctx, &api.StopInstancesRequest{InstanceIds: api.InstanceIdStringList{id}})
	want := "Instance '" + id + "' cannot be stopped as it has never reached the 'running' state."
	if awsCode(err) != "IncorrectInstanceState" || err.(interface{ ErrorMessage() string }).ErrorMessage() != want {
		t.Errorf("stopping a pending instance: got %v, want IncorrectInstanceState %q", err, want)
	}
}

// TestFilterAliases holds each filter name AWS takes besides the usual
// one to the values the usual one gives.
func TestFilterAliases(t *testing.T) {
	sc := scope{Account: "000000000000", Region: "us-east-1"}
	sn := subnet{ID: "subnet-1", Zone: "us-east-1a", CIDR: "127.1.0.0/20", Default: true}
	inst := instance{ID: "i-1", PrivateIP: "127.1.0.9", Groups: []groupRef{{ID: "sg-1", Name: "web"}}}
	tests := []struct {
		alias  string
		lookup func(name string) ([]string, bool)
		want   []string
	}{
		{"cidrBlock", func(n string) ([]string, bool) { return vpcFilter(sc, defaults{}).lookup(vpc{CIDR: "127.1.0.0/16"}, n) }, []string{"127.1.0.0/16"}},
		{"isDefault", func(n string) ([]string, bool) { return vpcFilter(sc, defaults{}).lookup(vpc{Default: true}, n) }, []string{"true"}},
		{"availabilityZone", func(n string) ([]string, bool) { return subnetFilter(sc).lookup(sn, n) }, []string{"us-east-1a"}},
		{"cidr", func(n string) ([]string, bool) { return subnetFilter(sc).lookup(sn, n) }, []string{"127.1.0.0/20"}},
		{"defaultForAz", func(n string) ([]string, bool) { return subnetFilter(sc).lookup(sn, n) }, []string{"true"}},
		{"instance.group-name", func(n string) ([]string, bool) { return instanceFilter(sc).lookup(inst, n) }, []string{"web"}},
		{"network-interface.addresses.private-ip-address", func(n string) ([]string, bool) { return instanceFilter(sc).lookup(inst, n) }, []string{"127.1.0.9"}},
		{"network-border-group", func(n string) ([]string, bool) {
			return zoneFilters.lookup(zone{Name: "us-east-1a", Region: "us-east-1"}, n)
		}, []string{"us-east-1"}},
	}
	for _, tt := range tests {
		got, ok := tt.lookup(tt.alias)
		if !ok || !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %q (known %v), want %q", tt.alias, got, ok, tt.want)
		}
	}
	if !statusFilters.has("system-status.status") {
		t.Errorf("system-status.status: got unknown, want a filter of DescribeInstanceStatus")
	}
}
