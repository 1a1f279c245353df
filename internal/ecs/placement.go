package ecs

import (
	"strconv"

	"overcast/internal/ecs/placement"
)

// placementInstance is a container instance as the placement engine and
// the cluster query language see it: what it registered, what its tasks
// take of it, and its attributes.
func placementInstance(ci containerInstance, u instanceUsage) *placement.Instance {
	inst := &placement.Instance{
		ARN: ci.ARN, EC2InstanceID: ci.EC2InstanceID, Status: ci.Status, AgentConnected: ci.AgentConnected,
		RegisteredAt: ci.RegisteredAt, Attributes: make(map[string]string, len(ci.Attributes)),
		RegisteredCPU: ci.CPU, RegisteredMemory: ci.Memory,
		RemainingCPU: ci.CPU - u.CPU, RemainingMemory: ci.Memory - u.Memory,
		RunningTasksCount: u.running, Groups: u.groups,
	}
	if ci.VersionInfo != nil && ci.VersionInfo.AgentVersion != nil {
		inst.AgentVersion = *ci.VersionInfo.AgentVersion
	}
	for _, a := range ci.Attributes {
		inst.Attributes[a.Name] = a.Value
	}
	for _, ports := range []struct {
		list     []string
		protocol string
	}{{append(append([]string{}, ci.Ports...), u.Ports...), "tcp"}, {append(append([]string{}, ci.PortsUDP...), u.PortsUDP...), "udp"}} {
		for _, p := range ports.list {
			if n, err := strconv.Atoi(p); err == nil {
				inst.UsedPorts = append(inst.UsedPorts, placement.Port{Number: n, Protocol: ports.protocol})
			}
		}
	}
	return inst
}
