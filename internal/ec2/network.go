package ec2

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	api "overcast/internal/api/ec2"
	"overcast/internal/service"
	"overcast/internal/store"
)

// defaultsTable holds, per scope, the IDs of the default VPC, its
// subnets and its default security group.
const defaultsTable = "ec2.defaults"

// blocksTable allocates each scope's default VPC its own /16 of
// 127.0.0.0/8: key the second octet (three digits), value the scope.
const blocksTable = "ec2.blocks"

// defaults are the IDs of a scope's default network, made on first use.
type defaults struct {
	VPCID   string   `json:"vpcId"`
	Subnets []string `json:"subnets"` // one per zone, in zone order
	GroupID string   `json:"groupId"` // the default VPC's default security group
}

// vpcsTable holds one record per VPC, keyed by scope and ID.
const vpcsTable = "ec2.vpcs"

type vpc struct {
	ID      string            `json:"id"`
	CIDR    string            `json:"cidr"`
	Default bool              `json:"default,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
}

// subnetsTable holds one record per subnet, keyed by scope and ID.
const subnetsTable = "ec2.subnets"

type subnet struct {
	ID      string            `json:"id"`
	VPCID   string            `json:"vpcId"`
	CIDR    string            `json:"cidr"`
	Zone    string            `json:"zone"`
	Default bool              `json:"default,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
}

// zoneSuffixes are the availability zones of every region: <region>a/b/c.
var zoneSuffixes = []string{"a", "b", "c"}

// defaultFirstBlock is the second octet of the first /16 handed to a
// default VPC: 127.0.0.0/16 holds the host's own loopback services
// (127.0.0.1, and 127.0.0.53 for systemd-resolved), which no instance may
// shadow.
const defaultFirstBlock = 16

// subnetBits is the size of a default subnet, /20 as on AWS.
const subnetBits = 20

// ensureDefaults returns sc's default network, making it on first use.
func (s *Service) ensureDefaults(ctx context.Context, sc scope) (defaults, error) {
	var d defaults
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, defaultsTable, sc.Key(""), &d)
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		return d, err
	}
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, defaultsTable, sc.Key(""), &d)
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		d, err = s.createDefaults(tx, sc)
		return err
	})
	return d, err
}

// createDefaults makes sc's default VPC in a /16 of loopback no other
// scope holds, with a default /20 subnet per zone and a default security
// group, as AWS makes for every account.
func (s *Service) createDefaults(tx store.Tx, sc scope) (defaults, error) {
	block, err := allocateBlock(tx, sc, s.firstBlock)
	if err != nil {
		return defaults{}, err
	}
	v := vpc{ID: s.IDs.Resource("vpc"), CIDR: fmt.Sprintf("127.%d.0.0/16", block), Default: true}
	d := defaults{VPCID: v.ID}
	if _, err := store.PutJSON(tx, vpcsTable, sc.Key(v.ID), v, 0); err != nil {
		return d, err
	}
	for i, suffix := range zoneSuffixes {
		sn := subnet{ID: s.IDs.Resource("subnet"), VPCID: v.ID, Zone: sc.Region + suffix, Default: true,
			CIDR: fmt.Sprintf("127.%d.%d.0/%d", block, i<<(subnetBits-16), subnetBits)}
		if _, err := store.PutJSON(tx, subnetsTable, sc.Key(sn.ID), sn, 0); err != nil {
			return d, err
		}
		d.Subnets = append(d.Subnets, sn.ID)
	}
	g := s.newDefaultGroup(v.ID)
	if _, err := store.PutJSON(tx, groupsTable, sc.Key(g.ID), g, 0); err != nil {
		return d, err
	}
	d.GroupID = g.ID
	_, err = store.PutJSON(tx, defaultsTable, sc.Key(""), d, 0)
	return d, err
}

// allocateBlock claims the lowest free second octet from first on for
// sc's default VPC.
func allocateBlock(tx store.Tx, sc scope, first int) (int, error) {
	used := map[string]bool{}
	err := tx.Scan(blocksTable, store.ScanOptions{}, func(it store.Item) error {
		used[it.Key] = true
		return nil
	})
	if err != nil {
		return 0, err
	}
	for b := first; b < 256; b++ {
		key := fmt.Sprintf("%03d", b)
		if !used[key] {
			_, err := tx.Put(blocksTable, key, []byte(sc.Prefix()), 0)
			return b, err
		}
	}
	return 0, badRequest("VpcLimitExceeded", "The maximum number of VPCs has been reached.")
}

