package ec2_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/bus"
	"overcast/internal/clock"
)

const (
	ecsImageX86 = "ami-0a7e5c31a0d1e5f01"
	ecsImageArm = "ami-0a7e5c31a0d1e5f02"
)

func start(t *testing.T) (*awstest.Server, *ec2.Client, *clock.Fake) {
	t.Helper()
	srv, clk := awstest.StartAt(t, time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC))
	return srv, client(srv.Config()), clk
}

// client is an EC2 client whose requests keep their bodies (EC2's
// answers are large; see awstest.KeepRequestBodies).
func client(cfg aws.Config) *ec2.Client {
	return ec2.NewFromConfig(awstest.KeepRequestBodies(cfg))
}

func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

// describeOne returns the one instance id names.
func describeOne(t *testing.T, c *ec2.Client, id string) types.Instance {
	t.Helper()
	out := awstest.Call(t, c.DescribeInstances, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("DescribeInstances %s: got %d reservations, want 1 with 1 instance", id, len(out.Reservations))
	}
	return out.Reservations[0].Instances[0]
}

func waitState(t *testing.T, c *ec2.Client, id string, want types.InstanceStateName) types.Instance {
	t.Helper()
	var got types.Instance
	awstest.WaitFor(t, fmt.Sprintf("%s %s", id, want), func() bool {
		got = describeOne(t, c, id)
		return got.State.Name == want
	})
	return got
}

// runRunning launches a t3.micro and waits for it to run.
func runRunning(t *testing.T, c *ec2.Client) types.Instance {
	t.Helper()
	id := aws.ToString(run(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro})[0].InstanceId)
	return waitState(t, c, id, types.InstanceStateNameRunning)
}

func run(t *testing.T, c *ec2.Client, in *ec2.RunInstancesInput) []types.Instance {
	t.Helper()
	if in.ImageId == nil {
		in.ImageId = aws.String(ecsImageX86)
	}
	if in.MinCount == nil {
		in.MinCount, in.MaxCount = aws.Int32(1), aws.Int32(1)
	}
	return awstest.Call(t, c.RunInstances, in).Instances
}

