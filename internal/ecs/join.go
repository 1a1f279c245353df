package ecs

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	api "overcast/internal/api/ecs"
	"overcast/internal/bus"
	"overcast/internal/controller"
	"overcast/internal/store"
)

// Instances is what ECS reads of EC2: the instances that join clusters.
// The app adapts internal/ec2 to it.
type Instances interface {
	// Instance returns an instance of the account and region, or an error
	// wrapping ErrInstanceNotFound when EC2 no longer knows it.
	Instance(ctx context.Context, account, region, id string) (Instance, error)
}

// ErrInstanceNotFound is what Instances returns for an unknown instance.
var ErrInstanceNotFound = errors.New("ecs: no such EC2 instance")

// Instance is an EC2 instance as ECS sees it.
type Instance struct {
	ID               string
	Type             string
	ImageID          string
	State            string // pending, running, stopping, stopped, shutting-down, terminated
	AvailabilityZone string
	SubnetID         string
	VPCID            string
	PrivateIP        string
	Architecture     string // x86_64, arm64
	VCPUs            int
	MemoryMiB        int
	// UserData is the instance's user data, decoded (base64 is accepted
	// too).
	UserData              []byte
	IamInstanceProfileArn string
	LaunchTime            time.Time
	// AutoScalingGroup is the name of the group that launched it, from
	// its aws:autoscaling:groupName tag.
	AutoScalingGroup string
}

// ec2StateChanges are the events EC2 publishes on the bus when an
// instance changes state.
var ec2StateChanges = bus.Pattern{Source: "aws.ec2", Types: []string{"EC2 Instance State-change Notification"}}

// joinKeys turns a state change into the key of its instance:
// "account/region/instance-id", the key ec2IndexTable uses.
func joinKeys(ev bus.Event) []string {
	var detail struct {
		InstanceID string `json:"instance-id"`
	}
	if json.Unmarshal(ev.Detail, &detail) != nil || detail.InstanceID == "" {
		return nil
	}
	return []string{scope{Account: ev.Account, Region: ev.Region}.Key(detail.InstanceID)}
}

// joinedInstances are the EC2 instances registered as container
// instances: a restart looks at each again.
func (s *Service) joinedInstances(ctx context.Context) ([]string, error) {
	return store.TableKeys(ctx, s.Store, ec2IndexTable)
}

// joinRetry is how often an instance whose agent cannot register (its
// cluster does not exist) tries again, as the agent does.
const joinRetry = 30 * time.Second

