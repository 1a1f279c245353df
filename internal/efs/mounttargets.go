package efs

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"overcast"
	api "overcast/internal/api/efs"
	"overcast/internal/service"
	"overcast/internal/store"
)

const defaultMountTargetItems = 10

// defaultSubnets stands in for EC2 until the app wires it: every subnet-*
// ID names a subnet of the region's first zone, in a default VPC whose
// addresses are loopback ones, so a mount target's address is reachable
// from the host as the project's addresses are.
type defaultSubnets struct{}

func (defaultSubnets) Subnet(ctx context.Context, account, region, subnetID string) (Subnet, error) {
	if len(subnetID) <= len("subnet-") || subnetID[:len("subnet-")] != "subnet-" {
		return Subnet{}, ErrSubnetNotFound
	}
	return Subnet{ID: subnetID, VPCID: "vpc-00000000000000001", AvailabilityZone: region + "a", CIDR: "127.0.64.0/18"}, nil
}

func getMountTarget(tx store.Tx, sc scope, id string) (*mountTarget, int64, error) {
	var mt mountTarget
	version, err := getRecord(tx, mountTargetKind, sc, id, &mt)
	return &mt, version, err
}

// mountTargetsOf lists a file system's mount targets, of every state.
func mountTargetsOf(tx store.Tx, sc scope, fsID string) ([]mountTarget, error) {
	return store.FilterJSON(tx, mountTargetsTable, store.ScanOptions{Prefix: sc.Prefix()}, func(mt mountTarget) bool { return mt.FileSystemID == fsID })
}