func TestDefaultNetwork(t *testing.T) {
	_, c, _ := start(t)
	vpcs := awstest.Call(t, c.DescribeVpcs, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("is-default", "true")}}).Vpcs
	if len(vpcs) != 1 {
		t.Fatalf("default VPCs: got %d, want 1", len(vpcs))
	}
	vpc := vpcs[0]
	block := netip.MustParsePrefix(aws.ToString(vpc.CidrBlock))
	if block.Bits() != 16 || !netip.MustParsePrefix("127.0.0.0/8").Contains(block.Addr()) || block.Addr().As4()[1] == 0 {
		t.Errorf("default VPC CIDR: got %s, want a /16 of 127.0.0.0/8 other than 127.0.0.0/16", block)
	}
	if aws.ToString(vpc.OwnerId) != "000000000000" || vpc.State != types.VpcStateAvailable {
		t.Errorf("VPC: got owner %s state %s", aws.ToString(vpc.OwnerId), vpc.State)
	}
	// A filter computed from the VPC's ID is checked for before any VPC is
	// looked at.
	byOptions := awstest.Call(t, c.DescribeVpcs, &ec2.DescribeVpcsInput{Filters: []types.Filter{
		filter("dhcp-options-id", aws.ToString(vpc.DhcpOptionsId))}}).Vpcs
	if len(byOptions) != 1 || aws.ToString(byOptions[0].VpcId) != aws.ToString(vpc.VpcId) {
		t.Errorf("VPCs by dhcp-options-id: got %d, want the default VPC", len(byOptions))
	}

	subnets := awstest.Call(t, c.DescribeSubnets, &ec2.DescribeSubnetsInput{Filters: []types.Filter{
		filter("vpc-id", aws.ToString(vpc.VpcId)), filter("default-for-az", "true")}}).Subnets
	var zones []string
	for _, sn := range subnets {
		zones = append(zones, aws.ToString(sn.AvailabilityZone))
		cidr := netip.MustParsePrefix(aws.ToString(sn.CidrBlock))
		if cidr.Bits() != 20 || !block.Contains(cidr.Addr()) || aws.ToInt32(sn.AvailableIpAddressCount) != 4091 {
			t.Errorf("subnet %s: got %s with %d free, want a /20 of %s with 4091 free", aws.ToString(sn.SubnetId), cidr,
				aws.ToInt32(sn.AvailableIpAddressCount), block)
		}
	}
	slices.Sort(zones)
	if diff := cmp.Diff([]string{"us-east-1a", "us-east-1b", "us-east-1c"}, zones); diff != "" {
		t.Errorf("default subnets' zones (-want +got):\n%s", diff)
	}

	azs := awstest.Call(t, c.DescribeAvailabilityZones, &ec2.DescribeAvailabilityZonesInput{}).AvailabilityZones
	var got [][2]string
	for _, z := range azs {
		got = append(got, [2]string{aws.ToString(z.ZoneName), aws.ToString(z.ZoneId)})
	}
	if diff := cmp.Diff([][2]string{{"us-east-1a", "use1-az1"}, {"us-east-1b", "use1-az2"}, {"us-east-1c", "use1-az3"}}, got); diff != "" {
		t.Errorf("zones (-want +got):\n%s", diff)
	}

	groups := awstest.Call(t, c.DescribeSecurityGroups, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"default"}}).SecurityGroups
	if len(groups) != 1 || aws.ToString(groups[0].VpcId) != aws.ToString(vpc.VpcId) || len(groups[0].IpPermissionsEgress) != 1 {
		t.Fatalf("default group: got %+v", groups)
	}

	regions := awstest.Call(t, c.DescribeRegions, &ec2.DescribeRegionsInput{Filters: []types.Filter{filter("region-name", "eu-*")}}).Regions
	if len(regions) != 5 || aws.ToString(regions[0].Endpoint) != "ec2."+aws.ToString(regions[0].RegionName)+".amazonaws.com" {
		t.Errorf("DescribeRegions eu-*: got %d regions, first %+v", len(regions), regions[0])
	}

	attrs := awstest.Call(t, c.DescribeAccountAttributes, &ec2.DescribeAccountAttributesInput{
		AttributeNames: []types.AccountAttributeName{types.AccountAttributeNameDefaultVpc}}).AccountAttributes
	if len(attrs) != 1 || aws.ToString(attrs[0].AttributeValues[0].AttributeValue) != aws.ToString(vpc.VpcId) {
		t.Errorf("default-vpc attribute: got %+v, want %s", attrs, aws.ToString(vpc.VpcId))
	}
}

func TestEachAccountAndRegionHasItsOwnBlock(t *testing.T) {
	srv, _, _ := start(t)
	blocks := map[string]string{}
	for _, who := range []struct{ key, region string }{
		{"000000000000", "us-east-1"}, {"000000000000", "eu-west-1"}, {"111111111111", "us-east-1"},
	} {
		cfg := srv.ConfigWith(who.key, "secret", "")
		cfg.Region = who.region
		regional := client(cfg)
		vpcs := awstest.Call(t, regional.DescribeVpcs, &ec2.DescribeVpcsInput{}).Vpcs
		if len(vpcs) != 1 {
			t.Fatalf("%s %s: got %d VPCs, want the default one", who.key, who.region, len(vpcs))
		}
		cidr := aws.ToString(vpcs[0].CidrBlock)
		if other, ok := blocks[cidr]; ok {
			t.Errorf("%s %s: got %s, which %s has already", who.key, who.region, cidr, other)
		}
		blocks[cidr] = who.key + " " + who.region
		if who.region == "eu-west-1" {
			inst := run(t, regional, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro})[0]
			want := "ip-" + strings.ReplaceAll(aws.ToString(inst.PrivateIpAddress), ".", "-") + ".eu-west-1.compute.internal"
			if aws.ToString(inst.PrivateDnsName) != want || aws.ToString(inst.Placement.AvailabilityZone) != "eu-west-1a" {
				t.Errorf("eu-west-1 instance: got %s in %s, want %s in eu-west-1a", aws.ToString(inst.PrivateDnsName),
					aws.ToString(inst.Placement.AvailabilityZone), want)
			}
		}
	}
}