// reconcileJoin does for one EC2 instance what its ECS agent would: a
// running instance registers with the cluster its user data names; a
// stopped one's agent disconnects; a terminated one is deregistered.
func (s *Service) reconcileJoin(ctx context.Context, key string) (controller.Result, error) {
	parts := strings.SplitN(key, "/", 3)
	if len(parts) != 3 {
		return controller.Result{}, nil
	}
	sc := scope{Account: parts[0], Region: parts[1]}
	inst, err := s.instances.Instance(ctx, sc.Account, sc.Region, parts[2])
	// An instance EC2 does not know was terminated and forgotten, if
	// overcast joined it; a container instance registered by the API
	// with an identity document of its own (an agent outside overcast's
	// EC2) is not EC2's to end.
	unknown := errors.Is(err, ErrInstanceNotFound)
	if unknown {
		inst, err = Instance{ID: parts[2], State: "terminated"}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	switch inst.State {
	case "running":
		return s.joinRunning(ctx, sc, inst)
	case "stopping", "stopped", "shutting-down":
		return controller.Result{}, s.changeJoined(ctx, sc, inst.ID, func(tx store.Tx, ci containerInstance, v int64) error {
			if !ci.AgentConnected {
				return nil
			}
			ci.AgentConnected = false
			return s.putInstance(tx, sc, &ci, v)
		})
	case "terminated":
		return controller.Result{}, s.changeJoined(ctx, sc, inst.ID, func(tx store.Tx, ci containerInstance, v int64) error {
			if unknown && !ci.Joined {
				return nil
			}
			_, err := s.deregister(tx, sc, ci, v)
			return err
		})
	}
	return controller.Result{}, nil
}

// changeJoined applies fn to the live container instance of an EC2
// instance, if it has one.
func (s *Service) changeJoined(ctx context.Context, sc scope, instanceID string, fn func(tx store.Tx, ci containerInstance, v int64) error) error {
	return s.update(ctx, func(tx store.Tx) error {
		var key string
		if _, err := store.GetJSON(tx, ec2IndexTable, sc.Key(instanceID), &key); isNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		var ci containerInstance
		v, err := store.GetJSON(tx, instancesTable, key, &ci)
		if isNotFound(err) || (err == nil && ci.Status == statusInactive) {
			return nil
		}
		if err != nil {
			return err
		}
		return fn(tx, ci, v)
	})
}

func (s *Service) joinRunning(ctx context.Context, sc scope, inst Instance) (controller.Result, error) {
	cfg, err := parseUserData(inst.UserData)
	if err != nil {
		// The agent refuses to start with a bad config: the instance
		// never registers.
		s.Logger.Warn("ecs: EC2 instance's agent config is invalid; not registering", "instance", inst.ID, "err", err)
		return controller.Result{}, nil
	}
	// The agent registers the MemTotal of /proc/meminfo, in MiB, less
	// ECS_RESERVED_MEMORY, and CPU as 1024 units per vCPU. On EC2 the
	// kernel keeps some memory out of MemTotal (a t3.medium's 4096 MiB
	// registers about 3900); an overcast instance has no kernel of its
	// own, so its MemTotal is the instance type's memory.
	mem := inst.MemoryMiB - cfg.ReservedMemory
	if mem <= 0 {
		s.Logger.Warn("ecs: ECS_RESERVED_MEMORY exceeds the instance's memory; not registering", "instance", inst.ID)
		return controller.Result{}, nil
	}
	attrs := agentCapabilities()
	for _, a := range []attribute{{Name: "ecs.vpc-id", Value: inst.VPCID}, {Name: "ecs.subnet-id", Value: inst.SubnetID}} {
		if a.Value != "" {
			attrs = append(attrs, a)
		}
	}
	engine := s.engineForZone(inst.AvailabilityZone)
	if engine != "" {
		attrs = append(attrs, attribute{Name: hostAttribute, Value: engine})
	}
	for k, v := range cfg.InstanceAttributes {
		attrs = append(attrs, attribute{Name: k, Value: v, Custom: true})
	}
	r := registration{
		cluster: new(cfg.Cluster),
		doc: identityDocument{InstanceID: inst.ID, InstanceType: inst.Type, AvailabilityZone: inst.AvailabilityZone,
			Region: sc.Region, ImageID: inst.ImageID, Architecture: inst.Architecture, PrivateIP: inst.PrivateIP},
		total:      reservation{CPU: inst.VCPUs * 1024, Memory: mem, Ports: cfg.ReservedPorts, PortsUDP: cfg.ReservedPortsUDP},
		attributes: attrs, tags: cfg.Tags, joined: true,
		provider: s.providerOfInstance(ctx, sc, cfg.Cluster, inst.ID, inst.AutoScalingGroup),
		engine:   engine,
	}
	retry := false
	err = s.update(ctx, func(tx store.Tx) error {
		retry = false
		var key string
		if _, err := store.GetJSON(tx, ec2IndexTable, sc.Key(inst.ID), &key); err == nil {
			var ci containerInstance
			v, err := store.GetJSON(tx, instancesTable, key, &ci)
			if err == nil && ci.Status != statusInactive {
				// Registered already: a restarted instance's agent
				// reconnects.
				if ci.AgentConnected {
					return nil
				}
				ci.AgentConnected = true
				return s.putInstance(tx, sc, &ci, v)
			}
		}
		_, err := s.register(tx, sc, r)
		var notFound *api.ClusterNotFoundException
		if errors.As(err, &notFound) {
			retry = true
			return nil
		}
		return err
	})
	if retry {
		s.Logger.Warn("ecs: EC2 instance's cluster does not exist; its agent retries", "instance", inst.ID, "cluster", cfg.Cluster)
		return controller.After(joinRetry), err
	}
	return controller.Result{}, err
}

// The agent overcast stands in for reports itself as a recent ECS agent
// on a recent Docker.
const (
	agentVersion  = "1.97.1"
	agentHash     = "overcast"
	dockerVersion = "DockerVersion: 25.0.8"
)

// agentCapabilities are the attributes a recent ECS agent registers on a
// Linux instance (amazon-ecs-agent, agent/app/agent_capability.go), for
// what overcast's task runner supports.
func agentCapabilities() []attribute {
	var out []attribute
	add := func(names ...string) {
		for _, n := range names {
			out = append(out, attribute{Name: n})
		}
	}
	for v := 17; v <= 44; v++ {
		add(capabilityPrefix + "docker-remote-api.1." + itoa(v))
	}
	for _, d := range []string{"awslogs", "json-file", "none", "syslog", "fluentd", "journald", "gelf", "awsfirelens"} {
		add(capabilityPrefix + "logging-driver." + d)
	}
	add(capabilityPrefix+"privileged-container", capabilityPrefix+"ecr-auth",
		capabilityPrefix+"task-iam-role", capabilityPrefix+"task-iam-role-network-host")
	for _, c := range []string{
		"task-eni", "execution-role-ecr-pull", "execution-role-awslogs", "container-health-check",
		"private-registry-authentication.secretsmanager", "secrets.ssm.environment-variables",
		"secrets.asm.environment-variables", "secrets.ssm.bootstrap.log-driver", "secrets.asm.bootstrap.log-driver",
		"ecr-endpoint", "container-ordering", "full-sync", "env-files.s3", "pid-ipc-namespace-sharing",
		"task-cpu-mem-limit", "increased-task-cpu-limit", "network.container-port-range",
		"container-restart-policy", "docker-plugin.local", "efs", "efsAuth",
	} {
		add(attributePrefix + c)
	}
	return out
}
