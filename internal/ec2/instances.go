package ec2

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	api "overcast/internal/api/ec2"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Instance states and the codes AWS reports with them.
const (
	statePending      = "pending"
	stateRunning      = "running"
	stateShuttingDown = "shutting-down"
	stateTerminated   = "terminated"
	stateStopping     = "stopping"
	stateStopped      = "stopped"
)

var stateCodes = map[string]int32{statePending: 0, stateRunning: 16, stateShuttingDown: 32, stateTerminated: 48,
	stateStopping: 64, stateStopped: 80}

func apiState(name string) *api.InstanceState {
	return &api.InstanceState{Code: new(stateCodes[name]), Name: new(name)}
}

// terminatedVisibility is how long a terminated instance stays visible to
// Describe calls, as on AWS (about an hour).
const terminatedVisibility = time.Hour

// maxUserData is AWS's limit on user data, before base64.
const maxUserData = 16 * 1024

// instancesTable holds one record per instance, keyed by scope and ID.
const instancesTable = "ec2.instances"

// instance is a virtual host: a record whose state the lifecycle
// controller moves, holding a primary network interface and its address.
type instance struct {
	ID            string `json:"id"`
	ReservationID string `json:"reservationId"`
	LaunchIndex   int32  `json:"launchIndex"`
	Type          string `json:"type"`
	ImageID       string `json:"imageId"`
	State         string `json:"state"`
	// Reason is StateTransitionReason, and StateReason the code and
	// message AWS reports for user-initiated stops and terminations.
	Reason       string            `json:"reason,omitempty"`
	StateReason  string            `json:"stateReason,omitempty"`
	SubnetID     string            `json:"subnetId"`
	VPCID        string            `json:"vpcId"`
	Zone         string            `json:"zone"`
	InterfaceID  string            `json:"interfaceId"`
	AttachmentID string            `json:"attachmentId"`
	PrivateIP    string            `json:"privateIp"`
	MAC          string            `json:"mac"`
	Groups       []groupRef        `json:"groups"`
	UserData     []byte            `json:"userData,omitempty"`
	ProfileARN   string            `json:"profileArn,omitempty"`
	ProfileID    string            `json:"profileId,omitempty"`
	KeyName      string            `json:"keyName,omitempty"`
	ClientToken  string            `json:"clientToken,omitempty"`
	LaunchTime   time.Time         `json:"launchTime"`
	Created      time.Time         `json:"created"`
	Tags         map[string]string `json:"tags,omitempty"`
	// Ended is when the instance became terminated: it is forgotten
	// terminatedVisibility later.
	Ended time.Time `json:"ended,omitzero"`
}

// groupRef is a security group as an instance reports it; a group's name
// never changes, so it is kept with the ID.
type groupRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (i instance) groupIDs() []string {
	var ids []string
	for _, g := range i.Groups {
		ids = append(ids, g.ID)
	}
	return ids
}