func TestRunDescribeTerminate(t *testing.T) {
	srv, c, clk := start(t)
	ctx := context.Background()
	events := make(chan bus.Event, 16)
	sub, err := srv.Main.Bus().Subscribe(ctx, "ec2-test", bus.Pattern{Source: "aws.ec2", Types: []string{"EC2 Instance State-change Notification"}},
		func(_ context.Context, ev bus.Event) error { events <- ev; return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	userData := "#!/bin/bash\necho ECS_CLUSTER=default >> /etc/ecs/ecs.config\n"
	out := awstest.Call(t, c.RunInstances, &ec2.RunInstancesInput{ImageId: aws.String(ecsImageX86), InstanceType: types.InstanceTypeM5Large,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), KeyName: aws.String("ops"),
		UserData:           aws.String(base64.StdEncoding.EncodeToString([]byte(userData))),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("ecsInstanceRole")},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
			Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}}})
	inst := out.Instances[0]
	id := aws.ToString(inst.InstanceId)
	if inst.State.Name != types.InstanceStateNamePending || aws.ToInt32(inst.State.Code) != 0 {
		t.Errorf("RunInstances: got state %s (%d), want pending (0)", inst.State.Name, aws.ToInt32(inst.State.Code))
	}
	if !strings.HasPrefix(id, "i-") || len(id) != 19 || !strings.HasPrefix(aws.ToString(out.ReservationId), "r-") {
		t.Errorf("IDs: got instance %s reservation %s", id, aws.ToString(out.ReservationId))
	}

	running := waitState(t, c, id, types.InstanceStateNameRunning)
	ip := aws.ToString(running.PrivateIpAddress)
	got := map[string]string{
		"type": string(running.InstanceType), "image": aws.ToString(running.ImageId), "arch": string(running.Architecture),
		"zone": aws.ToString(running.Placement.AvailabilityZone), "key": aws.ToString(running.KeyName),
		"dns":     aws.ToString(running.PrivateDnsName),
		"profile": aws.ToString(running.IamInstanceProfile.Arn), "tag": aws.ToString(running.Tags[0].Value),
		"eni ip": aws.ToString(running.NetworkInterfaces[0].PrivateIpAddress), "group": aws.ToString(running.SecurityGroups[0].GroupName),
		"launch": running.LaunchTime.UTC().Format(time.RFC3339),
	}
	want := map[string]string{
		"type": "m5.large", "image": ecsImageX86, "arch": "x86_64", "zone": "us-east-1a", "key": "ops",
		"dns":     "ip-" + strings.ReplaceAll(ip, ".", "-") + ".ec2.internal",
		"profile": "arn:aws:iam::000000000000:instance-profile/ecsInstanceRole", "tag": "web",
		"eni ip": ip, "group": "default", "launch": "2025-06-01T10:00:00Z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("running instance (-want +got):\n%s", diff)
	}

	attr := awstest.Call(t, c.DescribeInstanceAttribute, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id),
		Attribute: types.InstanceAttributeNameUserData})
	if decoded, _ := base64.StdEncoding.DecodeString(aws.ToString(attr.UserData.Value)); string(decoded) != userData {
		t.Errorf("userData: got %q, want %q", decoded, userData)
	}

	status := awstest.Call(t, c.DescribeInstanceStatus, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{id}}).InstanceStatuses
	if len(status) != 1 || status[0].InstanceStatus.Status != types.SummaryStatusOk || status[0].SystemStatus.Status != types.SummaryStatusOk {
		t.Errorf("DescribeInstanceStatus: got %+v, want ok", status)
	}

	changes := awstest.Call(t, c.TerminateInstances, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}).TerminatingInstances
	if len(changes) != 1 || changes[0].PreviousState.Name != types.InstanceStateNameRunning ||
		changes[0].CurrentState.Name != types.InstanceStateNameShuttingDown {
		t.Errorf("TerminateInstances: got %+v, want running → shutting-down", changes)
	}
	terminated := waitState(t, c, id, types.InstanceStateNameTerminated)
	if terminated.PrivateIpAddress != nil || terminated.SubnetId != nil || len(terminated.NetworkInterfaces) != 0 {
		t.Errorf("terminated instance: got ip %v subnet %v, want it out of the network", terminated.PrivateIpAddress, terminated.SubnetId)
	}
	if aws.ToString(terminated.StateReason.Code) != "Client.UserInitiatedShutdown" {
		t.Errorf("StateReason: got %+v", terminated.StateReason)
	}
	enis := awstest.Call(t, c.DescribeNetworkInterfaces, &ec2.DescribeNetworkInterfacesInput{
		Filters: []types.Filter{filter("attachment.instance-id", id)}}).NetworkInterfaces
	if len(enis) != 0 {
		t.Errorf("interfaces of the terminated instance: got %d, want 0", len(enis))
	}

	var states []string
	for len(states) < 4 {
		select {
		case ev := <-events:
			var detail struct {
				ID    string `json:"instance-id"`
				State string `json:"state"`
			}
			if err := json.Unmarshal(ev.Detail, &detail); err != nil || detail.ID != id {
				t.Fatalf("event detail: got %s (%v)", ev.Detail, err)
			}
			if diff := cmp.Diff([]string{"arn:aws:ec2:us-east-1:000000000000:instance/" + id}, ev.Resources); diff != "" {
				t.Errorf("event resources (-want +got):\n%s", diff)
			}
			states = append(states, detail.State)
		case <-time.After(10 * time.Second):
			t.Fatalf("events: got %v, want 4 state changes", states)
		}
	}
	if diff := cmp.Diff([]string{"pending", "running", "shutting-down", "terminated"}, states); diff != "" {
		t.Errorf("state change events (-want +got):\n%s", diff)
	}

	// Terminated instances stay visible for about an hour, then are gone.
	clk.Advance(59 * time.Minute)
	describeOne(t, c, id)
	clk.Advance(2 * time.Minute)
	awstest.WaitFor(t, "the terminated instance forgotten", func() bool {
		_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		return awstest.ErrorCode(err) == "InvalidInstanceID.NotFound"
	})
}

