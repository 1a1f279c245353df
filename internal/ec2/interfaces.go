package ec2

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	api "overcast/internal/api/ec2"
	"overcast/internal/service"
	"overcast/internal/store"
)

// interfacesTable holds one record per network interface, keyed by scope and ID.
const interfacesTable = "ec2.interfaces"

// networkInterface is an ENI: an instance's primary interface, one made by
// CreateNetworkInterface, or an ECS awsvpc task's. It holds one private IP
// of its subnet for as long as it exists.
type networkInterface struct {
	ID          string   `json:"id"`
	SubnetID    string   `json:"subnetId"`
	VPCID       string   `json:"vpcId"`
	Zone        string   `json:"zone"`
	PrivateIP   string   `json:"privateIp"`
	MAC         string   `json:"mac"`
	Groups      []string `json:"groups,omitempty"`
	Description string   `json:"description,omitempty"`
	// InstanceID is the instance the interface is attached to, if any.
	InstanceID   string    `json:"instanceId,omitempty"`
	AttachmentID string    `json:"attachmentId,omitempty"`
	AttachTime   time.Time `json:"attachTime,omitzero"`
	// RequesterManaged marks an interface another service made and
	// manages (an ECS task's): users cannot delete it.
	RequesterManaged bool              `json:"requesterManaged,omitempty"`
	Tags             map[string]string `json:"tags,omitempty"`
	// Request is the requester's key in requesterTable, if it has one.
	Request string `json:"request,omitempty"`
}

func (n networkInterface) status() string {
	if n.InstanceID != "" || n.RequesterManaged {
		return "in-use"
	}
	return "available"
}

// newInterface allocates an address of sn and records an interface
// holding it.
func (s *Service) newInterface(tx store.Tx, sc scope, sn subnet, groups []string, description string, tags map[string]string) (networkInterface, error) {
	n := networkInterface{ID: s.IDs.Resource("eni"), SubnetID: sn.ID, VPCID: sn.VPCID, Zone: sn.Zone, Groups: groups,
		Description: description, Tags: tags, MAC: s.newMAC()}
	ip, err := allocateAddress(tx, sc, sn, n.ID, binary.BigEndian.Uint32(s.IDs.Bytes(4)))
	if err != nil {
		return n, err
	}
	n.PrivateIP = ip
	_, err = store.PutJSON(tx, interfacesTable, sc.Key(n.ID), n, 0)
	return n, err
}