// Addresses. A subnet's addresses are its CIDR less the first four and the
// last, which AWS reserves; one is in use while a network interface holds
// it, and is never handed out twice meanwhile.

// addressesTable records the private IPs in use, per subnet: key
// scope/subnet-id/ip, value the network interface holding it.
const addressesTable = "ec2.addresses"

func addressPrefix(sc scope, subnetID string) string { return sc.Key(subnetID + "/") }

// allocateAddress claims a free address of sn for the network interface
// owner: the first free one from a random place, as AWS hands out a
// subnet's addresses in no order. Besides, two overcasts on one machine
// (or two test servers) whose default VPCs got the same block rarely give
// out the same address, which would make their tasks' ports collide.
func allocateAddress(tx store.Tx, sc scope, sn subnet, owner string, random uint32) (string, error) {
	prefix := addressPrefix(sc, sn.ID)
	used := map[string]bool{}
	err := tx.Scan(addressesTable, store.ScanOptions{Prefix: prefix}, func(it store.Item) error {
		used[strings.TrimPrefix(it.Key, prefix)] = true
		return nil
	})
	if err != nil {
		return "", err
	}
	p := netip.MustParsePrefix(sn.CIDR)
	size := 1 << (32 - p.Bits())
	base := binary.BigEndian.Uint32(p.Addr().AsSlice())
	usable := size - 5 // offsets 4 to size-2
	for i := range usable {
		offset := 4 + (int(random%uint32(usable))+i)%usable
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], base+uint32(offset))
		addr := netip.AddrFrom4(b).String()
		if !used[addr] {
			_, err := tx.Put(addressesTable, prefix+addr, []byte(owner), 0)
			return addr, err
		}
	}
	return "", badRequest("InsufficientFreeAddressesInSubnet",
		"There are not enough free addresses in subnet '%s' to satisfy the requested number of instances.", sn.ID)
}