func TestStopStart(t *testing.T) {
	_, c, clk := start(t)
	before := runRunning(t, c)
	id := aws.ToString(before.InstanceId)

	stopping := awstest.Call(t, c.StopInstances, &ec2.StopInstancesInput{InstanceIds: []string{id}}).StoppingInstances
	if stopping[0].CurrentState.Name != types.InstanceStateNameStopping {
		t.Errorf("StopInstances: got %s, want stopping", stopping[0].CurrentState.Name)
	}
	stopped := waitState(t, c, id, types.InstanceStateNameStopped)
	if aws.ToString(stopped.PrivateIpAddress) != aws.ToString(before.PrivateIpAddress) {
		t.Errorf("stopped instance's IP: got %s, want it kept (%s)", aws.ToString(stopped.PrivateIpAddress), aws.ToString(before.PrivateIpAddress))
	}
	if !strings.HasPrefix(aws.ToString(stopped.StateTransitionReason), "User initiated (2025-06-01 10:00:00 GMT)") {
		t.Errorf("StateTransitionReason: got %q", aws.ToString(stopped.StateTransitionReason))
	}
	running := awstest.Call(t, c.DescribeInstanceStatus, &ec2.DescribeInstanceStatusInput{}).InstanceStatuses
	all := awstest.Call(t, c.DescribeInstanceStatus, &ec2.DescribeInstanceStatusInput{IncludeAllInstances: aws.Bool(true)}).InstanceStatuses
	if len(running) != 0 || len(all) != 1 || all[0].InstanceState.Name != types.InstanceStateNameStopped ||
		all[0].InstanceStatus.Status != types.SummaryStatusNotApplicable {
		t.Errorf("DescribeInstanceStatus: got %d running and %+v in all, want 0 and the stopped one", len(running), all)
	}

	clk.Advance(time.Hour)
	starting := awstest.Call(t, c.StartInstances, &ec2.StartInstancesInput{InstanceIds: []string{id}}).StartingInstances
	if starting[0].PreviousState.Name != types.InstanceStateNameStopped || starting[0].CurrentState.Name != types.InstanceStateNamePending {
		t.Errorf("StartInstances: got %+v, want stopped → pending", starting[0])
	}
	after := waitState(t, c, id, types.InstanceStateNameRunning)
	if !after.LaunchTime.Equal(clk.Now()) {
		t.Errorf("LaunchTime after a start: got %v, want %v", after.LaunchTime, clk.Now())
	}
}