// RunInstances launches instances of a built-in image.
func (s *Service) RunInstances(ctx context.Context, in *api.RunInstancesRequest) (*api.Reservation, error) {
	sc := scopeOf(ctx)
	d, err := s.ensureDefaults(ctx, sc)
	if err != nil {
		return nil, err
	}
	spec, err := s.launchSpec(ctx, sc, d, in)
	if err != nil {
		return nil, err
	}
	var launched []instance
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		launched = nil
		if spec.ClientToken != "" {
			if launched, err = byClientToken(tx, sc, spec.ClientToken); err != nil || len(launched) > 0 {
				return err
			}
		}
		sn, groups, err := subnetAndGroups(tx, sc, d, spec.SubnetID, spec.groupIDs())
		if err != nil {
			return err
		}
		if spec.Groups, err = groupRefs(tx, sc, groups); err != nil {
			return err
		}
		free, err := availableAddresses(tx, sc, sn)
		if err != nil {
			return err
		}
		count := min(int(*in.MaxCount), free)
		if count < int(*in.MinCount) {
			return badRequest("InsufficientFreeAddressesInSubnet",
				"There are not enough free addresses in subnet '%s' to satisfy the requested number of instances.", sn.ID)
		}
		reservation := s.IDs.Resource("r")
		for n := range count {
			inst := spec.instance
			inst.ID, inst.ReservationID, inst.LaunchIndex = s.IDs.Resource("i"), reservation, int32(n)
			inst.SubnetID, inst.VPCID, inst.Zone = sn.ID, sn.VPCID, sn.Zone
			eni, err := s.newInterface(tx, sc, sn, groups, "", spec.interfaceTags)
			if err != nil {
				return err
			}
			eni.InstanceID, eni.AttachmentID, eni.AttachTime = inst.ID, "eni-attach-"+s.IDs.Hex(17), inst.LaunchTime
			if _, err := store.PutJSON(tx, interfacesTable, sc.Key(eni.ID), eni, store.AnyVersion); err != nil {
				return err
			}
			inst.InterfaceID, inst.AttachmentID, inst.PrivateIP, inst.MAC = eni.ID, eni.AttachmentID, eni.PrivateIP, eni.MAC
			if err := s.putInstance(ctx, tx, sc, &inst, statePending, 0); err != nil {
				return err
			}
			launched = append(launched, inst)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.Bus.Notify()
	for _, inst := range launched {
		s.lifecycle.Enqueue(sc.Key(inst.ID))
	}
	out := &api.Reservation{ReservationId: new(launched[0].ReservationID), OwnerId: new(sc.Account),
		Groups: api.GroupIdentifierList{}, Instances: api.InstanceList{}}
	for _, inst := range launched {
		out.Instances = append(out.Instances, instanceView(sc, inst))
	}
	return out, nil
}

// defaultInstanceType is what RunInstances launches when the request names
// no type, as AWS does.
const defaultInstanceType = "m1.small"

// launchSpec checks a RunInstances request against what needs no
// transaction, returning the instance every launched one starts from.
type launchSpec struct {
	instance
	groupNames    []string
	interfaceTags map[string]string
}

func (s *Service) launchSpec(ctx context.Context, sc scope, d defaults, in *api.RunInstancesRequest) (launchSpec, error) {
	var spec launchSpec
	if in.ImageId == nil {
		return spec, missingParameter("ImageId")
	}
	if !wellFormed(*in.ImageId, "ami") {
		return spec, malformed("InvalidAMIID.Malformed", *in.ImageId, "ami")
	}
	im, ok := imageByID(*in.ImageId)
	if !ok {
		return spec, imageNotFound([]string{*in.ImageId})
	}
	typeName := cmp.Or(service.Deref(in.InstanceType), defaultInstanceType)
	it, ok := instanceTypes[typeName]
	if !ok {
		return spec, invalidParameterValue("Invalid value '%s' for InstanceType.", typeName)
	}
	if it.Architecture() != im.Arch {
		return spec, invalidParameterValue("The architecture '%s' of the specified instance type does not match the architecture '%s' of the specified AMI. "+
			"Specify an instance type and an AMI that have matching architectures, and try again. "+
			"You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI.",
			it.Architecture(), im.Arch)
	}
	switch {
	case *in.MinCount < 1:
		return spec, invalidParameterValue("Value (%d) for parameter minCount is invalid. Expected a value greater than 0.", *in.MinCount)
	case *in.MaxCount < *in.MinCount:
		return spec, invalidParameterValue("Value (%d) for parameter maxCount is invalid. Expected a value greater than or equal to minCount (%d).",
			*in.MaxCount, *in.MinCount)
	}
	var userData []byte
	if in.UserData != nil {
		var err error
		if userData, err = base64.StdEncoding.DecodeString(*in.UserData); err != nil {
			return spec, invalidParameterValue("Invalid BASE64 encoding of user data.")
		}
		if len(userData) > maxUserData {
			return spec, invalidParameterValue("User data is limited to %d bytes", maxUserData)
		}
	}
	tags, err := specTags(in.TagSpecifications, "instance", "network-interface", "volume")
	if err != nil {
		return spec, err
	}
	if reserved := reservedTagsOf(ctx); len(reserved) > 0 {
		if tags == nil {
			tags = map[string]string{}
		}
		maps.Copy(tags, reserved)
	}
	if spec.interfaceTags, err = specTags(in.TagSpecifications, "network-interface", "instance", "volume"); err != nil {
		return spec, err
	}
	profileARN, err := s.instanceProfile(ctx, sc, in.IamInstanceProfile)
	if err != nil {
		return spec, err
	}
	now := s.Now().UTC()
	spec.instance = instance{Type: typeName, ImageID: im.ID, UserData: userData, ProfileARN: profileARN,
		KeyName: service.Deref(in.KeyName), ClientToken: service.Deref(in.ClientToken), LaunchTime: now, Created: now, Tags: tags}
	if profileARN != "" {
		spec.ProfileID = "AIPA" + strings.ToUpper(s.IDs.Hex(17))
	}
	spec.SubnetID = service.Deref(in.SubnetId)
	groups := slices.Clone(in.SecurityGroupIds)
	if len(in.NetworkInterfaces) > 0 {
		primary := in.NetworkInterfaces[0]
		if primary.SubnetId != nil {
			spec.SubnetID = *primary.SubnetId
		}
		groups = append(groups, primary.Groups...)
	}
	spec.Groups = nil
	for _, id := range groups {
		spec.Groups = append(spec.Groups, groupRef{ID: id})
	}
	spec.groupNames = in.SecurityGroups
	if spec.SubnetID == "" {
		spec.SubnetID = d.Subnets[0]
		if in.Placement != nil && in.Placement.AvailabilityZone != nil {
			i := slices.Index(zoneSuffixes, strings.TrimPrefix(*in.Placement.AvailabilityZone, sc.Region))
			if !strings.HasPrefix(*in.Placement.AvailabilityZone, sc.Region) || i < 0 {
				return spec, invalidParameterValue("Invalid availability zone: [%s]", *in.Placement.AvailabilityZone)
			}
			spec.SubnetID = d.Subnets[i]
		}
	}
	if len(spec.groupNames) > 0 {
		err := s.Store.View(ctx, func(tx store.Tx) error {
			for _, name := range spec.groupNames {
				g, ok, err := groupByName(tx, sc, d.VPCID, name)
				if err == nil && !ok {
					err = groupNameNotFound(name, d.VPCID)
				}
				if err != nil {
					return err
				}
				spec.Groups = append(spec.Groups, groupRef{ID: g.ID})
			}
			return nil
		})
		if err != nil {
			return spec, err
		}
	}
	return spec, nil
}

// instanceProfile resolves RunInstances' IamInstanceProfile to an ARN.
func (s *Service) instanceProfile(ctx context.Context, sc scope, p *api.IamInstanceProfileSpecification) (string, error) {
	if p == nil || (p.Arn == nil && p.Name == nil) {
		return "", nil
	}
	field, value := "iamInstanceProfile.name", service.Deref(p.Name)
	if p.Arn != nil {
		field, value = "iamInstanceProfile.arn", *p.Arn
	}
	invalid := invalidParameterValue("Value (%s) for parameter %s is invalid. Invalid IAM Instance Profile %s", value, field,
		map[bool]string{true: "ARN", false: "name"}[p.Arn != nil])
	if s.profiles == nil {
		if p.Arn != nil {
			if !strings.HasPrefix(*p.Arn, "arn:aws:iam::") || !strings.Contains(*p.Arn, ":instance-profile/") {
				return "", invalid
			}
			return *p.Arn, nil
		}
		return "arn:aws:iam::" + sc.Account + ":instance-profile/" + value, nil
	}
	arn, ok, err := s.profiles.InstanceProfileARN(ctx, sc.Account, value)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", invalid
	}
	return arn, nil
}