func releaseAddress(tx store.Tx, sc scope, subnetID, ip string) error {
	err := tx.Delete(addressesTable, addressPrefix(sc, subnetID)+ip, store.AnyVersion)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// availableAddresses is how many addresses of sn are free.
func availableAddresses(tx store.Tx, sc scope, sn subnet) (int, error) {
	used, err := tx.Count(addressesTable, addressPrefix(sc, sn.ID))
	p := netip.MustParsePrefix(sn.CIDR)
	return (1 << (32 - p.Bits())) - 5 - used, err
}

// privateDNSName is AWS's name for a private IP: ip-a-b-c-d.ec2.internal in
// us-east-1, ip-a-b-c-d.<region>.compute.internal elsewhere.
func privateDNSName(region, ip string) string {
	host := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + region + ".compute.internal"
}

// zoneID is AWS's ID of a zone: use1-az1 for us-east-1a.
func zoneID(zone string) string {
	region, suffix := zone[:len(zone)-1], zone[len(zone)-1:]
	parts := strings.Split(region, "-")
	short := parts[0]
	for _, p := range parts[1 : len(parts)-1] {
		for _, dir := range []string{"north", "south", "east", "west", "central"} {
			if rest, ok := strings.CutPrefix(p, dir); ok {
				short += dir[:1]
				p = rest
			}
		}
		short += p
	}
	return fmt.Sprintf("%s%s-az%d", short, parts[len(parts)-1], strings.Index("abcdef", suffix)+1)
}

// DescribeVpcs lists the scope's VPCs.
func (s *Service) DescribeVpcs(ctx context.Context, in *api.DescribeVpcsRequest) (*api.DescribeVpcsResult, error) {
	sc, d, err := s.describing(ctx, in.VpcIds, "vpc", "InvalidVpcID.Malformed")
	if err != nil {
		return nil, err
	}
	var vpcs []vpc
	err = s.Store.View(ctx, func(tx store.Tx) (err error) {
		vpcs, err = loadAll[vpc](tx, vpcsTable, sc, in.VpcIds, "InvalidVpcID.NotFound", "vpc")
		return err
	})
	if err != nil {
		return nil, err
	}
	views, next, err := describeViews(vpcs, vpcFilter(sc, d), in.Filters, in.NextToken, in.MaxResults, func(v vpc) string { return v.ID },
		func(v vpc) api.Vpc {
			return api.Vpc{VpcId: new(v.ID), CidrBlock: new(v.CIDR), State: new("available"),
				OwnerId: new(sc.Account), IsDefault: new(v.Default), InstanceTenancy: new("default"),
				DhcpOptionsId: new("dopt-" + v.ID[4:12]), Tags: apiTags(v.Tags),
				CidrBlockAssociationSet: api.VpcCidrBlockAssociationSet{{AssociationId: new("vpc-cidr-assoc-" + v.ID[4:]),
					CidrBlock: new(v.CIDR), CidrBlockState: &api.VpcCidrBlockState{State: new("associated")}}}}
		})
	if err != nil {
		return nil, err
	}
	return &api.DescribeVpcsResult{NextToken: next, Vpcs: views}, nil
}

func vpcFilter(sc scope, d defaults) fields[vpc] {
	return fields[vpc]{values: map[string]func(vpc) any{
		"vpc-id":          func(v vpc) any { return v.ID },
		"cidr":            func(v vpc) any { return v.CIDR },
		"is-default":      func(v vpc) any { return v.Default },
		"state":           always[vpc]("available"),
		"owner-id":        always[vpc](sc.Account),
		"dhcp-options-id": func(v vpc) any { return "dopt-" + v.ID[4:12] },
	}, aliases: map[string]string{
		"cidr-block-association.cidr-block": "cidr",
		"cidrBlock":                         "cidr",
		"isDefault":                         "is-default",
	}, tags: func(v vpc) map[string]string { return v.Tags }}
}

// DescribeSubnets lists the scope's subnets.
func (s *Service) DescribeSubnets(ctx context.Context, in *api.DescribeSubnetsRequest) (*api.DescribeSubnetsResult, error) {
	sc, _, err := s.describing(ctx, in.SubnetIds, "subnet", "InvalidSubnetID.Malformed")
	if err != nil {
		return nil, err
	}
	var subnets []subnet
	free := map[string]int{}
	err = s.Store.View(ctx, func(tx store.Tx) (err error) {
		subnets, err = loadAll[subnet](tx, subnetsTable, sc, in.SubnetIds, "InvalidSubnetID.NotFound", "subnet")
		for _, sn := range subnets {
			if err == nil {
				free[sn.ID], err = availableAddresses(tx, sc, sn)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	views, next, err := describeViews(subnets, subnetFilter(sc), in.Filters, in.NextToken, in.MaxResults, func(sn subnet) string { return sn.ID },
		func(sn subnet) api.Subnet {
			return api.Subnet{SubnetId: new(sn.ID), VpcId: new(sn.VPCID), CidrBlock: new(sn.CIDR),
				State: new("available"), AvailabilityZone: new(sn.Zone), AvailabilityZoneId: new(zoneID(sn.Zone)),
				AvailableIpAddressCount: new(int32(free[sn.ID])), DefaultForAz: new(sn.Default), MapPublicIpOnLaunch: new(false),
				OwnerId: new(sc.Account), SubnetArn: new(resourceARN(sc, "subnet", sn.ID)), Tags: apiTags(sn.Tags),
				AssignIpv6AddressOnCreation: new(false), MapCustomerOwnedIpOnLaunch: new(false), EnableDns64: new(false),
				Ipv6Native: new(false), Ipv6CidrBlockAssociationSet: api.SubnetIpv6CidrBlockAssociationSet{},
				PrivateDnsNameOptionsOnLaunch: &api.PrivateDnsNameOptionsOnLaunch{HostnameType: new("ip-name"),
					EnableResourceNameDnsARecord: new(false), EnableResourceNameDnsAAAARecord: new(false)}}
		})
	if err != nil {
		return nil, err
	}
	return &api.DescribeSubnetsResult{NextToken: next, Subnets: views}, nil
}

func subnetFilter(sc scope) fields[subnet] {
	return fields[subnet]{values: map[string]func(subnet) any{
		"subnet-id":               func(sn subnet) any { return sn.ID },
		"vpc-id":                  func(sn subnet) any { return sn.VPCID },
		"availability-zone":       func(sn subnet) any { return sn.Zone },
		"availability-zone-id":    func(sn subnet) any { return zoneID(sn.Zone) },
		"cidr-block":              func(sn subnet) any { return sn.CIDR },
		"default-for-az":          func(sn subnet) any { return sn.Default },
		"state":                   always[subnet]("available"),
		"owner-id":                always[subnet](sc.Account),
		"subnet-arn":              func(sn subnet) any { return resourceARN(sc, "subnet", sn.ID) },
		"map-public-ip-on-launch": always[subnet]("false"),
	}, aliases: map[string]string{
		"availabilityZone":   "availability-zone",
		"availabilityZoneId": "availability-zone-id",
		"cidr":               "cidr-block",
		"cidrBlock":          "cidr-block",
		"defaultForAz":       "default-for-az",
	}, tags: func(sn subnet) map[string]string { return sn.Tags }}
}

// zone is an availability zone of a region, for DescribeAvailabilityZones.
type zone struct{ Name, Region string }

// DescribeAvailabilityZones lists the region's zones.
func (s *Service) DescribeAvailabilityZones(ctx context.Context, in *api.DescribeAvailabilityZonesRequest) (*api.DescribeAvailabilityZonesResult, error) {
	sc := scopeOf(ctx)
	var zones []zone
	for _, suffix := range zoneSuffixes {
		z := zone{Name: sc.Region + suffix, Region: sc.Region}
		if (len(in.ZoneNames) == 0 || contains(in.ZoneNames, z.Name)) && (len(in.ZoneIds) == 0 || contains(in.ZoneIds, zoneID(z.Name))) {
			zones = append(zones, z)
		}
	}
	for _, name := range in.ZoneNames {
		if !strings.HasPrefix(name, sc.Region) || !contains(zoneSuffixes, strings.TrimPrefix(name, sc.Region)) {
			return nil, invalidParameterValue("The zone '%s' does not exist.", name)
		}
	}
	zones, _, err := describe(zones, zoneFilters, in.Filters, nil, nil, func(z zone) string { return z.Name }, 0, 0)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeAvailabilityZonesResult{AvailabilityZones: api.AvailabilityZoneList{}}
	for _, z := range zones {
		out.AvailabilityZones = append(out.AvailabilityZones, api.AvailabilityZone{ZoneName: new(z.Name), ZoneId: new(zoneID(z.Name)),
			RegionName: new(z.Region), State: new("available"), OptInStatus: new("opt-in-not-required"),
			GroupName: new(z.Region + "-zg-1"), NetworkBorderGroup: new(z.Region), ZoneType: new("availability-zone"),
			Messages: api.AvailabilityZoneMessageList{}})
	}
	return out, nil
}

var zoneFilters = func() fields[zone] {
	return fields[zone]{values: map[string]func(zone) any{
		"zone-name":     func(z zone) any { return z.Name },
		"zone-id":       func(z zone) any { return zoneID(z.Name) },
		"region-name":   func(z zone) any { return z.Region },
		"state":         always[zone]("available"),
		"zone-type":     always[zone]("availability-zone"),
		"opt-in-status": always[zone]("opt-in-not-required"),
	}, aliases: map[string]string{
		// A zone's group is its region.
		"group-name":           "region-name",
		"network-border-group": "region-name",
	}}
}()

// DescribeAccountAttributes reports the account's default VPC and the
// supported platforms, which tools (the CLI's run-instances, Beanstalk)
// read to pick a network.
func (s *Service) DescribeAccountAttributes(ctx context.Context, in *api.DescribeAccountAttributesRequest) (*api.DescribeAccountAttributesResult, error) {
	d, err := s.ensureDefaults(ctx, scopeOf(ctx))
	if err != nil {
		return nil, err
	}
	attributes := []struct {
		name   string
		values []string
	}{
		{"supported-platforms", []string{"VPC"}},
		{"default-vpc", []string{d.VPCID}},
		{"max-instances", []string{"20"}},
		{"vpc-max-security-groups-per-interface", []string{"5"}},
		{"max-elastic-ips", []string{"5"}},
		{"vpc-max-elastic-ips", []string{"5"}},
	}
	out := &api.DescribeAccountAttributesResult{AccountAttributes: api.AccountAttributeList{}}
	for _, a := range attributes {
		if len(in.AttributeNames) > 0 && !contains(in.AttributeNames, a.name) {
			continue
		}
		values := api.AccountAttributeValueList{}
		for _, v := range a.values {
			values = append(values, api.AccountAttributeValue{AttributeValue: new(v)})
		}
		out.AccountAttributes = append(out.AccountAttributes, api.AccountAttribute{AttributeName: new(a.name), AttributeValues: values})
	}
	return out, nil
}

// regions are the regions DescribeRegions lists: AWS's commercial regions
// enabled by default. Every one of them works in overcast.
var regions = []string{"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
	"ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
	"us-east-1", "us-east-2", "us-west-1", "us-west-2"}

// DescribeRegions lists the regions, with the endpoint names AWS reports.
func (s *Service) DescribeRegions(ctx context.Context, in *api.DescribeRegionsRequest) (*api.DescribeRegionsResult, error) {
	list := regions
	if len(in.RegionNames) > 0 {
		list = nil
		for _, name := range service.Distinct(in.RegionNames) {
			if !contains(regions, name) {
				return nil, badRequest("InvalidParameterValue", "Invalid region: %s", name)
			}
			list = append(list, name)
		}
	}
	list, _, err := describe(list, regionFilters, in.Filters, nil, nil, func(r string) string { return r }, 0, 0)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeRegionsResult{Regions: api.RegionList{}}
	for _, r := range list {
		out.Regions = append(out.Regions, api.Region{RegionName: new(r), Endpoint: new("ec2." + r + ".amazonaws.com"),
			OptInStatus: new("opt-in-not-required")})
	}
	return out, nil
}

var regionFilters = fields[string]{values: map[string]func(string) any{
	"region-name":   func(r string) any { return r },
	"endpoint":      func(r string) any { return "ec2." + r + ".amazonaws.com" },
	"opt-in-status": always[string]("opt-in-not-required"),
}}

// SubnetInfo is a subnet as other services (EFS's mount targets) see it.
type SubnetInfo struct {
	ID, VPCID, AvailabilityZone, CIDR string
}

// ErrSubnetNotFound is Subnet's error for an ID naming no subnet.
var ErrSubnetNotFound = errors.New("ec2: subnet not found")

// Subnet returns a subnet of the account and region, making the default
// network first if this is the first the account asks of the region.
func (s *Service) Subnet(ctx context.Context, account, region, id string) (SubnetInfo, error) {
	sn, err := networkRecord[subnet](ctx, s, account, region, subnetsTable, id, ErrSubnetNotFound)
	if err != nil {
		return SubnetInfo{}, err
	}
	return SubnetInfo{ID: sn.ID, VPCID: sn.VPCID, AvailabilityZone: sn.Zone, CIDR: sn.CIDR}, nil
}

// VPCInfo is a VPC as other services (ELBv2's target groups) see it.
type VPCInfo struct {
	ID, CIDR string
	Default  bool
}

// ErrVPCNotFound is VPC's error for an ID naming no VPC.
var ErrVPCNotFound = errors.New("ec2: vpc not found")

// VPC returns a VPC of the account and region, making the default network
// first if this is the first the account asks of the region.
func (s *Service) VPC(ctx context.Context, account, region, id string) (VPCInfo, error) {
	v, err := networkRecord[vpc](ctx, s, account, region, vpcsTable, id, ErrVPCNotFound)
	return VPCInfo{ID: v.ID, CIDR: v.CIDR, Default: v.Default}, err
}

// ErrSecurityGroupNotFound is SecurityGroupVPC's error for an ID naming
// no security group.
var ErrSecurityGroupNotFound = errors.New("ec2: security group not found")

// SecurityGroupVPC returns the ID of the VPC a security group of the
// account and region belongs to (CodeBuild checks a project's vpcConfig
// with it).
func (s *Service) SecurityGroupVPC(ctx context.Context, account, region, id string) (string, error) {
	g, err := networkRecord[group](ctx, s, account, region, groupsTable, id, ErrSecurityGroupNotFound)
	return g.VPCID, err
}

// networkRecord reads a record of the account's network in a region,
// making the default network first if this is the first the account asks
// of the region.
func networkRecord[T any](ctx context.Context, s *Service, account, region, table, id string, notFound error) (T, error) {
	sc := scope{Account: account, Region: region}
	if _, err := s.ensureDefaults(ctx, sc); err != nil {
		var zero T
		return zero, err
	}
	return viewRecord[T](ctx, s.Store, table, sc, id, notFound)
}