func TestAddressesAreUniqueAndReachable(t *testing.T) {
	_, c, _ := start(t)
	subnet := awstest.Call(t, c.DescribeSubnets, &ec2.DescribeSubnetsInput{Filters: []types.Filter{
		filter("availability-zone", "us-east-1b")}}).Subnets[0]
	cidr := netip.MustParsePrefix(aws.ToString(subnet.CidrBlock))

	const n = 40
	var ips []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			out, err := c.RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: aws.String(ecsImageArm),
				InstanceType: types.InstanceTypeT4gSmall, MinCount: aws.Int32(n / 4), MaxCount: aws.Int32(n / 4), SubnetId: subnet.SubnetId})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, inst := range out.Instances {
				ips = append(ips, aws.ToString(inst.PrivateIpAddress))
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, ip := range ips {
		addr := netip.MustParseAddr(ip)
		if seen[ip] || !cidr.Contains(addr) {
			t.Errorf("address %s: got a duplicate or outside %s", ip, cidr)
		}
		a, base := addr.As4(), cidr.Addr().As4()
		offset := binary.BigEndian.Uint32(a[:]) - binary.BigEndian.Uint32(base[:])
		if offset < 4 || offset == 1<<(32-cidr.Bits())-1 {
			t.Errorf("address %s: got one of the addresses AWS reserves", ip)
		}
		seen[ip] = true
	}
	if len(seen) != n {
		t.Fatalf("got %d distinct addresses, want %d", len(seen), n)
	}
	free := awstest.Call(t, c.DescribeSubnets, &ec2.DescribeSubnetsInput{SubnetIds: []string{aws.ToString(subnet.SubnetId)}}).Subnets[0]
	if got := aws.ToInt32(free.AvailableIpAddressCount); got != 4091-n {
		t.Errorf("AvailableIpAddressCount: got %d, want %d", got, 4091-n)
	}

	// The address is the instance's, on the host: a server bound there is
	// reachable as the API reports it.
	ip := ips[0]
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("listening on the instance's address %s: %v", ip, err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err == nil {
			conn.Write([]byte("hello from " + ip))
			conn.Close()
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("connecting to %s: %v", ln.Addr(), err)
	}
	defer conn.Close()
	buf := make([]byte, 64)
	k, _ := conn.Read(buf)
	if got := string(buf[:k]); got != "hello from "+ip {
		t.Errorf("got %q from the instance's address", got)
	}
}

func TestDescribeInstancesFiltersAndPages(t *testing.T) {
	_, c, _ := start(t)
	web := run(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Small, MinCount: aws.Int32(3), MaxCount: aws.Int32(3),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
			Tags: []types.Tag{{Key: aws.String("role"), Value: aws.String("web")}}}}})
	db := run(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeR5Large,
		Placement: &types.Placement{AvailabilityZone: aws.String("us-east-1c")}})[0]
	for _, inst := range append(web, db) {
		waitState(t, c, aws.ToString(inst.InstanceId), types.InstanceStateNameRunning)
	}
	awstest.Call(t, c.StopInstances, &ec2.StopInstancesInput{InstanceIds: []string{aws.ToString(db.InstanceId)}})
	waitState(t, c, aws.ToString(db.InstanceId), types.InstanceStateNameStopped)

	ids := func(filters ...types.Filter) []string {
		var out []string
		for _, r := range awstest.Call(t, c.DescribeInstances, &ec2.DescribeInstancesInput{Filters: filters}).Reservations {
			for _, i := range r.Instances {
				out = append(out, aws.ToString(i.InstanceId))
			}
		}
		slices.Sort(out)
		return out
	}
	webIDs := awstest.Strings(web, func(i types.Instance) *string { return i.InstanceId })
	slices.Sort(webIDs)
	dbID := []string{aws.ToString(db.InstanceId)}
	for _, tc := range []struct {
		name    string
		filters []types.Filter
		want    []string
	}{
		{"tag", []types.Filter{filter("tag:role", "web")}, webIDs},
		{"tag-key", []types.Filter{filter("tag-key", "ro*")}, webIDs},
		{"state", []types.Filter{filter("instance-state-name", "stopped")}, dbID},
		{"type", []types.Filter{filter("instance-type", "r5.large")}, dbID},
		{"zone", []types.Filter{filter("availability-zone", "us-east-1c")}, dbID},
		{"subnet", []types.Filter{filter("subnet-id", aws.ToString(db.SubnetId))}, dbID},
		{"vpc", []types.Filter{filter("vpc-id", aws.ToString(db.VpcId))}, sorted(append(slices.Clone(webIDs), dbID...))},
		{"ip", []types.Filter{filter("private-ip-address", aws.ToString(web[1].PrivateIpAddress))}, webIDs[slices.Index(webIDs, aws.ToString(web[1].InstanceId)):][:1]},
		{"id and state", []types.Filter{filter("instance-id", webIDs...), filter("instance-state-name", "running", "pending")}, webIDs},
		{"nothing", []types.Filter{filter("instance-state-name", "terminated")}, nil},
	} {
		if diff := cmp.Diff(tc.want, ids(tc.filters...)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
	if want := append(slices.Clone(webIDs), dbID...); true {
		slices.Sort(want)
		if diff := cmp.Diff(want, ids()); diff != "" {
			t.Errorf("all (-want +got):\n%s", diff)
		}
	}

	paged, pages := pagedInstances(t, c, 5)
	slices.Sort(paged)
	if diff := cmp.Diff(ids(), paged); diff != "" || pages != 1 {
		t.Errorf("paged: %d pages (-want +got):\n%s", pages, diff)
	}
	more := run(t, c, &ec2.RunInstancesInput{MinCount: aws.Int32(4), MaxCount: aws.Int32(4), InstanceType: types.InstanceTypeT3Nano})
	paged, pages = pagedInstances(t, c, 5)
	if len(paged) != 4+len(more) || pages != 2 {
		t.Errorf("paged: got %d instances in %d pages, want 8 in 2", len(paged), pages)
	}
}

func TestSecurityGroups(t *testing.T) {
	_, c, _ := start(t)
	created := awstest.Call(t, c.CreateSecurityGroup, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"),
		Description: aws.String("web servers"), TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup,
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}}}}})
	id := aws.ToString(created.GroupId)
	auth := awstest.Call(t, c.AuthorizeSecurityGroupIngress, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80),
			IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0"), Description: aws.String("http")}}}}})
	if len(auth.SecurityGroupRules) != 1 || aws.ToString(auth.SecurityGroupRules[0].CidrIpv4) != "0.0.0.0/0" {
		t.Errorf("AuthorizeSecurityGroupIngress rules: got %+v", auth.SecurityGroupRules)
	}
	awstest.Call(t, c.AuthorizeSecurityGroupIngress, &ec2.AuthorizeSecurityGroupIngressInput{GroupName: aws.String("web"),
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), CidrIp: aws.String("10.0.0.0/8")})
	awstest.Call(t, c.AuthorizeSecurityGroupEgress, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(id),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("udp"), FromPort: aws.Int32(53), ToPort: aws.Int32(53),
			IpRanges: []types.IpRange{{CidrIp: aws.String("127.0.0.53/32")}}}}})

	g := awstest.Call(t, c.DescribeSecurityGroups, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}}).SecurityGroups[0]
	var ingress []string
	for _, p := range g.IpPermissions {
		for _, r := range p.IpRanges {
			ingress = append(ingress, fmt.Sprintf("%s %d-%d %s", aws.ToString(p.IpProtocol), aws.ToInt32(p.FromPort), aws.ToInt32(p.ToPort), aws.ToString(r.CidrIp)))
		}
	}
	if diff := cmp.Diff([]string{"tcp 80-80 0.0.0.0/0", "tcp 443-443 10.0.0.0/8"}, ingress); diff != "" {
		t.Errorf("ingress (-want +got):\n%s", diff)
	}
	if len(g.IpPermissionsEgress) != 2 || aws.ToString(g.Tags[0].Value) != "core" || aws.ToString(g.GroupName) != "web" {
		t.Errorf("group: got %+v", g)
	}
	byFilter := awstest.Call(t, c.DescribeSecurityGroups, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		filter("ip-permission.from-port", "443"), filter("tag:team", "core")}}).SecurityGroups
	if len(byFilter) != 1 || aws.ToString(byFilter[0].GroupId) != id {
		t.Errorf("filtered groups: got %d", len(byFilter))
	}

	awstest.Call(t, c.RevokeSecurityGroupIngress, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(id),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
			IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}}}})
	awstest.Call(t, c.RevokeSecurityGroupIngress, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(id),
		SecurityGroupRuleIds: []string{aws.ToString(auth.SecurityGroupRules[0].SecurityGroupRuleId)}})
	g = awstest.Call(t, c.DescribeSecurityGroups, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}}).SecurityGroups[0]
	if len(g.IpPermissions) != 0 {
		t.Errorf("ingress after revoking: got %+v, want none", g.IpPermissions)
	}

	// A group in use by an instance cannot go; once the instance is gone
	// it can.
	inst := run(t, c, &ec2.RunInstancesInput{SecurityGroupIds: []string{id}, InstanceType: types.InstanceTypeT3Micro})[0]
	if got := aws.ToString(inst.SecurityGroups[0].GroupName); got != "web" {
		t.Errorf("instance's group: got %s, want web", got)
	}
	_, err := c.DeleteSecurityGroup(context.Background(), &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "DependencyViolation", Status: 400, Message: "resource " + id + " has a dependent object"})
	awstest.Call(t, c.TerminateInstances, &ec2.TerminateInstancesInput{InstanceIds: []string{aws.ToString(inst.InstanceId)}})
	waitState(t, c, aws.ToString(inst.InstanceId), types.InstanceStateNameTerminated)
	awstest.Call(t, c.DeleteSecurityGroup, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
	_, err = c.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidGroup.NotFound"})
}