func (spec launchSpec) groupIDs() []string { return spec.instance.groupIDs() }

func groupRefs(tx store.Tx, sc scope, ids []string) ([]groupRef, error) {
	names, err := namesOf(tx, sc, ids)
	var refs []groupRef
	for _, id := range ids {
		refs = append(refs, groupRef{ID: id, Name: names[id]})
	}
	return refs, err
}

func byClientToken(tx store.Tx, sc scope, token string) ([]instance, error) {
	out, err := store.FilterJSON(tx, instancesTable, store.ScanOptions{Prefix: sc.Prefix()}, func(i instance) bool { return i.ClientToken == token })
	slices.SortFunc(out, func(a, b instance) int { return int(a.LaunchIndex - b.LaunchIndex) })
	return out, err
}

// instanceARN is the ARN AWS's events name an instance by.
func instanceARN(sc scope, id string) string { return resourceARN(sc, "instance", id) }

// resourceARN is the ARN of EC2's resource id of a type ("subnet",
// "security-group"): "<type>/<id>".
func resourceARN(sc scope, resourceType, id string) string { return sc.ARN("ec2", resourceType+"/"+id) }

func instanceView(sc scope, i instance) api.Instance {
	it := instanceTypes[i.Type]
	v := api.Instance{InstanceId: new(i.ID), ImageId: new(i.ImageID), InstanceType: new(i.Type), State: apiState(i.State),
		StateTransitionReason: new(i.Reason), AmiLaunchIndex: new(i.LaunchIndex), LaunchTime: new(i.LaunchTime),
		Architecture: new(it.Architecture()), Hypervisor: new("xen"), VirtualizationType: new("hvm"),
		RootDeviceType: new("ebs"), RootDeviceName: new("/dev/xvda"), EbsOptimized: new(false), EnaSupport: new(true),
		SourceDestCheck: new(true), PublicDnsName: new(""), ClientToken: new(i.ClientToken), Tags: apiTags(i.Tags),
		Placement:  &api.Placement{AvailabilityZone: new(i.Zone), AvailabilityZoneId: new(zoneID(i.Zone)), GroupName: new(""), Tenancy: new("default")},
		Monitoring: &api.Monitoring{State: new("disabled")}, ProductCodes: api.ProductCodeList{},
		BlockDeviceMappings: api.InstanceBlockDeviceMappingList{}, PlatformDetails: new("Linux/UNIX"),
		UsageOperation: new("RunInstances"), UsageOperationUpdateTime: new(i.Created), BootMode: new("uefi-preferred"),
		CurrentInstanceBootMode: new("legacy-bios"),
		CpuOptions:              &api.CpuOptions{CoreCount: new(int32(it.VCPUs)), ThreadsPerCore: new(int32(1))},
		MetadataOptions: &api.InstanceMetadataOptionsResponse{State: new("applied"), HttpTokens: new("required"),
			HttpPutResponseHopLimit: new(int32(2)), HttpEndpoint: new("enabled"), HttpProtocolIpv6: new("disabled"),
			InstanceMetadataTags: new("disabled")},
		SecurityGroups: api.GroupIdentifierList{}, NetworkInterfaces: api.InstanceNetworkInterfaceList{}}
	v.KeyName = service.OmitZero(i.KeyName)
	if i.ProfileARN != "" {
		v.IamInstanceProfile = &api.IamInstanceProfile{Arn: new(i.ProfileARN), Id: new(i.ProfileID)}
	}
	if i.StateReason != "" {
		v.StateReason = &api.StateReason{Code: new(i.StateReason), Message: new(stateReasonMessages[i.StateReason])}
	}
	if i.State == stateTerminated {
		// A terminated instance has left its network: AWS reports no
		// subnet, VPC, address, interface or group for it.
		v.PrivateDnsName = new("")
		return v
	}
	names := map[string]string{}
	for _, g := range i.Groups {
		names[g.ID] = g.Name
	}
	groups := groupIdentifiers(i.groupIDs(), names)
	dns := privateDNSName(sc.Region, i.PrivateIP)
	v.SubnetId, v.VpcId, v.PrivateIpAddress, v.PrivateDnsName, v.SecurityGroups = new(i.SubnetID), new(i.VPCID), new(i.PrivateIP), new(dns), groups
	v.PrivateDnsNameOptions = &api.PrivateDnsNameOptionsResponse{HostnameType: new("ip-name"),
		EnableResourceNameDnsARecord: new(false), EnableResourceNameDnsAAAARecord: new(false)}
	v.NetworkInterfaces = api.InstanceNetworkInterfaceList{{NetworkInterfaceId: new(i.InterfaceID), SubnetId: new(i.SubnetID),
		VpcId: new(i.VPCID), MacAddress: new(i.MAC), OwnerId: new(sc.Account), PrivateIpAddress: new(i.PrivateIP),
		PrivateDnsName: new(dns), Description: new(""), Groups: groups, SourceDestCheck: new(true), Status: new("in-use"),
		InterfaceType: new("interface"), Ipv6Addresses: api.InstanceIpv6AddressList{},
		PrivateIpAddresses: api.InstancePrivateIpAddressList{{Primary: new(true), PrivateIpAddress: new(i.PrivateIP), PrivateDnsName: new(dns)}},
		Attachment: &api.InstanceNetworkInterfaceAttachment{AttachmentId: new(i.AttachmentID), AttachTime: new(i.Created),
			DeleteOnTermination: new(true), DeviceIndex: new(int32(0)), NetworkCardIndex: new(int32(0)), Status: new("attached")}}}
	return v
}