func (s *Service) CreateMountTarget(ctx context.Context, in *api.CreateMountTargetRequest) (*api.MountTargetDescription, error) {
	sc := overcast.ScopeOf(ctx)
	if len(in.SecurityGroups) > maxSecurityGroups {
		return nil, securityGroupLimitExceeded()
	}
	subnet, err := s.subnets.Subnet(ctx, sc.Account, sc.Region, *in.SubnetId)
	if errors.Is(err, ErrSubnetNotFound) {
		return nil, subnetNotFound(*in.SubnetId)
	}
	if err != nil {
		return nil, err
	}
	prefix, err := netip.ParsePrefix(subnet.CIDR)
	if err != nil {
		return nil, fmt.Errorf("efs: subnet %s has CIDR %q: %w", subnet.ID, subnet.CIDR, err)
	}
	var requested netip.Addr
	if in.IpAddress != nil {
		requested, err = netip.ParseAddr(*in.IpAddress)
		if err != nil || !prefix.Contains(requested) {
			return nil, badRequest("IP address %s is not in the range of subnet %s (%s).", *in.IpAddress, subnet.ID, subnet.CIDR)
		}
	}
	mt := &mountTarget{ID: s.IDs.Resource("fsmt"), FileSystemID: *in.FileSystemId, SubnetID: subnet.ID,
		VPCID: subnet.VPCID, AvailabilityZone: subnet.AvailabilityZone, NetworkInterface: s.IDs.Resource("eni"),
		SecurityGroups: in.SecurityGroups, State: stateCreating}
	var out *api.MountTargetDescription
	err = s.update(ctx, func(tx store.Tx) ([]string, error) {
		fs, _, err := getFileSystem(tx, sc, mt.FileSystemID)
		if err != nil {
			return nil, err
		}
		if fs.State != stateAvailable {
			return nil, incorrectFileSystemState(fs)
		}
		if fs.AvailabilityZone != "" && fs.AvailabilityZone != mt.AvailabilityZone {
			return nil, availabilityZonesMismatch(fs, mt)
		}
		used := map[netip.Addr]bool{}
		err = store.ScanJSON(tx, mountTargetsTable, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, o mountTarget, _ int64) error {
			if o.FileSystemID == fs.ID && o.AvailabilityZone == mt.AvailabilityZone {
				return mountTargetConflict()
			}
			if o.FileSystemID == fs.ID && o.VPCID != mt.VPCID {
				return mountTargetConflict()
			}
			if addr, err := netip.ParseAddr(o.IPAddress); err == nil {
				used[addr] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		addr, err := pickAddress(prefix, requested, used, subnet.ID)
		if err != nil {
			return nil, err
		}
		mt.IPAddress = addr.String()
		if _, err := store.PutJSON(tx, mountTargetsTable, sc.Key(mt.ID), mt, 0); err != nil {
			return nil, err
		}
		out = describeMountTarget(sc, mt)
		return []string{lifecycleKey(kindMountTarget, sc, mt.ID)}, nil
	})
	return out, err
}

// pickAddress is the requested address when it is free, or else the first
// free one of the subnet after the four AWS reserves at its start.
func pickAddress(prefix netip.Prefix, requested netip.Addr, used map[netip.Addr]bool, subnetID string) (netip.Addr, error) {
	if requested.IsValid() {
		if used[requested] {
			return netip.Addr{}, ipAddressInUse(requested.String())
		}
		return requested, nil
	}
	addr := prefix.Masked().Addr()
	for range 4 {
		addr = addr.Next()
	}
	for ; prefix.Contains(addr) && prefix.Contains(addr.Next()); addr = addr.Next() {
		if !used[addr] {
			return addr, nil
		}
	}
	return netip.Addr{}, noFreeAddresses(subnetID)
}

func describeMountTarget(sc scope, mt *mountTarget) *api.MountTargetDescription {
	return &api.MountTargetDescription{OwnerId: new(sc.Account), MountTargetId: new(mt.ID),
		FileSystemId: new(mt.FileSystemID), SubnetId: new(mt.SubnetID), LifeCycleState: new(mt.State),
		IpAddress: new(mt.IPAddress), NetworkInterfaceId: new(mt.NetworkInterface),
		AvailabilityZoneName: new(mt.AvailabilityZone), AvailabilityZoneId: new(zoneID(sc.Region, mt.AvailabilityZone)),
		VpcId: new(mt.VPCID)}
}

// zoneID is the zone's ID as AWS names them (use1-az1 for us-east-1a):
// the region's country code, direction and number, and the zone's letter
// as a number.
func zoneID(region, zone string) string {
	parts := strings.Split(region, "-")
	id := parts[0]
	for _, p := range parts[1:] {
		if d, ok := directions[p]; ok {
			id += d
		} else if p != "" {
			id += p[:1]
		}
	}
	letter := 1
	if len(zone) > len(region) {
		letter = int(zone[len(zone)-1]-'a') + 1
	}
	return fmt.Sprintf("%s-az%d", id, letter)
}

var directions = map[string]string{"northeast": "ne", "southeast": "se", "northwest": "nw", "southwest": "sw"}

func (s *Service) DescribeMountTargets(ctx context.Context, in *api.DescribeMountTargetsRequest) (*api.DescribeMountTargetsResponse, error) {
	sc := overcast.ScopeOf(ctx)
	given := 0
	for _, p := range []*string{in.FileSystemId, in.MountTargetId, in.AccessPointId} {
		if p != nil {
			given++
		}
	}
	if given != 1 {
		return nil, badRequest("Must specify exactly one mutually exclusive parameter.")
	}
	out := &api.DescribeMountTargetsResponse{Marker: in.Marker}
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		fsID := service.Deref(in.FileSystemId)
		if in.MountTargetId == nil {
			if in.AccessPointId != nil {
				ap, _, err := getAccessPoint(tx, sc, *in.AccessPointId)
				if err != nil {
					return err
				}
				fsID = ap.FileSystemID
			}
			if _, _, err := getFileSystem(tx, sc, fsID); err != nil {
				return err
			}
		}
		max := service.DerefOr(in.MaxItems, defaultMountTargetItems)
		out.MountTargets, out.NextMarker, err = describeRecords(tx, sc, mountTargetKind, in.MountTargetId, in.Marker, &max,
			func(mt *mountTarget) bool { return mt.FileSystemID == fsID },
			func(mt *mountTarget) (*api.MountTargetDescription, error) { return describeMountTarget(sc, mt), nil })
		return err
	})
	return out, err
}

func (s *Service) DeleteMountTarget(ctx context.Context, in *api.DeleteMountTargetRequest) error {
	return s.deleteRecord(ctx, mountTargetKind, *in.MountTargetId, nil)
}

func (s *Service) DescribeMountTargetSecurityGroups(ctx context.Context, in *api.DescribeMountTargetSecurityGroupsRequest) (*api.DescribeMountTargetSecurityGroupsResponse, error) {
	sc := overcast.ScopeOf(ctx)
	var mt *mountTarget
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		mt, _, err = getMountTarget(tx, sc, *in.MountTargetId)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.DescribeMountTargetSecurityGroupsResponse{SecurityGroups: append(api.SecurityGroups{}, mt.SecurityGroups...)}, nil
}

func (s *Service) ModifyMountTargetSecurityGroups(ctx context.Context, in *api.ModifyMountTargetSecurityGroupsRequest) error {
	sc := overcast.ScopeOf(ctx)
	if len(in.SecurityGroups) > maxSecurityGroups {
		return securityGroupLimitExceeded()
	}
	return s.update(ctx, func(tx store.Tx) ([]string, error) {
		mt, version, err := getMountTarget(tx, sc, *in.MountTargetId)
		if err != nil {
			return nil, err
		}
		if mt.State != stateAvailable {
			return nil, incorrectMountTargetState(mt)
		}
		mt.SecurityGroups = in.SecurityGroups
		_, err = store.PutJSON(tx, mountTargetsTable, sc.Key(mt.ID), mt, version)
		return nil, err
	})
}