func TestTags(t *testing.T) {
	_, c, _ := start(t)
	vpc := awstest.Call(t, c.DescribeVpcs, &ec2.DescribeVpcsInput{}).Vpcs[0]
	inst := run(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro})[0]
	resources := []string{aws.ToString(vpc.VpcId), aws.ToString(inst.InstanceId)}
	awstest.Call(t, c.CreateTags, &ec2.CreateTagsInput{Resources: resources, Tags: []types.Tag{
		{Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("owner"), Value: aws.String("ops")}}})

	tags := func(filters ...types.Filter) []string {
		var out []string
		for _, td := range awstest.Call(t, c.DescribeTags, &ec2.DescribeTagsInput{Filters: filters}).Tags {
			out = append(out, fmt.Sprintf("%s %s %s=%s", td.ResourceType, aws.ToString(td.ResourceId), aws.ToString(td.Key), aws.ToString(td.Value)))
		}
		return out
	}
	vpcID, instID := resources[0], resources[1]
	if diff := cmp.Diff([]string{
		"instance " + instID + " env=prod", "instance " + instID + " owner=ops",
		"vpc " + vpcID + " env=prod", "vpc " + vpcID + " owner=ops",
	}, tags()); diff != "" {
		t.Errorf("DescribeTags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"vpc " + vpcID + " env=prod"}, tags(filter("resource-type", "vpc"), filter("key", "env"))); diff != "" {
		t.Errorf("DescribeTags filtered (-want +got):\n%s", diff)
	}

	awstest.Call(t, c.DeleteTags, &ec2.DeleteTagsInput{Resources: resources, Tags: []types.Tag{
		{Key: aws.String("env"), Value: aws.String("staging")}, {Key: aws.String("owner")}}})
	if diff := cmp.Diff([]string{"instance " + instID + " env=prod", "vpc " + vpcID + " env=prod"}, tags()); diff != "" {
		t.Errorf("after DeleteTags (-want +got):\n%s", diff)
	}
	vpcs := awstest.Call(t, c.DescribeVpcs, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("tag:env", "prod")}}).Vpcs
	if len(vpcs) != 1 {
		t.Errorf("VPCs tagged env=prod: got %d, want 1", len(vpcs))
	}
}

