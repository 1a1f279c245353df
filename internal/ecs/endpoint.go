package ecs

import (
	"context"
	"strconv"
	"strings"

	"overcast/internal/ecs/taskendpoint"
)

// TaskEndpoint serves tasks their role's credentials and their metadata
// (taskendpoint.Server): ECS registers each task that runs, and gives its
// containers the environment that finds the endpoint.
type TaskEndpoint interface {
	Start(ctx context.Context) error
	Network() string
	Register(ctx context.Context, info taskendpoint.TaskInfo) (map[string]map[string]string, error)
	Deregister(taskARN string)
	Close() error
}

// registerTask tells the endpoint of the task's current state, and returns
// its containers' environment; nil without an endpoint.
func (s *Service) registerTask(ctx context.Context, sc scope, t task) (map[string]map[string]string, error) {
	if s.endpoint == nil {
		return nil, nil
	}
	return s.endpoint.Register(ctx, s.taskInfo(sc, t))
}

// taskInfo is the task as task metadata v4 shows it.
func (s *Service) taskInfo(sc scope, t task) taskendpoint.TaskInfo {
	def := t.Definition
	info := taskendpoint.TaskInfo{ARN: t.ARN, Cluster: clusterARN(sc, t.Cluster), Family: deref(def.Family),
		Revision: strconv.Itoa(int(deref(def.Revision))), TaskRoleArn: deref(def.TaskRoleArn),
		Account: sc.Account, Region: sc.Region, AvailabilityZone: sc.Region + "a", LaunchType: t.LaunchType,
		ServiceName: strings.TrimPrefix(t.Group, "service:"), DesiredStatus: t.DesiredStatus, KnownStatus: t.LastStatus,
		CPU: float64(t.CPU) / 1024, Memory: int64(t.Memory),
		PullStartedAt: t.PullStartedAt, PullStoppedAt: t.PullStoppedAt, ExecutionStoppedAt: t.StoppedAt, Engine: t.Engine}
	if !strings.HasPrefix(t.Group, "service:") {
		info.ServiceName = ""
	}
	if o := t.Overrides; o != nil && o.TaskRoleArn != nil {
		info.TaskRoleArn = *o.TaskRoleArn
	}
	if t.Interface != nil {
		info.AvailabilityZone = t.Interface.AvailabilityZone
	}
	for _, c := range t.containersView() {
		ci := taskendpoint.ContainerInfo{Name: deref(c.Name), ARN: deref(c.ContainerArn), DockerID: deref(c.RuntimeId),
			Image: deref(c.Image), DesiredStatus: t.DesiredStatus, KnownStatus: deref(c.LastStatus)}
		if c.ExitCode != nil {
			ci.ExitCode = new(int(*c.ExitCode))
		}
		ci.CPU, _ = strconv.ParseFloat(deref(c.Cpu), 64)
		ci.Memory, _ = strconv.ParseInt(deref(c.Memory), 10, 64)
		for _, b := range c.NetworkBindings {
			ci.Ports = append(ci.Ports, taskendpoint.Port{ContainerPort: uint16(deref(b.ContainerPort)), HostPort: uint16(deref(b.HostPort)),
				Protocol: deref(b.Protocol), HostIP: deref(b.BindIP)})
		}
		network := taskendpoint.Network{NetworkMode: cmpOr(deref(def.NetworkMode), "bridge")}
		if eni := t.Interface; eni != nil {
			network.IPv4Addresses, network.AttachmentIndex = []string{eni.PrivateIP}, new(0)
			network.MACAddress, network.PrivateDNSName = eni.MAC, eni.PrivateDNSName
		}
		ci.Networks = []taskendpoint.Network{network}
		for _, cd := range def.ContainerDefinitions {
			if deref(cd.Name) == ci.Name && cd.LogConfiguration != nil {
				ci.LogDriver, ci.LogOptions = deref(cd.LogConfiguration.LogDriver), cd.LogConfiguration.Options
			}
		}
		info.Containers = append(info.Containers, ci)
	}
	return info
}