// deleteInterface deletes an interface and frees its address.
func deleteInterface(tx store.Tx, sc scope, n networkInterface) error {
	if err := releaseAddress(tx, sc, n.SubnetID, n.PrivateIP); err != nil {
		return err
	}
	if n.Request != "" {
		if err := tx.Delete(requesterTable, n.Request, store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	err := tx.Delete(interfacesTable, sc.Key(n.ID), store.AnyVersion)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// newMAC is a locally administered unicast MAC address, like AWS's
// (0e:..., 02:..., 12:...).
func (s *Service) newMAC() string {
	b := s.IDs.Bytes(5)
	return fmt.Sprintf("0e:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4])
}

// subnetAndGroups reads a subnet and checks groups: each must exist and
// belong to the subnet's VPC. No groups means the VPC's default group.
func subnetAndGroups(tx store.Tx, sc scope, d defaults, subnetID string, groups []string) (subnet, []string, error) {
	var sn subnet
	if !wellFormed(subnetID, "subnet") {
		return sn, nil, malformed("InvalidSubnetID.Malformed", subnetID, "subnet")
	}
	if _, err := store.GetJSON(tx, subnetsTable, sc.Key(subnetID), &sn); errors.Is(err, store.ErrNotFound) {
		return sn, nil, notFound("InvalidSubnetID.NotFound", "subnet", []string{subnetID})
	} else if err != nil {
		return sn, nil, err
	}
	if len(groups) == 0 {
		if sn.VPCID != d.VPCID {
			g, _, err := groupByName(tx, sc, sn.VPCID, "default")
			return sn, []string{g.ID}, err
		}
		return sn, []string{d.GroupID}, nil
	}
	groups = service.Distinct(groups)
	for _, id := range groups {
		var g group
		if !wellFormed(id, "sg") {
			return sn, nil, malformed("InvalidGroupId.Malformed", id, "sg")
		}
		if _, err := store.GetJSON(tx, groupsTable, sc.Key(id), &g); errors.Is(err, store.ErrNotFound) {
			return sn, nil, groupNotFound(id)
		} else if err != nil {
			return sn, nil, err
		}
		if g.VPCID != sn.VPCID {
			return sn, nil, badRequest("InvalidParameter", "Security group %s and subnet %s belong to different networks.", id, sn.ID)
		}
	}
	return sn, groups, nil
}

// CreateNetworkInterface makes an interface in a subnet.
func (s *Service) CreateNetworkInterface(ctx context.Context, in *api.CreateNetworkInterfaceRequest) (*api.CreateNetworkInterfaceResult, error) {
	sc := scopeOf(ctx)
	d, err := s.ensureDefaults(ctx, sc)
	if err != nil {
		return nil, err
	}
	tags, err := specTags(in.TagSpecifications, "network-interface")
	if err != nil {
		return nil, err
	}
	if in.PrivateIpAddress != nil || len(in.PrivateIpAddresses) > 0 || in.SecondaryPrivateIpAddressCount != nil {
		return nil, badRequest("InvalidParameterValue", "Choosing private IP addresses is not supported; one is allocated from the subnet")
	}
	var n networkInterface
	var groupNames map[string]string
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		sn, groups, err := subnetAndGroups(tx, sc, d, *in.SubnetId, in.Groups)
		if err != nil {
			return err
		}
		if n, err = s.newInterface(tx, sc, sn, groups, service.Deref(in.Description), tags); err != nil {
			return err
		}
		groupNames, err = namesOf(tx, sc, n.Groups)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateNetworkInterfaceResult{NetworkInterface: interfaceView(sc, n, groupNames), ClientToken: in.ClientToken}, nil
}

// namesOf maps group IDs to their names.
func namesOf(tx store.Tx, sc scope, ids []string) (map[string]string, error) {
	names := map[string]string{}
	for _, id := range ids {
		var g group
		if _, err := store.GetJSON(tx, groupsTable, sc.Key(id), &g); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		names[id] = g.Name
	}
	return names, nil
}

func groupIdentifiers(ids []string, names map[string]string) api.GroupIdentifierList {
	out := api.GroupIdentifierList{}
	for _, id := range ids {
		out = append(out, api.GroupIdentifier{GroupId: new(id), GroupName: new(names[id])})
	}
	return out
}

func interfaceView(sc scope, n networkInterface, groupNames map[string]string) *api.NetworkInterface {
	dns := privateDNSName(sc.Region, n.PrivateIP)
	v := &api.NetworkInterface{NetworkInterfaceId: new(n.ID), SubnetId: new(n.SubnetID), VpcId: new(n.VPCID),
		AvailabilityZone: new(n.Zone), AvailabilityZoneId: new(zoneID(n.Zone)), Description: new(n.Description),
		Groups: groupIdentifiers(n.Groups, groupNames), InterfaceType: new("interface"), MacAddress: new(n.MAC),
		OwnerId: new(sc.Account), PrivateDnsName: new(dns), PrivateIpAddress: new(n.PrivateIP),
		PrivateIpAddresses: api.NetworkInterfacePrivateIpAddressList{{Primary: new(true), PrivateDnsName: new(dns),
			PrivateIpAddress: new(n.PrivateIP)}},
		RequesterManaged: new(n.RequesterManaged), SourceDestCheck: new(true), Status: new(n.status()), TagSet: apiTags(n.Tags),
		Ipv6Addresses: api.NetworkInterfaceIpv6AddressesList{}, Ipv4Prefixes: api.Ipv4PrefixesList{},
		Ipv6Prefixes: api.Ipv6PrefixesList{}, DenyAllIgwTraffic: new(false), Ipv6Native: new(false)}
	if n.RequesterManaged {
		v.RequesterId = new(sc.Account)
	}
	if n.InstanceID != "" {
		v.Attachment = &api.NetworkInterfaceAttachment{AttachmentId: new(n.AttachmentID), AttachTime: new(n.AttachTime),
			DeleteOnTermination: new(true), DeviceIndex: new(int32(0)), NetworkCardIndex: new(int32(0)),
			InstanceId: new(n.InstanceID), InstanceOwnerId: new(sc.Account), Status: new("attached")}
	}
	return v
}

// DescribeNetworkInterfaces lists the scope's interfaces.
func (s *Service) DescribeNetworkInterfaces(ctx context.Context, in *api.DescribeNetworkInterfacesRequest) (*api.DescribeNetworkInterfacesResult, error) {
	sc := scopeOf(ctx)
	if err := checkIDs(in.NetworkInterfaceIds, "eni", "InvalidNetworkInterfaceID.Malformed"); err != nil {
		return nil, err
	}
	var list []networkInterface
	names := map[string]string{}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		list, err = loadAll[networkInterface](tx, interfacesTable, sc, in.NetworkInterfaceIds, "InvalidNetworkInterfaceID.NotFound", "networkInterface")
		for _, n := range list {
			if err != nil {
				break
			}
			var more map[string]string
			more, err = namesOf(tx, sc, n.Groups)
			for k, v := range more {
				names[k] = v
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	views, next, err := describeViews(list, interfaceFilter(sc, names), in.Filters, in.NextToken, in.MaxResults,
		func(n networkInterface) string { return n.ID },
		func(n networkInterface) api.NetworkInterface { return *interfaceView(sc, n, names) })
	if err != nil {
		return nil, err
	}
	return &api.DescribeNetworkInterfacesResult{NextToken: next, NetworkInterfaces: views}, nil
}

func interfaceFilter(sc scope, groupNames map[string]string) fields[networkInterface] {
	return fields[networkInterface]{values: map[string]func(networkInterface) any{
		"network-interface-id": func(n networkInterface) any { return n.ID },
		"subnet-id":            func(n networkInterface) any { return n.SubnetID },
		"vpc-id":               func(n networkInterface) any { return n.VPCID },
		"availability-zone":    func(n networkInterface) any { return n.Zone },
		"private-ip-address":   func(n networkInterface) any { return n.PrivateIP },
		"private-dns-name":     func(n networkInterface) any { return privateDNSName(sc.Region, n.PrivateIP) },
		"mac-address":          func(n networkInterface) any { return n.MAC },
		"description":          func(n networkInterface) any { return n.Description },
		"status":               func(n networkInterface) any { return n.status() },
		"group-id":             func(n networkInterface) any { return n.Groups },
		"group-name": func(n networkInterface) any {
			var names []string
			for _, id := range n.Groups {
				names = append(names, groupNames[id])
			}
			return names
		},
		"attachment.instance-id": func(n networkInterface) any { return n.InstanceID },
		"attachment.status": func(n networkInterface) any {
			if n.InstanceID != "" {
				return "attached"
			}
			return nil
		},
		"owner-id":          always[networkInterface](sc.Account),
		"requester-managed": func(n networkInterface) any { return n.RequesterManaged },
		"interface-type":    always[networkInterface]("interface"),
	}, aliases: map[string]string{
		"addresses.private-ip-address": "private-ip-address",
	}, tags: func(n networkInterface) map[string]string { return n.Tags }}
}

// DeleteNetworkInterface deletes an interface that is not in use.
func (s *Service) DeleteNetworkInterface(ctx context.Context, in *api.DeleteNetworkInterfaceRequest) error {
	sc := scopeOf(ctx)
	id := service.Deref(in.NetworkInterfaceId)
	if id == "" {
		return missingParameter("NetworkInterfaceId")
	}
	if !wellFormed(id, "eni") {
		return malformed("InvalidNetworkInterfaceID.Malformed", id, "eni")
	}
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		n, err := getInterface(tx, sc, id)
		if err != nil {
			return err
		}
		if n.status() == "in-use" {
			return badRequest("InvalidNetworkInterface.InUse", "The interface %s is currently in use.", id)
		}
		return deleteInterface(tx, sc, n)
	})
}

func getInterface(tx store.Tx, sc scope, id string) (networkInterface, error) {
	var n networkInterface
	_, err := store.GetJSON(tx, interfacesTable, sc.Key(id), &n)
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface", []string{id})
	}
	return n, err
}

// NetworkInterfaceInfo is an interface as other services (ECS's awsvpc
// tasks) see it.
type NetworkInterfaceInfo struct {
	ID               string
	SubnetID         string
	VPCID            string
	AvailabilityZone string
	PrivateIP        string
	PrivateDNSName   string
	MAC              string
}

// requesterTable indexes requester-managed interfaces by what they
// were made for: key scope/subnet|description (the subnet as asked,
// maybe empty), value the interface ID.
const requesterTable = "ec2.requester"

// AttachTaskInterface makes a requester-managed interface in a subnet of
// account's region for a task (ECS's awsvpc network mode): it holds its own
// address, from the same allocator as instances', until ReleaseInterface.
// No security groups means the VPC's default group. The description and
// subnet name what the interface is for, once: asking again for the same
// returns the interface made the first time, so a caller that crashed
// before recording it does not leak it.
func (s *Service) AttachTaskInterface(ctx context.Context, account, region, subnetID string, securityGroups []string, description string) (NetworkInterfaceInfo, error) {
	sc := scope{Account: account, Region: region}
	d, err := s.ensureDefaults(ctx, sc)
	if err != nil {
		return NetworkInterfaceInfo{}, err
	}
	var n networkInterface
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		request := sc.Key(subnetID + "|" + description)
		var made string
		if _, err := store.GetJSON(tx, requesterTable, request, &made); err == nil && description != "" {
			if _, err := store.GetJSON(tx, interfacesTable, sc.Key(made), &n); err == nil {
				return nil
			}
		}
		sn, groups, err := subnetAndGroups(tx, sc, d, subnetID, securityGroups)
		if err != nil {
			return err
		}
		n, err = s.newInterface(tx, sc, sn, groups, description, nil)
		if err != nil {
			return err
		}
		n.RequesterManaged = true
		if description != "" {
			n.Request = request
			if _, err := store.PutJSON(tx, requesterTable, request, n.ID, store.AnyVersion); err != nil {
				return err
			}
		}
		_, err = store.PutJSON(tx, interfacesTable, sc.Key(n.ID), n, store.AnyVersion)
		return err
	})
	if err != nil {
		return NetworkInterfaceInfo{}, err
	}
	return NetworkInterfaceInfo{ID: n.ID, SubnetID: n.SubnetID, VPCID: n.VPCID, AvailabilityZone: n.Zone, PrivateIP: n.PrivateIP,
		PrivateDNSName: privateDNSName(region, n.PrivateIP), MAC: n.MAC}, nil
}

// ReleaseInterface deletes a task's interface and frees its address. An
// interface already gone is not an error: releasing is idempotent.
func (s *Service) ReleaseInterface(ctx context.Context, account, region, eniID string) error {
	sc := scope{Account: account, Region: region}
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var n networkInterface
		_, err := store.GetJSON(tx, interfacesTable, sc.Key(eniID), &n)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return deleteInterface(tx, sc, n)
	})
}