func TestNetworkInterfaces(t *testing.T) {
	_, c, _ := start(t)
	subnet := awstest.Call(t, c.DescribeSubnets, &ec2.DescribeSubnetsInput{}).Subnets[0]
	eni := awstest.Call(t, c.CreateNetworkInterface, &ec2.CreateNetworkInterfaceInput{SubnetId: subnet.SubnetId,
		Description: aws.String("task"), TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNetworkInterface,
			Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}}).NetworkInterface
	id := aws.ToString(eni.NetworkInterfaceId)
	if eni.Status != types.NetworkInterfaceStatusAvailable || !netip.MustParsePrefix(aws.ToString(subnet.CidrBlock)).Contains(netip.MustParseAddr(aws.ToString(eni.PrivateIpAddress))) ||
		len(eni.Groups) != 1 || aws.ToString(eni.Groups[0].GroupName) != "default" || len(aws.ToString(eni.MacAddress)) != 17 {
		t.Errorf("CreateNetworkInterface: got %+v", eni)
	}
	listed := awstest.Call(t, c.DescribeNetworkInterfaces, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{filter("tag:k", "v")}}).NetworkInterfaces
	if len(listed) != 1 || aws.ToString(listed[0].NetworkInterfaceId) != id {
		t.Errorf("DescribeNetworkInterfaces: got %d", len(listed))
	}
	awstest.Call(t, c.DeleteNetworkInterface, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(id)})
	_, err := c.DescribeNetworkInterfaces(context.Background(), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{id}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidNetworkInterfaceID.NotFound", Message: "The networkInterface ID '" + id + "' does not exist"})
}