var stateReasonMessages = map[string]string{
	"Client.UserInitiatedShutdown": "Client.UserInitiatedShutdown: User initiated shutdown",
	"pending":                      "pending",
}

// loadInstances reads the scope's instances, or the ones ids name.
func (s *Service) loadInstances(ctx context.Context, sc scope, ids []string) ([]instance, error) {
	if err := checkIDs(ids, "i", "InvalidInstanceID.Malformed"); err != nil {
		return nil, err
	}
	var list []instance
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		list, err = loadAll[instance](tx, instancesTable, sc, ids, "InvalidInstanceID.NotFound", "instance")
		return err
	})
	return list, err
}

// DescribeInstances lists instances by reservation.
func (s *Service) DescribeInstances(ctx context.Context, in *api.DescribeInstancesRequest) (*api.DescribeInstancesResult, error) {
	sc := scopeOf(ctx)
	if len(in.InstanceIds) > 0 && in.MaxResults != nil {
		return nil, badRequest("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	list, err := s.loadInstances(ctx, sc, in.InstanceIds)
	if err != nil {
		return nil, err
	}
	page, next, err := describe(list, instanceFilter(sc), in.Filters, in.NextToken, in.MaxResults, func(i instance) string { return i.ID }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeInstancesResult{NextToken: next, Reservations: api.ReservationList{}}
	index := map[string]int{}
	for _, i := range page {
		n, ok := index[i.ReservationID]
		if !ok {
			n = len(out.Reservations)
			index[i.ReservationID] = n
			out.Reservations = append(out.Reservations, api.Reservation{ReservationId: new(i.ReservationID),
				OwnerId: new(sc.Account), Groups: api.GroupIdentifierList{}, Instances: api.InstanceList{}})
		}
		out.Reservations[n].Instances = append(out.Reservations[n].Instances, instanceView(sc, i))
	}
	return out, nil
}

func instanceFilter(sc scope) fields[instance] {
	// live is a filter of the instance's network, which a terminated
	// instance no longer has.
	live := func(value func(i instance) string) func(instance) any {
		return func(i instance) any {
			if i.State == stateTerminated {
				return nil
			}
			return value(i)
		}
	}
	groupNames := func(i instance) any {
		var names []string
		for _, g := range i.Groups {
			names = append(names, g.Name)
		}
		return names
	}
	return fields[instance]{values: map[string]func(instance) any{
		"instance-id":                            func(i instance) any { return i.ID },
		"instance-state-name":                    func(i instance) any { return i.State },
		"instance-state-code":                    func(i instance) any { return stateCodes[i.State] },
		"instance-type":                          func(i instance) any { return i.Type },
		"image-id":                               func(i instance) any { return i.ImageID },
		"reservation-id":                         func(i instance) any { return i.ReservationID },
		"availability-zone":                      func(i instance) any { return i.Zone },
		"subnet-id":                              live(func(i instance) string { return i.SubnetID }),
		"vpc-id":                                 live(func(i instance) string { return i.VPCID }),
		"private-ip-address":                     live(func(i instance) string { return i.PrivateIP }),
		"private-dns-name":                       live(func(i instance) string { return privateDNSName(sc.Region, i.PrivateIP) }),
		"network-interface.network-interface-id": live(func(i instance) string { return i.InterfaceID }),
		"group-id":                               func(i instance) any { return i.groupIDs() },
		"group-name":                             groupNames,
		"key-name":                               func(i instance) any { return i.KeyName },
		"iam-instance-profile.arn":               func(i instance) any { return i.ProfileARN },
		"architecture":                           func(i instance) any { return instanceTypes[i.Type].Architecture() },
		"launch-index":                           func(i instance) any { return i.LaunchIndex },
		"owner-id":                               always[instance](sc.Account),
		"client-token":                           func(i instance) any { return i.ClientToken },
	}, aliases: map[string]string{
		"network-interface.addresses.private-ip-address": "private-ip-address",
		"instance.group-id":   "group-id",
		"instance.group-name": "group-name",
	}, tags: func(i instance) map[string]string { return i.Tags }}
}

// transitions says, for a request that changes instances' state, what each
// current state becomes (a state absent is refused; the same state is a
// no-op).
type transitions struct {
	next   map[string]string
	refuse func(id, state string) error
}

var (
	terminate = transitions{next: map[string]string{statePending: stateShuttingDown, stateRunning: stateShuttingDown,
		stateStopping: stateShuttingDown, stateStopped: stateShuttingDown, stateShuttingDown: stateShuttingDown,
		stateTerminated: stateTerminated}}
	stop = transitions{next: map[string]string{stateRunning: stateStopping, stateStopping: stateStopping, stateStopped: stateStopped},
		refuse: func(id, state string) error {
			if state == statePending {
				return badRequest("IncorrectInstanceState", "Instance '%s' cannot be stopped as it has never reached the 'running' state.", id)
			}
			return badRequest("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be stopped.", id)
		}}
	start = transitions{next: map[string]string{stateStopped: statePending, statePending: statePending, stateRunning: stateRunning},
		refuse: func(id, _ string) error {
			return badRequest("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be started.", id)
		}}
)

// change applies a state-changing request to the instances ids name, all
// or none, and reports each one's previous and current state.
func (s *Service) change(ctx context.Context, ids []string, t transitions) (api.InstanceStateChangeList, error) {
	sc := scopeOf(ctx)
	if len(ids) == 0 {
		return nil, missingParameter("InstanceId")
	}
	if err := checkIDs(ids, "i", "InvalidInstanceID.Malformed"); err != nil {
		return nil, err
	}
	var out api.InstanceStateChangeList
	var changed []string
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		out, changed = api.InstanceStateChangeList{}, nil
		list, err := loadAll[instance](tx, instancesTable, sc, ids, "InvalidInstanceID.NotFound", "instance")
		if err != nil {
			return err
		}
		for _, inst := range list {
			previous := inst.State
			next, ok := t.next[previous]
			if !ok {
				return t.refuse(inst.ID, previous)
			}
			if next != previous {
				inst.Reason, inst.StateReason = "", ""
				switch next {
				case stateStopping, stateShuttingDown:
					inst.Reason = "User initiated (" + s.Now().UTC().Format("2006-01-02 15:04:05") + " GMT)"
					inst.StateReason = "Client.UserInitiatedShutdown"
				case statePending:
					inst.LaunchTime = s.Now().UTC()
				}
				if err := s.putInstance(ctx, tx, sc, &inst, next, store.AnyVersion); err != nil {
					return err
				}
				changed = append(changed, inst.ID)
			}
			out = append(out, api.InstanceStateChange{InstanceId: new(inst.ID), PreviousState: apiState(previous),
				CurrentState: apiState(inst.State)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.Bus.Notify()
	for _, id := range changed {
		s.lifecycle.Enqueue(sc.Key(id))
	}
	return out, nil
}

// TerminateInstances shuts instances down; the controller finishes the
// job and frees their addresses.
func (s *Service) TerminateInstances(ctx context.Context, in *api.TerminateInstancesRequest) (*api.TerminateInstancesResult, error) {
	changes, err := s.change(ctx, in.InstanceIds, terminate)
	if err != nil {
		return nil, err
	}
	return &api.TerminateInstancesResult{TerminatingInstances: changes}, nil
}

// StopInstances stops instances; they keep their addresses.
func (s *Service) StopInstances(ctx context.Context, in *api.StopInstancesRequest) (*api.StopInstancesResult, error) {
	changes, err := s.change(ctx, in.InstanceIds, stop)
	if err != nil {
		return nil, err
	}
	return &api.StopInstancesResult{StoppingInstances: changes}, nil
}

// StartInstances starts stopped instances.
func (s *Service) StartInstances(ctx context.Context, in *api.StartInstancesRequest) (*api.StartInstancesResult, error) {
	changes, err := s.change(ctx, in.InstanceIds, start)
	if err != nil {
		return nil, err
	}
	return &api.StartInstancesResult{StartingInstances: changes}, nil
}

// DescribeInstanceStatus reports the status checks of running instances,
// or of all of them with IncludeAllInstances. A virtual host never fails
// its checks.
func (s *Service) DescribeInstanceStatus(ctx context.Context, in *api.DescribeInstanceStatusRequest) (*api.DescribeInstanceStatusResult, error) {
	sc := scopeOf(ctx)
	list, err := s.loadInstances(ctx, sc, in.InstanceIds)
	if err != nil {
		return nil, err
	}
	if !service.Deref(in.IncludeAllInstances) {
		list = slices.DeleteFunc(list, func(i instance) bool { return i.State != stateRunning })
	}
	views, next, err := describeViews(list, statusFilters, in.Filters, in.NextToken, in.MaxResults, func(i instance) string { return i.ID },
		func(i instance) api.InstanceStatus {
			return api.InstanceStatus{InstanceId: new(i.ID),
				AvailabilityZone: new(i.Zone), AvailabilityZoneId: new(zoneID(i.Zone)), InstanceState: apiState(i.State),
				InstanceStatus: statusSummary(i, "reachability"), SystemStatus: statusSummary(i, "reachability"),
				AttachedEbsStatus: &api.EbsStatusSummary{Status: new(checkStatus(i)), Details: api.EbsStatusDetailsList{}},
				Events:            api.InstanceStatusEventList{}}
		})
	if err != nil {
		return nil, err
	}
	return &api.DescribeInstanceStatusResult{NextToken: next, InstanceStatuses: views}, nil
}

func checkStatus(i instance) string {
	if i.State == stateRunning {
		return "ok"
	}
	return "not-applicable"
}

func statusSummary(i instance, check string) *api.InstanceStatusSummary {
	details := api.InstanceStatusDetailsList{}
	if i.State == stateRunning {
		details = append(details, api.InstanceStatusDetails{Name: new(check), Status: new("passed")})
	}
	return &api.InstanceStatusSummary{Status: new(checkStatus(i)), Details: details}
}

var statusFilters = func() fields[instance] {
	status := func(i instance) any { return checkStatus(i) }
	reachability := func(i instance) any {
		if i.State == stateRunning {
			return "passed"
		}
		return nil
	}
	return fields[instance]{values: map[string]func(instance) any{
		"availability-zone":            func(i instance) any { return i.Zone },
		"instance-state-name":          func(i instance) any { return i.State },
		"instance-state-code":          func(i instance) any { return stateCodes[i.State] },
		"instance-status.status":       status,
		"instance-status.reachability": reachability,
	}, aliases: map[string]string{
		// A virtual host's system is as healthy as the host itself.
		"system-status.status":       "instance-status.status",
		"system-status.reachability": "instance-status.reachability",
	}}
}()

// DescribeInstanceAttribute reports one attribute of an instance.
func (s *Service) DescribeInstanceAttribute(ctx context.Context, in *api.DescribeInstanceAttributeRequest) (*api.InstanceAttribute, error) {
	sc := scopeOf(ctx)
	if in.InstanceId == nil {
		return nil, missingParameter("InstanceId")
	}
	if in.Attribute == nil {
		return nil, missingParameter("Attribute")
	}
	list, err := s.loadInstances(ctx, sc, []string{*in.InstanceId})
	if err != nil {
		return nil, err
	}
	i := list[0]
	out := &api.InstanceAttribute{InstanceId: new(i.ID)}
	switch *in.Attribute {
	case "userData":
		out.UserData = &api.AttributeValue{}
		if len(i.UserData) > 0 {
			out.UserData.Value = new(base64.StdEncoding.EncodeToString(i.UserData))
		}
	case "instanceType":
		out.InstanceType = &api.AttributeValue{Value: new(i.Type)}
	case "groupSet":
		names := map[string]string{}
		for _, g := range i.Groups {
			names[g.ID] = g.Name
		}
		out.Groups = groupIdentifiers(i.groupIDs(), names)
	case "disableApiTermination":
		out.DisableApiTermination = &api.AttributeBooleanValue{Value: new(false)}
	case "disableApiStop":
		out.DisableApiStop = &api.AttributeBooleanValue{Value: new(false)}
	case "instanceInitiatedShutdownBehavior":
		out.InstanceInitiatedShutdownBehavior = &api.AttributeValue{Value: new("stop")}
	case "rootDeviceName":
		out.RootDeviceName = &api.AttributeValue{Value: new("/dev/xvda")}
	case "sourceDestCheck":
		out.SourceDestCheck = &api.AttributeBooleanValue{Value: new(true)}
	case "ebsOptimized":
		out.EbsOptimized = &api.AttributeBooleanValue{Value: new(false)}
	default:
		return nil, invalidParameterValue("Value (%s) for parameter attribute is invalid. Unknown attribute.", *in.Attribute)
	}
	return out, nil
}

// InstanceInfo is an instance as other services (ECS, Beanstalk, Auto
// Scaling) see it.
type InstanceInfo struct {
	ID                    string
	Type                  string
	ImageID               string
	State                 string
	AvailabilityZone      string
	SubnetID              string
	VPCID                 string
	PrivateIP             string
	PrivateDNSName        string
	Architecture          string
	VCPUs                 int
	MemoryMiB             int
	UserData              []byte
	IamInstanceProfileArn string
	LaunchTime            time.Time
	Tags                  map[string]string
}

// ErrInstanceNotFound is Instance's error for an ID naming no instance
// (or one terminated long enough ago to be forgotten).
var ErrInstanceNotFound = errors.New("ec2: instance not found")

// Instance returns one instance of account's region.
func (s *Service) Instance(ctx context.Context, account, region, id string) (InstanceInfo, error) {
	sc := scope{Account: account, Region: region}
	i, err := viewRecord[instance](ctx, s.Store, instancesTable, sc, id, ErrInstanceNotFound)
	if err != nil {
		return InstanceInfo{}, err
	}
	it := instanceTypes[i.Type]
	info := InstanceInfo{ID: i.ID, Type: i.Type, ImageID: i.ImageID, State: i.State, AvailabilityZone: i.Zone,
		Architecture: it.Architecture(), VCPUs: it.VCPUs, MemoryMiB: it.MemoryMiB, UserData: slices.Clone(i.UserData),
		IamInstanceProfileArn: i.ProfileARN, LaunchTime: i.LaunchTime, Tags: maps.Clone(i.Tags)}
	if i.State != stateTerminated {
		info.SubnetID, info.VPCID, info.PrivateIP, info.PrivateDNSName = i.SubnetID, i.VPCID, i.PrivateIP, privateDNSName(region, i.PrivateIP)
	}
	return info, nil
}
