package ecs

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/ecs"
	"overcast/internal/ecs/placement"
	"overcast/internal/service"
	"overcast/internal/store"
)

// containerInstance is the record of a container instance.
type containerInstance struct {
	ID            string `json:"id"`
	ARN           string `json:"arn"`
	Cluster       string `json:"cluster"`
	EC2InstanceID string `json:"ec2InstanceId,omitempty"`
	// Status is ACTIVE, DRAINING, or INACTIVE once deregistered.
	Status         string `json:"status"`
	AgentConnected bool   `json:"agentConnected"`
	// reservation is what the instance registers: CPU units, MiB, and
	// the ports reserved on it (the agent's and those it was told to
	// reserve).
	reservation
	Attributes   []attribute       `json:"attributes,omitempty"`
	VersionInfo  *api.VersionInfo  `json:"versionInfo,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`
	RegisteredAt time.Time         `json:"registeredAt"`
	// Version counts the changes of the record, as ECS's version does.
	Version      int64      `json:"version"`
	Deregistered *time.Time `json:"deregistered,omitempty"`
	// Joined is set for instances overcast registered itself when their
	// EC2 instance started (see join.go).
	Joined bool `json:"joined,omitempty"`
	// CapacityProvider is the capacity provider whose Auto Scaling group
	// the EC2 instance was in when it registered.
	CapacityProvider string `json:"capacityProvider,omitempty"`
	// Engine is the Docker engine (its --docker-host) its tasks run on,
	// "" for the first; HostLost is set while that engine is lost.
	Engine   string `json:"engine,omitempty"`
	HostLost bool   `json:"hostLost,omitempty"`
}

// attribute is a container instance attribute; Custom ones are the
// user's (PutAttributes), the others the agent's and ECS's.
type attribute struct {
	Name   string `json:"name"`
	Value  string `json:"value,omitempty"`
	Custom bool   `json:"custom,omitempty"`
}

// agentReservedPorts are the TCP ports the ECS agent reserves on every
// instance: SSH, the Docker daemon, and the agent's introspection and
// credentials endpoints.
var agentReservedPorts = []string{"22", "2375", "2376", "51678", "51679"}

func instanceKey(sc scope, cluster, id string) string { return sc.Key(cluster + "/" + id) }

func instanceARN(sc scope, cluster, id string) string {
	return sc.ARN("ecs", "container-instance/"+cluster+"/"+id)
}

// instanceRef is the cluster and ID a request names a container instance
// by: its ARN (which names its cluster) or its ID in the request's cluster.
func instanceRef(clusterRef *string, ref string) (cluster, id string) {
	if a, ok := overcast.ParseARN(ref); ok {
		rest := strings.TrimPrefix(a.Resource, "container-instance/")
		if c, id, ok := strings.Cut(rest, "/"); ok {
			return c, id
		}
		return clusterName(clusterRef), rest
	}
	return clusterName(clusterRef), ref
}

// identityDocument is the EC2 instance identity document an agent sends.
type identityDocument struct {
	InstanceID       string `json:"instanceId"`
	InstanceType     string `json:"instanceType"`
	AvailabilityZone string `json:"availabilityZone"`
	Region           string `json:"region"`
	ImageID          string `json:"imageId"`
	Architecture     string `json:"architecture"`
	PrivateIP        string `json:"privateIp"`
}

// registration is what makes a container instance: the API's request, or
// an EC2 instance joining its cluster.
type registration struct {
	cluster  *string
	reuseARN string
	doc      identityDocument
	// total is what the instance has: the agent's ports are reserved on
	// top of those it names.
	total      reservation
	attributes []attribute
	version    *api.VersionInfo
	tags       map[string]string
	joined     bool
	provider   string
	// engine is the Docker engine the instance's tasks run on.
	engine string
}