func TestCatalog(t *testing.T) {
	_, c, _ := start(t)
	its := awstest.Call(t, c.DescribeInstanceTypes, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{
		types.InstanceTypeT3Nano, types.InstanceTypeT3Medium, types.InstanceTypeM5Large, types.InstanceTypeC5Xlarge,
		types.InstanceTypeR5Large, types.InstanceTypeM7gLarge, types.InstanceTypeT2Micro}}).InstanceTypes
	var got []string
	for _, it := range its {
		got = append(got, fmt.Sprintf("%s %d %d %v", it.InstanceType, aws.ToInt32(it.VCpuInfo.DefaultVCpus), aws.ToInt64(it.MemoryInfo.SizeInMiB),
			it.ProcessorInfo.SupportedArchitectures))
	}
	want := []string{"t3.nano 2 512 [x86_64]", "t3.medium 2 4096 [x86_64]", "m5.large 2 8192 [x86_64]", "c5.xlarge 4 8192 [x86_64]",
		"r5.large 2 16384 [x86_64]", "m7g.large 2 8192 [arm64]", "t2.micro 1 1024 [i386 x86_64]"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DescribeInstanceTypes (-want +got):\n%s", diff)
	}
	arm := 0
	p := ec2.NewDescribeInstanceTypesPaginator(c, &ec2.DescribeInstanceTypesInput{Filters: []types.Filter{
		filter("processor-info.supported-architecture", "arm64")}, MaxResults: aws.Int32(10)})
	for p.HasMorePages() {
		for _, it := range awstest.NextPage(t, p).InstanceTypes {
			if it.ProcessorInfo.SupportedArchitectures[0] != types.ArchitectureTypeArm64 {
				t.Errorf("arm64 filter: got %s", it.InstanceType)
			}
			arm++
		}
	}
	if arm < 20 {
		t.Errorf("arm64 types: got %d, want the t4g and Graviton families", arm)
	}

	images := awstest.Call(t, c.DescribeImages, &ec2.DescribeImagesInput{Owners: []string{"amazon"}, Filters: []types.Filter{
		filter("name", "al2023-ami-ecs-hvm-*"), filter("architecture", "arm64")}}).Images
	if len(images) != 1 || aws.ToString(images[0].ImageId) != ecsImageArm {
		t.Errorf("ECS-optimized arm64 images: got %+v", images)
	}
}

func TestRestartKeepsState(t *testing.T) {
	srv, c, _ := start(t)
	inst := runRunning(t, c)
	id := aws.ToString(inst.InstanceId)
	awstest.Call(t, c.StopInstances, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	vpc := awstest.Call(t, c.DescribeVpcs, &ec2.DescribeVpcsInput{}).Vpcs[0]

	srv.Restart(t)
	c = client(srv.Config())
	got := waitState(t, c, id, types.InstanceStateNameStopped)
	if aws.ToString(got.PrivateIpAddress) != aws.ToString(inst.PrivateIpAddress) {
		t.Errorf("IP after restart: got %s, want %s", aws.ToString(got.PrivateIpAddress), aws.ToString(inst.PrivateIpAddress))
	}
	again := awstest.Call(t, c.DescribeVpcs, &ec2.DescribeVpcsInput{}).Vpcs
	if len(again) != 1 || aws.ToString(again[0].VpcId) != aws.ToString(vpc.VpcId) || aws.ToString(again[0].CidrBlock) != aws.ToString(vpc.CidrBlock) {
		t.Errorf("VPCs after restart: got %+v, want the same default VPC", again)
	}
	next := run(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro})[0]
	if aws.ToString(next.PrivateIpAddress) == aws.ToString(inst.PrivateIpAddress) {
		t.Errorf("a new instance got the stopped one's address %s", aws.ToString(next.PrivateIpAddress))
	}
}

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}

// pagedInstances lists every instance's ID through DescribeInstances'
// paginator, pageSize at a time, and counts the pages.
func pagedInstances(t *testing.T, c *ec2.Client, pageSize int32) (ids []string, pages int) {
	t.Helper()
	p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(pageSize)})
	for p.HasMorePages() {
		out := awstest.NextPage(t, p)
		pages++
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				ids = append(ids, aws.ToString(i.InstanceId))
			}
		}
	}
	return ids, pages
}
