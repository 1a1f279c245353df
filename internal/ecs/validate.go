package ecs

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	api "overcast/internal/api/ecs"
)

// The rules of RegisterTaskDefinition, with ECS's codes and messages.
// ECS answers ClientException for what is wrong in the task definition
// itself; the codec has already enforced the model (required fields,
// enums such as the port mapping protocol and dependsOn conditions).

var (
	familyPattern    = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)
	containerPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)
	// unitValue is "1 vCPU", "0.5 vcpu", "2 GB", "512": a number and an
	// optional unit, as ECS accepts task cpu and memory.
	unitValue = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$`)
)

// fargateMemory lists, for each Fargate task CPU, the memory sizes (MiB)
// Fargate runs: from, to and step.
var fargateMemory = map[int][3]int{
	256:   {512, 2048, 512}, // 512, 1024, 2048: 1536 is excluded below
	512:   {1024, 4096, 1024},
	1024:  {2048, 8192, 1024},
	2048:  {4096, 16384, 1024},
	4096:  {8192, 30720, 1024},
	8192:  {16384, 61440, 4096},
	16384: {32768, 122880, 8192},
}

func fargatePair(cpu, mem int) bool {
	r, ok := fargateMemory[cpu]
	if !ok || mem < r[0] || mem > r[1] || (mem-r[0])%r[2] != 0 {
		return false
	}
	return !(cpu == 256 && mem == 1536)
}

// taskUnits converts a task-level cpu or memory value to ECS's integer
// units: "1 vCPU" is 1024 CPU units, "1 GB" is 1024 MiB; a plain number is
// already in units. ok is false for anything else.
func taskUnits(v string, unit string) (int, bool) {
	m := unitValue.FindStringSubmatch(v)
	if m == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	switch strings.ToLower(m[2]) {
	case "":
		if strings.Contains(m[1], ".") {
			return 0, false
		}
		return int(f), f > 0
	case unit:
		n := int(f * 1024)
		return n, n > 0
	}
	return 0, false
}

// taskDefinitionFrom validates a registration and returns the task
// definition ECS stores: task cpu and memory in units, defaults filled
// (essential, port protocol, host ports in awsvpc and host modes).
func taskDefinitionFrom(in *api.RegisterTaskDefinitionRequest) (*api.TaskDefinition, error) {
	family := deref(in.Family)
	if !familyPattern.MatchString(family) {
		return nil, clientError("Family contains invalid characters.")
	}
	if len(in.ContainerDefinitions) == 0 {
		return nil, clientError("Container list cannot be empty.")
	}
	if err := checkTags(nil, in.Tags); err != nil {
		return nil, err
	}
	td := &api.TaskDefinition{
		Family: in.Family, TaskRoleArn: in.TaskRoleArn, ExecutionRoleArn: in.ExecutionRoleArn,
		NetworkMode: in.NetworkMode, Volumes: in.Volumes, PlacementConstraints: in.PlacementConstraints,
		RequiresCompatibilities: in.RequiresCompatibilities, PidMode: in.PidMode, IpcMode: in.IpcMode,
		ProxyConfiguration: in.ProxyConfiguration, InferenceAccelerators: in.InferenceAccelerators,
		EphemeralStorage: in.EphemeralStorage, RuntimePlatform: in.RuntimePlatform,
		EnableFaultInjection: in.EnableFaultInjection,
		ContainerDefinitions: slices.Clone(in.ContainerDefinitions),
	}
	cpu, mem := 0, 0
	if in.Cpu != nil {
		n, ok := taskUnits(*in.Cpu, "vcpu")
		if !ok {
			return nil, clientError("Invalid 'cpu' setting for task.")
		}
		cpu, td.Cpu = n, new(strconv.Itoa(n))
	}
	if in.Memory != nil {
		n, ok := taskUnits(*in.Memory, "gb")
		if !ok {
			return nil, clientError("Invalid 'memory' setting for task.")
		}
		mem, td.Memory = n, new(strconv.Itoa(n))
	}
	mode := deref(in.NetworkMode)
	if mode == "" {
		mode = "bridge"
	}
	fargate := slices.Contains(in.RequiresCompatibilities, "FARGATE")
	if fargate {
		if err := checkFargate(td, mode, cpu, mem); err != nil {
			return nil, err
		}
	}
	if err := checkVolumes(td); err != nil {
		return nil, err
	}
	if err := checkContainers(td, mode, cpu, mem, fargate); err != nil {
		return nil, err
	}
	return td, nil
}

// checkVolumes holds each volume to one kind, and EFS volumes to ECS's
// rules: an access point or IAM authorization needs transit encryption,
// and an access point sets the root directory itself.
func checkVolumes(td *api.TaskDefinition) error {
	seen := map[string]bool{}
	for _, v := range td.Volumes {
		name := deref(v.Name)
		if seen[name] {
			return clientError("Volume names must be unique within a Task Definition: '%s'.", name)
		}
		seen[name] = true
		kinds := 0
		for _, set := range []bool{v.Host != nil, v.DockerVolumeConfiguration != nil, v.EfsVolumeConfiguration != nil,
			v.FsxWindowsFileServerVolumeConfiguration != nil} {
			if set {
				kinds++
			}
		}
		if kinds > 1 {
			return clientError("Volume '%s' can specify only one of host, dockerVolumeConfiguration, efsVolumeConfiguration and fsxWindowsFileServerVolumeConfiguration.", name)
		}
		efs := v.EfsVolumeConfiguration
		if efs == nil {
			continue
		}
		encrypted := deref(efs.TransitEncryption) == "ENABLED"
		switch {
		case deref(efs.FileSystemId) == "":
			return clientError("Volume '%s': efsVolumeConfiguration.fileSystemId should not be null or empty.", name)
		case efs.AuthorizationConfig == nil:
			continue
		case deref(efs.AuthorizationConfig.AccessPointId) != "" && !encrypted:
			return clientError("Volume '%s': transit encryption must be enabled when using an EFS access point.", name)
		case deref(efs.AuthorizationConfig.Iam) == "ENABLED" && !encrypted:
			return clientError("Volume '%s': transit encryption must be enabled when using EFS IAM authorization.", name)
		case deref(efs.AuthorizationConfig.AccessPointId) != "" && deref(efs.RootDirectory) != "" && deref(efs.RootDirectory) != "/":
			return clientError("When using an EFS access point, the root directory must either be set to \"/\" or be omitted.")
		}
	}
	return nil
}

func checkFargate(td *api.TaskDefinition, mode string, cpu, mem int) error {
	switch {
	case mode != "awsvpc":
		return clientError("Fargate only supports network mode \u2018awsvpc\u2019.")
	case td.Cpu == nil:
		return clientError("Fargate requires that 'cpu' be defined at the task level.")
	case td.Memory == nil:
		return clientError("Fargate requires that 'memory' be defined at the task level.")
	case !fargatePair(cpu, mem):
		return clientError("No Fargate configuration exists for given values: %d CPU, %d memory. See the Amazon ECS documentation for the valid values.", cpu, mem)
	case td.IpcMode != nil:
		return clientError("Tasks using the Fargate launch type do not support ipcMode.")
	case len(td.PlacementConstraints) > 0:
		return clientError("Tasks using the Fargate launch type do not support placement constraints.")
	}
	for _, v := range td.Volumes {
		if v.Host != nil && v.Host.SourcePath != nil {
			return clientError("Fargate compatible task definitions do not support sourcePath")
		}
	}
	return nil
}

func checkContainers(td *api.TaskDefinition, mode string, taskCPU, taskMem int, fargate bool) error {
	names := map[string]bool{}
	essential := false
	sumCPU, sumReserved := 0, 0
	for i := range td.ContainerDefinitions {
		c := &td.ContainerDefinitions[i]
		name := deref(c.Name)
		switch {
		case name == "":
			return clientError("Container.name should not be null or empty.")
		case !containerPattern.MatchString(name):
			return clientError("Container.name contains invalid characters.")
		case deref(c.Image) == "":
			return clientError("Container.image should not be null or empty.")
		case names[name]:
			return clientError("Container names must be unique within a Task Definition.")
		}
		names[name] = true
		if c.Essential == nil {
			c.Essential = new(true)
		}
		essential = essential || *c.Essential
		if err := checkMemory(c, taskMem); err != nil {
			return err
		}
		sumCPU += int(deref(c.Cpu))
		sumReserved += int(max(deref(c.MemoryReservation), 0))
		if deref(c.MemoryReservation) == 0 {
			sumReserved += int(deref(c.Memory))
		}
		if err := checkPorts(c, mode); err != nil {
			return err
		}
		if len(c.Links) > 0 && mode != "bridge" {
			return clientError("Links are not supported when networkMode=%s.", mode)
		}
		if err := checkLogging(c, td, fargate); err != nil {
			return err
		}
		if fargate && deref(c.Privileged) {
			return clientError("Privileged containers are not supported on Fargate.")
		}
		if fargate && td.ExecutionRoleArn == nil && isECRImage(deref(c.Image)) {
			return clientError("Fargate requires task definition to have execution role ARN to support ECR images.")
		}
		if err := checkEnvironmentFiles(c); err != nil {
			return err
		}
	}
	if !essential {
		return clientError("Task definition doesn't have any essential container.")
	}
	if taskMem > 0 && sumReserved > taskMem {
		return clientError("The sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory'.")
	}
	if taskCPU > 0 && sumCPU > taskCPU {
		return clientError("The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'.")
	}
	return checkReferences(td, names)
}

func checkMemory(c *api.ContainerDefinition, taskMem int) error {
	name := deref(c.Name)
	hard, soft := deref(c.Memory), deref(c.MemoryReservation)
	switch {
	case taskMem == 0 && hard == 0 && soft == 0:
		return clientError("Invalid setting for container '%s'. At least one of 'memory' or 'memoryReservation' must be specified.", name)
	case hard > 0 && soft > hard:
		return clientError("Invalid setting for container '%s'. 'memory' must be greater than or equal to 'memoryReservation'.", name)
	case taskMem > 0 && int(hard) > taskMem:
		return clientError("The 'memory' setting for container '%s' is greater than for the task.", name)
	}
	return nil
}

// checkPorts holds port mappings to the network mode: awsvpc and host
// publish the container port itself (hostPort omitted or equal); bridge
// maps, hostPort 0 meaning a dynamic port.
func checkPorts(c *api.ContainerDefinition, mode string) error {
	for i := range c.PortMappings {
		pm := &c.PortMappings[i]
		if pm.ContainerPortRange == nil && deref(pm.ContainerPort) <= 0 {
			return clientError("Invalid 'containerPort' setting for container '%s'.", deref(c.Name))
		}
		if pm.Protocol == nil {
			pm.Protocol = new("tcp")
		}
		switch mode {
		case "awsvpc", "host":
			if pm.HostPort != nil && *pm.HostPort != deref(pm.ContainerPort) {
				return clientError("When networkMode=%s, the host ports and container ports in port mappings must match.", mode)
			}
			if pm.ContainerPort != nil {
				pm.HostPort = pm.ContainerPort
			}
		case "none":
			return clientError("Port mappings are not supported when networkMode=none.")
		default:
			if pm.HostPort == nil && pm.ContainerPortRange == nil {
				pm.HostPort = new(int32(0))
			}
		}
	}
	return nil
}

func checkLogging(c *api.ContainerDefinition, td *api.TaskDefinition, fargate bool) error {
	lc := c.LogConfiguration
	if lc == nil || deref(lc.LogDriver) != "awslogs" {
		return nil
	}
	if lc.Options["awslogs-group"] == "" {
		return clientError("Log driver awslogs option 'awslogs-group' should not be null or empty.")
	}
	if fargate && lc.Options["awslogs-stream-prefix"] == "" {
		return clientError("Log driver awslogs option 'awslogs-stream-prefix' should not be null or empty.")
	}
	if fargate && td.ExecutionRoleArn == nil {
		return clientError("Fargate requires task definition to have execution role ARN to support log driver awslogs.")
	}
	return nil
}

func checkEnvironmentFiles(c *api.ContainerDefinition) error {
	for _, f := range c.EnvironmentFiles {
		v := deref(f.Value)
		if !strings.HasPrefix(v, "arn:aws:s3:::") || !strings.HasSuffix(v, ".env") {
			return clientError("Invalid environment file '%s' for container '%s'. Specify the ARN of an Amazon S3 object with the .env file extension.", v, deref(c.Name))
		}
	}
	for _, sec := range c.Secrets {
		if deref(sec.Name) == "" || deref(sec.ValueFrom) == "" {
			return clientError("Secret name and valueFrom should not be null or empty for container '%s'.", deref(c.Name))
		}
	}
	return nil
}

// checkReferences holds what containers name to what the task definition
// has: volumes in mountPoints, containers in volumesFrom, links and
// dependsOn.
func checkReferences(td *api.TaskDefinition, names map[string]bool) error {
	volumes := map[string]bool{}
	for _, v := range td.Volumes {
		volumes[deref(v.Name)] = true
	}
	essential := map[string]bool{}
	for _, c := range td.ContainerDefinitions {
		essential[deref(c.Name)] = deref(c.Essential)
	}
	for _, c := range td.ContainerDefinitions {
		name := deref(c.Name)
		for _, mp := range c.MountPoints {
			if !volumes[deref(mp.SourceVolume)] {
				return clientError("Unknown volume '%s'.", deref(mp.SourceVolume))
			}
		}
		for _, vf := range c.VolumesFrom {
			if src := deref(vf.SourceContainer); !names[src] || src == name {
				return clientError("Invalid 'volumesFrom' setting. Unknown container: '%s'.", src)
			}
		}
		for _, l := range c.Links {
			target, _, _ := strings.Cut(l, ":")
			if !names[target] || target == name {
				return clientError("Invalid 'links' setting. Unknown container: '%s'.", target)
			}
		}
		for _, d := range c.DependsOn {
			target := deref(d.ContainerName)
			if !names[target] || target == name {
				// ECS's message has the stray "+ ".
				return clientError("Cannot depend on container + '%s' because it does not exist", target)
			}
			if cond := deref(d.Condition); (cond == "COMPLETE" || cond == "SUCCESS") && essential[target] {
				return clientError("A dependency container with SUCCESS or COMPLETE condition cannot be an essential container")
			}
		}
	}
	return nil
}

// isECRImage says whether an image lives in an ECR registry (AWS's host
// form or overcast's own repository URIs), which the agent pulls with the
// execution role.
func isECRImage(image string) bool {
	host, _, ok := strings.Cut(image, "/")
	return ok && (strings.Contains(host, ".dkr.ecr.") || strings.HasPrefix(host, "localhost") || strings.HasPrefix(host, "127."))
}

// compatibilities are the launch types a task definition can run on: EC2
// always, Fargate when it meets Fargate's rules, and those it asked for.
func compatibilities(td *api.TaskDefinition) api.CompatibilityList {
	out := api.CompatibilityList{"EC2"}
	probe := *td
	probe.RequiresCompatibilities = api.CompatibilityList{"FARGATE"}
	if fargateCompatible(&probe) {
		out = append(out, "FARGATE")
	}
	for _, c := range td.RequiresCompatibilities {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func fargateCompatible(td *api.TaskDefinition) bool {
	cpu, _ := taskUnits(deref(td.Cpu), "vcpu")
	mem, _ := taskUnits(deref(td.Memory), "gb")
	if checkFargate(td, deref(td.NetworkMode), cpu, mem) != nil {
		return false
	}
	for _, c := range td.ContainerDefinitions {
		if len(c.Links) > 0 || deref(c.Privileged) {
			return false
		}
		if c.LogConfiguration != nil && deref(c.LogConfiguration.LogDriver) == "awslogs" && checkLogging(&c, td, true) != nil {
			return false
		}
		if td.ExecutionRoleArn == nil && isECRImage(deref(c.Image)) {
			return false
		}
	}
	return true
}

const (
	capabilityPrefix = "com.amazonaws.ecs.capability."
	attributePrefix  = "ecs.capability."
)

// requiresAttributes are the container instance attributes a task
// definition needs, as ECS computes them from what it uses.
func requiresAttributes(td *api.TaskDefinition) api.RequiresAttributes {
	set := map[string]bool{}
	if td.TaskRoleArn != nil {
		set[capabilityPrefix+"task-iam-role"] = true
	}
	if deref(td.NetworkMode) == "awsvpc" {
		set[attributePrefix+"task-eni"] = true
	}
	if td.PidMode != nil || td.IpcMode != nil {
		set[attributePrefix+"pid-ipc-namespace-sharing"] = true
	}
	for _, v := range td.Volumes {
		if efs := v.EfsVolumeConfiguration; efs != nil {
			set[attributePrefix+"efs"] = true
			if efs.AuthorizationConfig != nil {
				set[attributePrefix+"efsAuth"] = true
			}
		}
	}
	for _, c := range td.ContainerDefinitions {
		if isECRImage(deref(c.Image)) {
			set[capabilityPrefix+"ecr-auth"] = true
			if td.ExecutionRoleArn != nil {
				set[attributePrefix+"execution-role-ecr-pull"] = true
			}
		}
		if lc := c.LogConfiguration; lc != nil {
			set[capabilityPrefix+"logging-driver."+deref(lc.LogDriver)] = true
			if deref(lc.LogDriver) == "awslogs" {
				set[capabilityPrefix+"docker-remote-api.1.19"] = true
				if td.ExecutionRoleArn != nil {
					set[attributePrefix+"execution-role-awslogs"] = true
				}
			}
		}
		if c.MemoryReservation != nil {
			set[capabilityPrefix+"docker-remote-api.1.21"] = true
		}
		if len(c.DockerLabels) > 0 {
			set[capabilityPrefix+"docker-remote-api.1.18"] = true
		}
		if deref(c.Privileged) {
			set[capabilityPrefix+"privileged-container"] = true
		}
		if c.HealthCheck != nil {
			set[attributePrefix+"container-health-check"] = true
		}
		if len(c.DependsOn) > 0 {
			set[attributePrefix+"container-ordering"] = true
		}
		if len(c.EnvironmentFiles) > 0 {
			set[attributePrefix+"env-files.s3"] = true
		}
		for _, sec := range c.Secrets {
			if strings.Contains(deref(sec.ValueFrom), ":secretsmanager:") {
				set[attributePrefix+"secrets.asm.environment-variables"] = true
			} else {
				set[attributePrefix+"secrets.ssm.environment-variables"] = true
			}
		}
	}
	out := make(api.RequiresAttributes, 0, len(set))
	for _, n := range slices.Sorted(maps.Keys(set)) {
		out = append(out, api.Attribute{Name: new(n)})
	}
	return out
}