func (s *Service) RegisterContainerInstance(ctx context.Context, in *api.RegisterContainerInstanceRequest) (*api.RegisterContainerInstanceResponse, error) {
	r := registration{cluster: in.Cluster, reuseARN: deref(in.ContainerInstanceArn), version: in.VersionInfo}
	if d := deref(in.InstanceIdentityDocument); d != "" {
		if err := json.Unmarshal([]byte(d), &r.doc); err != nil {
			return nil, invalidParameter("The instance identity document is not valid.")
		}
	}
	for _, res := range in.TotalResources {
		switch deref(res.Name) {
		case "CPU":
			r.total.CPU = int(deref(res.IntegerValue))
		case "MEMORY":
			r.total.Memory = int(deref(res.IntegerValue))
		case "PORTS":
			r.total.Ports = res.StringSetValue
		case "PORTS_UDP":
			r.total.PortsUDP = res.StringSetValue
		}
	}
	for _, a := range in.Attributes {
		r.attributes = append(r.attributes, attribute{Name: deref(a.Name), Value: deref(a.Value)})
	}
	if err := checkTags(nil, in.Tags); err != nil {
		return nil, err
	}
	r.tags = fromTags(in.Tags)
	sc := overcast.ScopeOf(ctx)
	r.provider = s.providerOfInstance(ctx, sc, clusterName(in.Cluster), r.doc.InstanceID, "")
	view, err := s.changeInstance(ctx, sc, true, func(tx store.Tx) (containerInstance, error) { return s.register(tx, sc, r) })
	if err != nil {
		return nil, err
	}
	return &api.RegisterContainerInstanceResponse{ContainerInstance: view}, nil
}

// register writes a container instance for r: a new one, or the one r
// names or its EC2 instance already has in that cluster (an agent
// re-registering after a restart).
func (s *Service) register(tx store.Tx, sc scope, r registration) (containerInstance, error) {
	c, err := s.ensureCluster(tx, sc, r.cluster)
	if err != nil {
		return containerInstance{}, err
	}
	ci := containerInstance{Cluster: c.Name, Status: statusActive, RegisteredAt: s.Now().UTC()}
	existing := ""
	if r.reuseARN != "" {
		if cl, id := instanceRef(r.cluster, r.reuseARN); cl == c.Name {
			existing = instanceKey(sc, cl, id)
		}
	} else if r.doc.InstanceID != "" {
		var key string
		if _, err := store.GetJSON(tx, ec2IndexTable, sc.Key(r.doc.InstanceID), &key); err == nil && strings.HasPrefix(key, sc.Key(c.Name+"/")) {
			existing = key
		}
	}
	if existing != "" {
		var old containerInstance
		_, err := store.GetJSON(tx, instancesTable, existing, &old)
		switch {
		case err == nil && old.Status == statusInactive:
			return ci, clientError("Container instance %s is inactive.", old.ID)
		case err == nil:
			ci = old
		case !isNotFound(err):
			return ci, err
		}
	}
	if ci.ID == "" {
		ci.ID = strings.ReplaceAll(s.IDs.UUID(), "-", "")
		ci.ARN = instanceARN(sc, c.Name, ci.ID)
	}
	ci.EC2InstanceID, ci.CapacityProvider, ci.Engine = r.doc.InstanceID, r.provider, r.engine
	ci.AgentConnected = true
	ci.reservation = reservation{CPU: r.total.CPU, Memory: r.total.Memory,
		Ports: unionPorts(agentReservedPorts, r.total.Ports), PortsUDP: unionPorts(nil, r.total.PortsUDP)}
	ci.VersionInfo = r.version
	if ci.VersionInfo == nil {
		ci.VersionInfo = &api.VersionInfo{AgentVersion: new(agentVersion), AgentHash: new(agentHash), DockerVersion: new(dockerVersion)}
	}
	ci.Joined = r.joined
	custom := slices.DeleteFunc(slices.Clone(ci.Attributes), func(a attribute) bool { return !a.Custom })
	ci.Attributes = mergeAttributes(builtinAttributes(r.doc), r.attributes, custom)
	if r.tags != nil {
		ci.Tags = r.tags
	}
	if err := s.putInstance(tx, sc, &ci, store.AnyVersion); err != nil {
		return ci, err
	}
	key := instanceKey(sc, c.Name, ci.ID)
	if ci.EC2InstanceID != "" {
		if _, err := store.PutJSON(tx, ec2IndexTable, sc.Key(ci.EC2InstanceID), key, store.AnyVersion); err != nil {
			return ci, err
		}
	}
	return ci, nil
}

