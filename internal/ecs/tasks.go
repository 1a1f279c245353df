package ecs

import (
	"context"
	"errors"
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

// Task statuses, in the order a task goes through them.
const (
	taskProvisioning   = "PROVISIONING"
	taskPending        = "PENDING"
	taskActivating     = "ACTIVATING"
	taskRunning        = "RUNNING"
	taskDeactivating   = "DEACTIVATING"
	taskStopping       = "STOPPING"
	taskDeprovisioning = "DEPROVISIONING"
	taskStopped        = "STOPPED"
)

const (
	launchEC2     = "EC2"
	launchFargate = "FARGATE"
	networkAwsvpc = "awsvpc"
	// stoppedFor is how long a stopped task stays visible, as on ECS.
	stoppedFor  = time.Hour
	maxRunCount = 10
	// fargatePlatform is the platform version Fargate tasks report.
	fargatePlatform = "1.4.0"
)

// task is the record of a task in tasksTable: what RunTask asked for (the
// desired state) and what the task controller observed. taskStatus, the
// part clusters and container instances read, is kept up to date with it.
type task struct {
	taskStatus
	ID                   string             `json:"id"`
	ARN                  string             `json:"arn"`
	Cluster              string             `json:"cluster"`
	Definition           api.TaskDefinition `json:"definition"`
	DesiredStatus        string             `json:"desiredStatus"`
	LaunchType           string             `json:"launchType"`
	CapacityProvider     string             `json:"capacityProvider,omitempty"`
	Overrides            *api.TaskOverride  `json:"overrides,omitempty"`
	StartedBy            string             `json:"startedBy,omitempty"`
	Tags                 map[string]string  `json:"tags,omitempty"`
	EnableExecuteCommand bool               `json:"enableExecuteCommand,omitempty"`
	// ContainerInstanceARN and EC2InstanceID are where an EC2 task runs.
	ContainerInstanceARN string `json:"containerInstanceArn,omitempty"`
	EC2InstanceID        string `json:"ec2InstanceId,omitempty"`
	// Network is the awsvpc configuration; Interface the ENI attached
	// for it.
	Network      *api.AwsVpcConfiguration `json:"network,omitempty"`
	Interface    *NetworkInterfaceInfo    `json:"interface,omitempty"`
	AttachmentID string                   `json:"attachmentId,omitempty"`
	// Launched is set once the agent has started the task: from then on a
	// task whose containers are gone has stopped, it is not started again.
	Launched bool `json:"launched,omitempty"`
	// HostLost is set when the task stopped because its Docker engine
	// was lost: nothing of it is asked of that engine any more.
	HostLost bool `json:"hostLost,omitempty"`
	// Balanced marks a service task behind load balancers: it is
	// ACTIVATING once its containers run, until the service controller
	// has registered its targets (Activated), and DEACTIVATING when it
	// stops, while Draining (its targets deregistering) lasts.
	Balanced  bool `json:"balanced,omitempty"`
	Activated bool `json:"activated,omitempty"`
	Draining  bool `json:"draining,omitempty"`
	// Published are the host ports its containers published while they
	// ran, by "container/containerPort": the targets of a task whose
	// containers stopped, and with them their bindings, are still known.
	Published map[string]int32 `json:"published,omitempty"`
	// Protection is its scale-in protection (UpdateTaskProtection).
	Protection *taskProtection `json:"protection,omitempty"`

	Containers     api.Containers `json:"containers,omitempty"`
	HealthStatus   string         `json:"healthStatus,omitempty"`
	StopCode       string         `json:"stopCode,omitempty"`
	StoppedReason  string         `json:"stoppedReason,omitempty"`
	CreatedAt      time.Time      `json:"createdAt"`
	PullStartedAt  *time.Time     `json:"pullStartedAt,omitempty"`
	PullStoppedAt  *time.Time     `json:"pullStoppedAt,omitempty"`
	StartedAt      *time.Time     `json:"startedAt,omitempty"`
	ConnectivityAt *time.Time     `json:"connectivityAt,omitempty"`
	StoppingAt     *time.Time     `json:"stoppingAt,omitempty"`
	StoppedAt      *time.Time     `json:"stoppedAt,omitempty"`
	Version        int64          `json:"version"`
}

func taskKey(sc scope, cluster, id string) string { return sc.Key(cluster + "/" + id) }

func taskARN(sc scope, cluster, id string) string { return sc.ARN("ecs", "task/"+cluster+"/"+id) }

// taskKeyOfARN is the record key of a task ARN, "" if it is not one.
func taskKeyOfARN(arn string) string {
	a, ok := overcast.ParseARN(arn)
	if !ok || !strings.HasPrefix(a.Resource, "task/") {
		return ""
	}
	return a.AccountID + "/" + a.Region + "/" + strings.TrimPrefix(a.Resource, "task/")
}

// taskRef is the cluster and ID a request names a task by: its ARN (which
// names its cluster) or its ID in the request's cluster.
func taskRef(clusterRef *string, ref string) (cluster, id string) {
	if a, ok := overcast.ParseARN(ref); ok {
		if c, id, ok := strings.Cut(strings.TrimPrefix(a.Resource, "task/"), "/"); ok {
			return c, id
		}
	}
	return clusterName(clusterRef), ref
}

func (t *task) awsvpc() bool {
	return t.Definition.NetworkMode != nil && *t.Definition.NetworkMode == networkAwsvpc
}

// view is the task as DescribeTasks shows it.
func (t *task) view(sc scope, tags bool) api.Task {
	v := api.Task{
		TaskArn: new(t.ARN), ClusterArn: new(clusterARN(sc, t.Cluster)), TaskDefinitionArn: t.Definition.TaskDefinitionArn,
		LastStatus: new(t.LastStatus), DesiredStatus: new(t.DesiredStatus), LaunchType: new(t.LaunchType),
		Group: new(t.Group), CreatedAt: new(t.CreatedAt), Version: new(t.Version), Overrides: t.Overrides,
		Cpu: new(itoa(t.CPU)), Memory: new(itoa(t.Memory)), EnableExecuteCommand: new(t.EnableExecuteCommand),
		HealthStatus: new(cmpOr(t.HealthStatus, "UNKNOWN")), Containers: t.containersView(),
		PullStartedAt: t.PullStartedAt, PullStoppedAt: t.PullStoppedAt, StartedAt: t.StartedAt,
		StoppingAt: t.StoppingAt, StoppedAt: t.StoppedAt, ExecutionStoppedAt: t.StoppedAt, ConnectivityAt: t.ConnectivityAt,
		Attachments: api.Attachments{}, Attributes: api.Attributes{},
		ContainerInstanceArn: service.OmitZero(t.ContainerInstanceARN), CapacityProviderName: service.OmitZero(t.CapacityProvider),
		StartedBy: service.OmitZero(t.StartedBy), StopCode: service.OmitZero(t.StopCode), StoppedReason: service.OmitZero(t.StoppedReason),
	}
	if v.Overrides == nil {
		v.Overrides = &api.TaskOverride{ContainerOverrides: api.ContainerOverrides{}}
	}
	if t.LaunchType == launchFargate {
		v.PlatformVersion, v.PlatformFamily = new(fargatePlatform), new("Linux")
		v.EphemeralStorage = &api.EphemeralStorage{SizeInGiB: new(int32(20))}
	}
	if t.ConnectivityAt != nil {
		v.Connectivity = new("CONNECTED")
	}
	if eni := t.Interface; eni != nil {
		v.AvailabilityZone = new(eni.AvailabilityZone)
		v.Attachments = api.Attachments{t.attachment()}
	}
	if tags {
		v.Tags = toTags(t.Tags)
	}
	return v
}

// attachment is the task's ElasticNetworkInterface attachment.
func (t *task) attachment() api.Attachment {
	eni := t.Interface
	status := "ATTACHED"
	switch t.LastStatus {
	case taskProvisioning:
		status = "PRECREATED"
	case taskDeprovisioning:
		status = "DELETING"
	case taskStopped:
		status = "DELETED"
	}
	detail := func(name, value string) api.KeyValuePair { return api.KeyValuePair{Name: new(name), Value: new(value)} }
	return api.Attachment{Id: new(t.AttachmentID), Type: new("ElasticNetworkInterface"), Status: new(status),
		Details: api.AttachmentDetails{
			detail("subnetId", eni.SubnetID), detail("networkInterfaceId", eni.ID), detail("macAddress", eni.MAC),
			detail("privateDnsName", eni.PrivateDNSName), detail("privateIPv4Address", eni.PrivateIP),
		}}
}

// containersView adds to the observed containers what only the record
// knows; before the agent reports, the containers are those of the
// definition, PENDING.
func (t *task) containersView() api.Containers {
	out := api.Containers{}
	for _, cd := range t.Definition.ContainerDefinitions {
		name := deref(cd.Name)
		c := api.Container{Name: cd.Name, Image: cd.Image, LastStatus: new(taskPending), HealthStatus: new("UNKNOWN")}
		if i := slices.IndexFunc(t.Containers, func(o api.Container) bool { return deref(o.Name) == name }); i >= 0 {
			c = t.Containers[i]
		}
		c.TaskArn = new(t.ARN)
		c.ContainerArn = new(strings.Replace(t.ARN, ":task/", ":container/", 1) + "/" + name)
		c.Cpu = new(itoa(int(deref(cd.Cpu))))
		if cd.Memory != nil {
			c.Memory = new(itoa(int(*cd.Memory)))
		}
		if cd.MemoryReservation != nil {
			c.MemoryReservation = new(itoa(int(*cd.MemoryReservation)))
		}
		if c.NetworkBindings == nil {
			c.NetworkBindings = api.NetworkBindings{}
		}
		if t.Interface != nil {
			c.NetworkInterfaces = api.NetworkInterfaces{{AttachmentId: new(t.AttachmentID), PrivateIpv4Address: new(t.Interface.PrivateIP)}}
		}
		out = append(out, c)
	}
	return out
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// runRequest is what RunTask and StartTask share, once read.
type runRequest struct {
	cluster     *string
	definition  string
	group       *string
	startedBy   *string
	overrides   *api.TaskOverride
	network     *api.NetworkConfiguration
	tags        api.Tags
	propagate   *string
	execCommand *bool
	// balanced: the tasks are a service's behind load balancers.
	balanced bool
}

// launch is where RunTask or StartTask puts the tasks: Fargate, placement
// over the cluster's instances, or the instances StartTask names.
type launch struct {
	launchType, capacityProvider string
	count                        int
	constraints                  api.PlacementConstraints
	strategies                   api.PlacementStrategies
	instances                    []string // StartTask's
	// capacity is the capacity provider strategy's plan; nil without one.
	capacity *capacityPlan
	// within, when not nil, are the EC2 IDs of the only instances
	// placement may choose: an Auto Scaling group provider's.
	within map[string]bool
}

// RunTask starts tasks on Fargate or, placed by ECS's rules, on the
// cluster's container instances.
func (s *Service) RunTask(ctx context.Context, in *api.RunTaskRequest) (*api.RunTaskResponse, error) {
	l := launch{launchType: deref(in.LaunchType), count: int(deref(in.Count)), constraints: in.PlacementConstraints, strategies: in.PlacementStrategy}
	if in.Count == nil {
		l.count = 1
	}
	if l.count < 1 || l.count > maxRunCount {
		return nil, invalidParameter("Count must be between 1 and %d.", maxRunCount)
	}
	launchType, strategy, err := s.resolveStrategy(ctx, in.Cluster, l.launchType, in.CapacityProviderStrategy)
	if err != nil {
		return nil, err
	}
	l.launchType = launchType
	if len(strategy) > 0 {
		l.capacity = &capacityPlan{strategy: strategy}
	}
	return s.run(ctx, runRequest{cluster: in.Cluster, definition: deref(in.TaskDefinition), group: in.Group, startedBy: in.StartedBy,
		overrides: in.Overrides, network: in.NetworkConfiguration, tags: in.Tags, propagate: in.PropagateTags,
		execCommand: in.EnableExecuteCommand}, l)
}

// StartTask starts a task on each of the container instances named.
func (s *Service) StartTask(ctx context.Context, in *api.StartTaskRequest) (*api.StartTaskResponse, error) {
	if len(in.ContainerInstances) == 0 || len(in.ContainerInstances) > maxRunCount {
		return nil, invalidParameter("containerInstances must contain between 1 and %d container instances.", maxRunCount)
	}
	out, err := s.run(ctx, runRequest{cluster: in.Cluster, definition: deref(in.TaskDefinition), group: in.Group, startedBy: in.StartedBy,
		overrides: in.Overrides, network: in.NetworkConfiguration, tags: in.Tags, propagate: in.PropagateTags,
		execCommand: in.EnableExecuteCommand}, launch{launchType: launchEC2, count: len(in.ContainerInstances), instances: in.ContainerInstances})
	if err != nil {
		return nil, err
	}
	return &api.StartTaskResponse{Tasks: out.Tasks, Failures: out.Failures}, nil
}

func (s *Service) run(ctx context.Context, r runRequest, l launch) (*api.RunTaskResponse, error) {
	sc := overcast.ScopeOf(ctx)
	ref, ok := parseTaskDefRef(r.definition)
	if !ok {
		return nil, invalidParameter("Invalid revision number. Number: %s", revisionText(r.definition))
	}
	if err := checkTags(nil, r.tags); err != nil {
		return nil, err
	}
	if l.launchType == launchFargate && len(l.constraints) > 0 {
		return nil, invalidParameter("Placement constraints are not supported with FARGATE launch type.")
	}
	if l.launchType == launchFargate && len(l.strategies) > 0 {
		return nil, invalidParameter("Placement strategies are not supported with FARGATE launch type.")
	}
	// The engine is asked before the transaction, its answer given after
	// the request's own errors.
	engineErr := s.runnable(ctx)
	subnetErr := s.checkSubnets(ctx, sc, r.network)
	if err := s.planCapacity(ctx, sc, &l); err != nil {
		return nil, err
	}
	out := &api.RunTaskResponse{Tasks: api.Tasks{}, Failures: api.Failures{}}
	var keys []string
	err := s.update(ctx, func(tx store.Tx) error {
		out.Tasks, out.Failures, keys = api.Tasks{}, api.Failures{}, nil
		c, err := s.ensureCluster(tx, sc, r.cluster)
		if err != nil {
			return err
		}
		td, _, err := readTaskDef(tx, sc, ref)
		if isNotFound(err) {
			return clientError("TaskDefinition not found.")
		}
		if err != nil {
			return err
		}
		def := td.Def
		if err := checkLaunch(def, l.launchType, r.network); err != nil {
			return err
		}
		if subnetErr != nil && deref(def.NetworkMode) == networkAwsvpc {
			return subnetErr
		}
		if engineErr != nil {
			return engineErr
		}
		base := s.newTask(sc, c.Name, def, r, l)
		hosts, failures, err := s.placeTasks(tx, sc, c.Name, &base, l)
		if err != nil {
			return err
		}
		if r.propagate != nil && *r.propagate == "TASK_DEFINITION" && len(td.Tags) > 0 {
			for k, v := range td.Tags {
				if _, ok := base.Tags[k]; !ok {
					if base.Tags == nil {
						base.Tags = map[string]string{}
					}
					base.Tags[k] = v
				}
			}
		}
		for _, h := range hosts {
			t := base
			t.ID = s.IDs.Hex(32)
			t.ARN = taskARN(sc, c.Name, t.ID)
			h.assign(&t)
			key := taskKey(sc, c.Name, t.ID)
			if _, err := s.putTask(tx, sc, key, &t, 0); err != nil {
				return err
			}
			out.Tasks = append(out.Tasks, t.view(sc, true))
			keys = append(keys, key)
		}
		out.Failures = append(out.Failures, failures...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	enqueue(s.tasks, keys...)
	return out, nil
}

// runnable refuses to start tasks when there is no engine to run them on.
func (s *Service) runnable(ctx context.Context) error {
	if !slices.ContainsFunc(s.dockerHosts, func(h *dockerHost) bool { return !h.isLost() && h.engine.Reachable(ctx) }) {
		return api.NewServerException("No Docker engine is reachable: overcast cannot run ECS tasks until one is (set DOCKER_HOST or start dockerd).")
	}
	return nil
}

// checkSubnets refuses subnets EC2 does not have, with ECS's message.
func (s *Service) checkSubnets(ctx context.Context, sc scope, network *api.NetworkConfiguration) error {
	if s.subnets == nil || network == nil || network.AwsvpcConfiguration == nil {
		return nil
	}
	for _, id := range network.AwsvpcConfiguration.Subnets {
		err := s.subnets.CheckSubnet(ctx, sc.Account, sc.Region, id)
		if errors.Is(err, ErrSubnetNotFound) {
			return invalidParameter("Error retrieving subnet information for [%s]: The subnet ID '%s' does not exist (ErrorCode: InvalidSubnetID.NotFound)", id, id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkLaunch holds a task definition and a network configuration to the
// launch type's rules.
func checkLaunch(def api.TaskDefinition, launchType string, network *api.NetworkConfiguration) error {
	if !slices.Contains(def.Compatibilities, launchType) && !slices.Contains(def.RequiresCompatibilities, launchType) {
		return invalidParameter("Task definition does not support launch_type %s.", launchType)
	}
	if deref(def.NetworkMode) != networkAwsvpc {
		if network != nil && network.AwsvpcConfiguration != nil {
			return invalidParameter("Network Configuration is not valid for the given networkMode of this task definition.")
		}
		return nil
	}
	if network == nil || network.AwsvpcConfiguration == nil {
		return invalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	}
	if len(network.AwsvpcConfiguration.Subnets) == 0 {
		return invalidParameter("subnets can not be empty.")
	}
	return nil
}

// newTask is a task of the request, before it has an ID and a host.
func (s *Service) newTask(sc scope, cluster string, def api.TaskDefinition, r runRequest, l launch) task {
	t := task{Cluster: cluster, Definition: def, DesiredStatus: taskRunning, LaunchType: l.launchType,
		CapacityProvider: l.capacityProvider, Overrides: r.overrides, StartedBy: deref(r.startedBy),
		Tags: fromTags(r.tags), EnableExecuteCommand: deref(r.execCommand), CreatedAt: s.Now().UTC()}
	t.Group, t.Balanced = deref(r.group), r.balanced
	if t.Group == "" {
		t.Group = "family:" + deref(def.Family)
	}
	t.LastStatus = taskPending
	if deref(def.NetworkMode) == networkAwsvpc {
		t.LastStatus = taskProvisioning
		t.Network = r.network.AwsvpcConfiguration
	}
	t.reservation = needs(def, r.overrides)
	return t
}

// needs is what a task reserves of its container instance: the task's CPU
// and memory (the containers' when the task sets none) and its static
// host ports.
func needs(def api.TaskDefinition, o *api.TaskOverride) reservation {
	var r reservation
	cpu, mem := 0, 0
	for _, cd := range def.ContainerDefinitions {
		cpu += int(deref(cd.Cpu))
		if cd.Memory != nil {
			mem += int(*cd.Memory)
		} else {
			mem += int(deref(cd.MemoryReservation))
		}
		for _, pm := range cd.PortMappings {
			host := deref(pm.HostPort)
			if deref(def.NetworkMode) == "host" || deref(def.NetworkMode) == networkAwsvpc {
				host = cmpOrInt(host, deref(pm.ContainerPort))
			}
			if host == 0 {
				continue
			}
			if deref(pm.Protocol) == "udp" {
				r.PortsUDP = append(r.PortsUDP, itoa(int(host)))
			} else {
				r.Ports = append(r.Ports, itoa(int(host)))
			}
		}
	}
	r.CPU, r.Memory = cpu, mem
	if n, err := strconv.Atoi(deref(def.Cpu)); err == nil {
		r.CPU = n
	}
	if n, err := strconv.Atoi(deref(def.Memory)); err == nil {
		r.Memory = n
	}
	if o != nil {
		if n, err := strconv.Atoi(deref(o.Cpu)); err == nil {
			r.CPU = n
		}
		if n, err := strconv.Atoi(deref(o.Memory)); err == nil {
			r.Memory = n
		}
	}
	return r
}

func cmpOrInt(v, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
}

// host is a container instance a task was placed on; the zero host is
// Fargate's. provider is the capacity provider that placed it.
type host struct{ key, arn, ec2, provider, engine string }

// hosts places the tasks: count Fargate hosts, the container instances
// StartTask names, or placement's choice among the cluster's.
func (s *Service) hosts(tx store.Tx, sc scope, cluster string, t *task, l launch) ([]host, api.Failures, error) {
	failures := api.Failures{}
	if l.launchType == launchFargate {
		return make([]host, l.count), failures, nil
	}
	if l.instances != nil {
		var hosts []host
		for _, ref := range l.instances {
			ci, _, err := s.liveInstance(tx, sc, &cluster, ref)
			if err != nil {
				failures = append(failures, missing(ref))
				continue
			}
			hosts = append(hosts, host{key: instanceKey(sc, ci.Cluster, ci.ID), arn: ci.ARN, ec2: ci.EC2InstanceID, engine: ci.Engine})
		}
		return hosts, failures, nil
	}
	want := placement.Task{CPU: t.CPU, Memory: t.Memory, NetworkMode: cmpOr(deref(t.Definition.NetworkMode), "bridge"), Group: t.Group}
	for _, p := range t.Ports {
		n, _ := strconv.Atoi(p)
		want.Ports = append(want.Ports, placement.Port{Number: n, Protocol: "tcp"})
	}
	for _, p := range t.PortsUDP {
		n, _ := strconv.Atoi(p)
		want.Ports = append(want.Ports, placement.Port{Number: n, Protocol: "udp"})
	}
	for _, a := range t.Definition.RequiresAttributes {
		want.RequiredAttributes = append(want.RequiredAttributes, placement.Attribute{Name: deref(a.Name), Value: deref(a.Value)})
	}
	for _, c := range t.Definition.PlacementConstraints {
		want.Constraints = append(want.Constraints, placement.Constraint{Type: deref(c.Type), Expression: deref(c.Expression)})
	}
	for _, c := range l.constraints {
		want.Constraints = append(want.Constraints, placement.Constraint{Type: deref(c.Type), Expression: deref(c.Expression)})
	}
	for _, st := range l.strategies {
		want.Strategies = append(want.Strategies, placement.Strategy{Type: deref(st.Type), Field: deref(st.Field)})
	}
	if err := placementError(placement.ValidateConstraints(want.Constraints)); err != nil {
		return nil, nil, err
	}
	if err := placementError(placement.ValidateStrategies(want.Strategies)); err != nil {
		return nil, nil, err
	}
	var candidates []*placement.Instance
	byARN := map[string]containerInstance{}
	all, err := clusterUsage(tx, sc, cluster)
	if err != nil {
		return nil, nil, err
	}
	err = store.ScanJSON(tx, instancesTable, store.ScanOptions{Prefix: sc.Key(cluster + "/")}, func(_ string, ci containerInstance, _ int64) error {
		if ci.Status == statusInactive || (l.within != nil && !l.within[ci.EC2InstanceID]) {
			return nil
		}
		byARN[ci.ARN] = ci
		candidates = append(candidates, placementInstance(ci, all[instanceKey(sc, ci.Cluster, ci.ID)]))
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	placed, refused, err := placement.Place(candidates, want, l.count, nil)
	if err != nil {
		return nil, nil, placementError(err)
	}
	hosts := make([]host, 0, len(placed))
	for _, p := range placed {
		ci := byARN[p.Instance.ARN]
		hosts = append(hosts, host{key: instanceKey(sc, ci.Cluster, ci.ID), arn: ci.ARN, ec2: ci.EC2InstanceID, engine: ci.Engine})
	}
	for _, f := range refused {
		failures = append(failures, api.Failure{Arn: new(f.ARN), Reason: new(f.Reason)})
	}
	return hosts, failures, nil
}

// placementError turns placement's errors into ECS's exceptions.
func placementError(err error) error {
	var bad *placement.InvalidParameterError
	if errors.As(err, &bad) {
		return invalidParameter("%s", bad.Message)
	}
	if err != nil {
		return invalidParameter("%s", err.Error())
	}
	return nil
}

// putTask writes a task record and publishes its state, in tx.
func (s *Service) putTask(tx store.Tx, sc scope, key string, t *task, version int64) (int64, error) {
	t.Version++
	v, err := store.PutJSON(tx, tasksTable, key, t, version)
	if err != nil {
		return 0, err
	}
	return v, s.publishTaskChange(tx, sc, t)
}

// readTask reads a task record that is still visible.
func (s *Service) readTask(tx store.Tx, key string) (task, int64, error) {
	var t task
	v, err := store.GetJSON(tx, tasksTable, key, &t)
	if err == nil && t.StoppedAt != nil && s.Now().Sub(*t.StoppedAt) >= stoppedFor {
		return t, 0, store.ErrNotFound
	}
	return t, v, err
}

// StopTask asks a task to stop; the controller stops its containers.
func (s *Service) StopTask(ctx context.Context, in *api.StopTaskRequest) (*api.StopTaskResponse, error) {
	sc := overcast.ScopeOf(ctx)
	cluster, id := taskRef(in.Cluster, deref(in.Task))
	key := taskKey(sc, cluster, id)
	var view api.Task
	err := s.update(ctx, func(tx store.Tx) error {
		if _, _, err := s.activeCluster(tx, sc, &cluster); err != nil {
			return err
		}
		t, v, err := s.readTask(tx, key)
		if isNotFound(err) {
			return invalidParameter("The referenced task was not found.")
		}
		if err != nil {
			return err
		}
		if t.DesiredStatus != taskStopped {
			t.DesiredStatus = taskStopped
			t.StopCode = "UserInitiated"
			t.StoppedReason = deref(in.Reason)
			if t.StoppedReason == "" {
				t.StoppedReason = "Task stopped by user"
			}
			if _, err := s.putTask(tx, sc, key, &t, v); err != nil {
				return err
			}
		}
		view = t.view(sc, false)
		return nil
	})
	if err != nil {
		return nil, err
	}
	enqueue(s.tasks, key)
	return &api.StopTaskResponse{Task: &view}, nil
}

// DescribeTasks describes tasks by ID or ARN; unknown ones are failures.
func (s *Service) DescribeTasks(ctx context.Context, in *api.DescribeTasksRequest) (*api.DescribeTasksResponse, error) {
	sc := overcast.ScopeOf(ctx)
	if len(in.Tasks) == 0 {
		return nil, invalidParameter("Tasks cannot be empty.")
	}
	if len(in.Tasks) > 100 {
		return nil, invalidParameter("Tasks cannot have more than 100 elements")
	}
	tags := slices.Contains(in.Include, "TAGS")
	out := &api.DescribeTasksResponse{Tasks: api.Tasks{}, Failures: api.Failures{}}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		if _, _, err := s.activeCluster(tx, sc, in.Cluster); err != nil {
			return err
		}
		for _, ref := range in.Tasks {
			cluster, id := taskRef(in.Cluster, ref)
			t, _, err := s.readTask(tx, taskKey(sc, cluster, id))
			if isNotFound(err) {
				out.Failures = append(out.Failures, missing(refARN(ref, taskARN(sc, cluster, id))))
				continue
			}
			if err != nil {
				return err
			}
			out.Tasks = append(out.Tasks, t.view(sc, tags))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListTasks lists a cluster's task ARNs, filtered as the request asks.
func (s *Service) ListTasks(ctx context.Context, in *api.ListTasksRequest) (*api.ListTasksResponse, error) {
	sc := overcast.ScopeOf(ctx)
	desired := cmpOr(deref(in.DesiredStatus), taskRunning)
	if desired != taskRunning && desired != taskStopped && desired != taskPending {
		return nil, invalidParameter("Invalid desiredStatus: %s", desired)
	}
	var instance string
	if in.ContainerInstance != nil {
		c, id := instanceRef(in.Cluster, *in.ContainerInstance)
		instance = instanceKey(sc, c, id)
	}
	family := deref(in.Family)
	service := deref(in.ServiceName)
	keep := func(_ store.Tx, t task) bool {
		if t.StoppedAt != nil && s.Now().Sub(*t.StoppedAt) >= stoppedFor {
			return false
		}
		switch {
		case desired == taskStopped && t.DesiredStatus != taskStopped,
			desired != taskStopped && t.DesiredStatus == taskStopped,
			family != "" && deref(t.Definition.Family) != family,
			instance != "" && t.ContainerInstance != instance,
			in.StartedBy != nil && t.StartedBy != *in.StartedBy,
			service != "" && t.Group != "service:"+service,
			in.LaunchType != nil && t.LaunchType != *in.LaunchType:
			return false
		}
		return true
	}
	arns, next, err := listInCluster(ctx, s, in.Cluster, tasksTable, in.NextToken, in.MaxResults, keep, func(t task) string { return t.ARN })
	if err != nil {
		return nil, err
	}
	return &api.ListTasksResponse{TaskArns: arns, NextToken: next}, nil
}