func unionPorts(base, more []string) []string {
	out := slices.Clone(base)
	for _, p := range more {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	return out
}

// builtinAttributes are the attributes ECS gives every container
// instance, from what it knows of its EC2 instance.
func builtinAttributes(doc identityDocument) []attribute {
	arch := doc.Architecture
	if arch == "" {
		arch = "x86_64"
	}
	out := []attribute{{Name: "ecs.os-type", Value: "linux"}, {Name: "ecs.os-family", Value: "LINUX"},
		{Name: "ecs.cpu-architecture", Value: arch}}
	for _, a := range []attribute{
		{Name: "ecs.availability-zone", Value: doc.AvailabilityZone},
		{Name: "ecs.instance-type", Value: doc.InstanceType},
		{Name: "ecs.ami-id", Value: doc.ImageID},
	} {
		if a.Value != "" {
			out = append(out, a)
		}
	}
	return out
}

// mergeAttributes merges attribute lists, later ones replacing earlier
// ones of the same name, sorted by name.
func mergeAttributes(lists ...[]attribute) []attribute {
	var out []attribute
	for _, l := range lists {
		for _, a := range l {
			i := slices.IndexFunc(out, func(o attribute) bool { return o.Name == a.Name })
			if i < 0 {
				out = append(out, a)
			} else {
				out[i] = a
			}
		}
	}
	slices.SortFunc(out, func(a, b attribute) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// instanceUsage is what the tasks on a container instance take of it.
type instanceUsage struct {
	running, pending int
	// groups counts the tasks on the instance by placement group.
	groups map[string]int
	reservation
}

// usage reads the tasks on a container instance. The task records are the
// task controller's: it fills taskStatus's reservation fields.
func usage(tx store.Tx, sc scope, ci containerInstance) (instanceUsage, error) {
	all, err := clusterUsage(tx, sc, ci.Cluster)
	return all[instanceKey(sc, ci.Cluster, ci.ID)], err
}

// clusterUsage reads what the tasks of a cluster take of each of its
// container instances, by instance key, in one pass over the tasks: a
// placement over every instance must not read the tasks once per instance.
func clusterUsage(tx store.Tx, sc scope, cluster string) (map[string]instanceUsage, error) {
	all := map[string]instanceUsage{}
	err := store.ScanJSON(tx, tasksTable, store.ScanOptions{Prefix: sc.Key(cluster + "/")}, func(_ string, t taskStatus, _ int64) error {
		if t.ContainerInstance == "" || t.LastStatus == "STOPPED" {
			return nil
		}
		u := all[t.ContainerInstance]
		if t.LastStatus == "RUNNING" {
			u.running++
		} else {
			u.pending++
		}
		if t.Group != "" {
			if u.groups == nil {
				u.groups = map[string]int{}
			}
			u.groups[t.Group]++
		}
		u.CPU += t.CPU
		u.Memory += t.Memory
		u.Ports = append(u.Ports, t.Ports...)
		u.PortsUDP = append(u.PortsUDP, t.PortsUDP...)
		all[t.ContainerInstance] = u
		return nil
	})
	return all, err
}

func resources(cpu, mem int, ports, portsUDP []string) api.Resources {
	return api.Resources{
		{Name: new("CPU"), Type: new("INTEGER"), IntegerValue: new(int32(cpu)), DoubleValue: new(0.0), LongValue: new(int64(0))},
		{Name: new("MEMORY"), Type: new("INTEGER"), IntegerValue: new(int32(mem)), DoubleValue: new(0.0), LongValue: new(int64(0))},
		{Name: new("PORTS"), Type: new("STRINGSET"), StringSetValue: append(api.StringList{}, ports...), DoubleValue: new(0.0), LongValue: new(int64(0)), IntegerValue: new(int32(0))},
		{Name: new("PORTS_UDP"), Type: new("STRINGSET"), StringSetValue: append(api.StringList{}, portsUDP...), DoubleValue: new(0.0), LongValue: new(int64(0)), IntegerValue: new(int32(0))},
	}
}

// instanceView is the container instance as the API shows it.
func (s *Service) instanceView(tx store.Tx, sc scope, ci containerInstance, tags bool) (*api.ContainerInstance, error) {
	u, err := usage(tx, sc, ci)
	if err != nil {
		return nil, err
	}
	out := &api.ContainerInstance{
		ContainerInstanceArn: new(ci.ARN), Status: new(ci.Status), AgentConnected: new(ci.AgentConnected),
		Version: new(ci.Version), VersionInfo: ci.VersionInfo, RegisteredAt: new(ci.RegisteredAt),
		RunningTasksCount: new(int32(u.running)), PendingTasksCount: new(int32(u.pending)),
		RegisteredResources: resources(ci.CPU, ci.Memory, ci.Ports, ci.PortsUDP),
		RemainingResources: resources(ci.CPU-u.CPU, ci.Memory-u.Memory, unionPorts(ci.Ports, u.Ports),
			unionPorts(ci.PortsUDP, u.PortsUDP)),
		Attachments: api.Attachments{},
		Attributes:  attributesOf(ci, false),
	}
	if ci.EC2InstanceID != "" {
		out.Ec2InstanceId = new(ci.EC2InstanceID)
	}
	if ci.CapacityProvider != "" {
		out.CapacityProviderName = new(ci.CapacityProvider)
	}
	if tags {
		out.Tags = toTags(ci.Tags)
	}
	return out, nil
}

// appendView appends the container instance as the API shows it to list.
func (s *Service) appendView(tx store.Tx, sc scope, ci containerInstance, tags bool, list *api.ContainerInstances) error {
	view, err := s.instanceView(tx, sc, ci, tags)
	if err == nil {
		*list = append(*list, *view)
	}
	return err
}

// attributesOf is a container instance's attributes in the API's shape;
// targeted adds the target (ListAttributes, PutAttributes).
func attributesOf(ci containerInstance, targeted bool) api.Attributes {
	out := api.Attributes{}
	for _, a := range ci.Attributes {
		attr := api.Attribute{Name: new(a.Name), Value: service.OmitZero(a.Value)}
		if targeted {
			attr.TargetType, attr.TargetId = new("container-instance"), new(ci.ARN)
		}
		out = append(out, attr)
	}
	return out
}

// changeInstance runs fn in a transaction and returns the container
// instance it leaves, as the API shows it.
func (s *Service) changeInstance(ctx context.Context, sc scope, tags bool, fn func(tx store.Tx) (containerInstance, error)) (*api.ContainerInstance, error) {
	var view *api.ContainerInstance
	err := s.update(ctx, func(tx store.Tx) error {
		ci, err := fn(tx)
		if err != nil {
			return err
		}
		view, err = s.instanceView(tx, sc, ci, tags)
		return err
	})
	return view, err
}

// readInstance reads a container instance as a request names it.
func (s *Service) readInstance(tx store.Tx, sc scope, clusterRef *string, ref string) (containerInstance, int64, error) {
	cl, id := instanceRef(clusterRef, ref)
	var ci containerInstance
	v, err := store.GetJSON(tx, instancesTable, instanceKey(sc, cl, id), &ci)
	if err == nil && !s.visible(ci) {
		err = store.ErrNotFound
	}
	return ci, v, err
}

// liveInstance is a container instance of the request's ACTIVE cluster
// that is not deregistered, or the error ECS answers.
func (s *Service) liveInstance(tx store.Tx, sc scope, clusterRef *string, ref string) (containerInstance, int64, error) {
	c, _, err := s.activeCluster(tx, sc, clusterRef)
	if err != nil {
		return containerInstance{}, 0, err
	}
	ci, v, err := s.readInstance(tx, sc, new(c.Name), ref)
	if isNotFound(err) || (err == nil && (ci.Cluster != c.Name || ci.Status == statusInactive)) {
		return ci, 0, invalidParameter("Container instance not found: %s", ref)
	}
	return ci, v, err
}

// visible says whether a container instance still shows: a deregistered
// one does for inactiveFor.
func (s *Service) visible(ci containerInstance) bool {
	return ci.Deregistered == nil || s.Now().Sub(*ci.Deregistered) < inactiveFor
}

// putInstance writes a changed container instance, counting the change
// in its version, and publishes ECS's state change event for it.
func (s *Service) putInstance(tx store.Tx, sc scope, ci *containerInstance, version int64) error {
	ci.Version++
	if _, err := store.PutJSON(tx, instancesTable, instanceKey(sc, ci.Cluster, ci.ID), ci, version); err != nil {
		return err
	}
	return s.publishInstanceChange(tx, sc, *ci)
}

// eachInstance runs fn on each container instance refs names in the
// request's ACTIVE cluster, adding a MISSING failure for those it does
// not know.
func (s *Service) eachInstance(tx store.Tx, sc scope, clusterRef *string, refs []string, failures *api.Failures,
	fn func(ci containerInstance, version int64) error) error {
	c, _, err := s.activeCluster(tx, sc, clusterRef)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		ci, v, err := s.readInstance(tx, sc, new(c.Name), ref)
		if isNotFound(err) || (err == nil && ci.Cluster != c.Name) {
			arn := ref
			if _, ok := overcast.ParseARN(ref); !ok {
				arn = instanceARN(sc, c.Name, ref)
			}
			*failures = append(*failures, missing(arn))
			continue
		}
		if err != nil {
			return err
		}
		if err := fn(ci, v); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) DescribeContainerInstances(ctx context.Context, in *api.DescribeContainerInstancesRequest) (*api.DescribeContainerInstancesResponse, error) {
	if len(in.ContainerInstances) > 100 {
		return nil, invalidParameter("ContainerInstances cannot have more than 100 elements")
	}
	sc := overcast.ScopeOf(ctx)
	out := &api.DescribeContainerInstancesResponse{ContainerInstances: api.ContainerInstances{}, Failures: api.Failures{}}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return s.eachInstance(tx, sc, in.Cluster, in.ContainerInstances, &out.Failures, func(ci containerInstance, _ int64) error {
			return s.appendView(tx, sc, ci, slices.Contains(in.Include, "TAGS"), &out.ContainerInstances)
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// compileInstanceFilter compiles ListContainerInstances' filter, an
// expression of the cluster query language.
//
// compileInstanceFilter compiles ListContainerInstances' filter, an
// expression of the cluster query language, into a test of a container
// instance and what runs on it.
func compileInstanceFilter(expr string) (func(tx store.Tx, sc scope, ci containerInstance) bool, error) {
	e, err := placement.Parse(expr)
	if err != nil {
		return nil, invalidParameter("%s", err.Error())
	}
	var all map[string]instanceUsage // read once, at the first instance
	return func(tx store.Tx, sc scope, ci containerInstance) bool {
		if all == nil {
			var err error
			if all, err = clusterUsage(tx, sc, ci.Cluster); err != nil {
				return false
			}
		}
		return e.Match(placementInstance(ci, all[instanceKey(sc, ci.Cluster, ci.ID)]))
	}, nil
}

func (s *Service) ListContainerInstances(ctx context.Context, in *api.ListContainerInstancesRequest) (*api.ListContainerInstancesResponse, error) {
	match := func(store.Tx, scope, containerInstance) bool { return true }
	if f := strings.TrimSpace(deref(in.Filter)); f != "" {
		var err error
		if match, err = compileInstanceFilter(f); err != nil {
			return nil, err
		}
	}
	sc := overcast.ScopeOf(ctx)
	want := []string{statusActive, statusDraining}
	if in.Status != nil {
		want = []string{*in.Status}
	}
	out := &api.ListContainerInstancesResponse{}
	var err error
	out.ContainerInstanceArns, out.NextToken, err = listInCluster(ctx, s, in.Cluster, instancesTable, in.NextToken, in.MaxResults,
		func(tx store.Tx, ci containerInstance) bool {
			return slices.Contains(want, ci.Status) && s.visible(ci) && match(tx, sc, ci)
		},
		func(ci containerInstance) string { return ci.ARN })
	return out, err
}

func (s *Service) DeregisterContainerInstance(ctx context.Context, in *api.DeregisterContainerInstanceRequest) (*api.DeregisterContainerInstanceResponse, error) {
	sc := overcast.ScopeOf(ctx)
	view, err := s.changeInstance(ctx, sc, false, func(tx store.Tx) (containerInstance, error) {
		ci, v, err := s.liveInstance(tx, sc, in.Cluster, deref(in.ContainerInstance))
		if err != nil {
			return ci, err
		}
		u, err := usage(tx, sc, ci)
		if err != nil {
			return ci, err
		}
		if u.running+u.pending > 0 && !deref(in.Force) {
			return ci, invalidParameter("Found running tasks on the instance.")
		}
		return s.deregister(tx, sc, ci, v)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeregisterContainerInstanceResponse{ContainerInstance: view}, nil
}

// deregister marks a container instance INACTIVE; it stays visible for
// inactiveFor. Its tasks are the task controller's to stop.
func (s *Service) deregister(tx store.Tx, sc scope, ci containerInstance, version int64) (containerInstance, error) {
	now := s.Now().UTC()
	ci.Status, ci.AgentConnected, ci.Deregistered = statusInactive, false, &now
	if err := s.putInstance(tx, sc, &ci, version); err != nil {
		return ci, err
	}
	if ci.EC2InstanceID != "" {
		if err := tx.Delete(ec2IndexTable, sc.Key(ci.EC2InstanceID), store.AnyVersion); err != nil && !isNotFound(err) {
			return ci, err
		}
	}
	return ci, nil
}

func (s *Service) UpdateContainerInstancesState(ctx context.Context, in *api.UpdateContainerInstancesStateRequest) (*api.UpdateContainerInstancesStateResponse, error) {
	status := deref(in.Status)
	if status != statusActive && status != statusDraining {
		return nil, invalidParameter("Container instance status can only be updated to ACTIVE or DRAINING.")
	}
	if len(in.ContainerInstances) > 10 {
		return nil, invalidParameter("ContainerInstances cannot have more than 10 elements")
	}
	sc := overcast.ScopeOf(ctx)
	out := &api.UpdateContainerInstancesStateResponse{ContainerInstances: api.ContainerInstances{}, Failures: api.Failures{}}
	err := s.update(ctx, func(tx store.Tx) error {
		out.ContainerInstances, out.Failures = out.ContainerInstances[:0], out.Failures[:0]
		return s.eachInstance(tx, sc, in.Cluster, in.ContainerInstances, &out.Failures, func(ci containerInstance, v int64) error {
			if ci.Status == statusInactive {
				out.Failures = append(out.Failures, api.Failure{Arn: new(ci.ARN), Reason: new("INACTIVE")})
				return nil
			}
			if ci.Status != status {
				ci.Status = status
				if err := s.putInstance(tx, sc, &ci, v); err != nil {
					return err
				}
			}
			return s.appendView(tx, sc, ci, false, &out.ContainerInstances)
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateContainerAgent finds no update: the agent overcast stands in for
// is always the latest.
func (s *Service) UpdateContainerAgent(ctx context.Context, in *api.UpdateContainerAgentRequest) (*api.UpdateContainerAgentResponse, error) {
	sc := overcast.ScopeOf(ctx)
	err := s.Store.View(ctx, func(tx store.Tx) error {
		if _, _, err := s.liveInstance(tx, sc, in.Cluster, deref(in.ContainerInstance)); err != nil {
			return err
		}
		return api.NewNoUpdateAvailableException("There is no update available for your container agent.")
	})
	return nil, err
}
