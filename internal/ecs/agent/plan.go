package agent

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"overcast/internal/api/ecs"
	"overcast/internal/docker"
)

// Network modes.
const (
	ModeBridge = "bridge"
	ModeHost   = "host"
	ModeNone   = "none"
	ModeAWSVPC = "awsvpc"
)

// plan is a task translated to engine objects, before anything is made.
type plan struct {
	mode       string
	containers []*planned
	volumes    []plannedVolume
	efs        []plannedEFS
}

// plannedEFS is an EFS volume: its containers bind source until launch
// replaces it with the file system's host directory.
type plannedEFS struct {
	source                                     string
	fileSystemID, accessPointID, rootDirectory string
}

// planned is one container to create.
type planned struct {
	name string
	spec docker.ContainerSpec
	meta containerMeta
	// image is the definition's image, before the pull resolves it.
	image string
	// base is the agent's environment, below environment files.
	base     map[string]string
	envFiles []string // S3 object ARNs, in precedence order
	secrets  []ecs.Secret
	// env is the definition's and the overrides' environment, which
	// secrets and environment files are merged with at launch.
	env map[string]string
	// after are the containers this one's volumesFrom and links name:
	// they must exist first.
	after []string
}

// plannedVolume is a Docker volume the task mounts.
type plannedVolume struct {
	name   string // the task definition's
	docker string // the engine's
	// shared volumes outlive the task; autoprovision makes a missing one.
	shared, autoprovision bool
	driver                string
	driverOpts, labels    map[string]string
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9_.-]`)

// plan checks spec and translates it; its errors say why the task cannot
// run.
func (a *Agent) plan(spec Spec) (*plan, error) {
	def := spec.Definition
	p := &plan{mode: spec.NetworkMode}
	if p.mode == "" {
		p.mode = deref(def.NetworkMode)
	}
	if p.mode == "" {
		p.mode = ModeBridge
	}
	if !slices.Contains([]string{ModeBridge, ModeHost, ModeNone, ModeAWSVPC}, p.mode) {
		return nil, fmt.Errorf("network mode %q is not supported", p.mode)
	}
	if len(def.ContainerDefinitions) == 0 {
		return nil, fmt.Errorf("the task definition has no containers")
	}
	family := unsafeName.ReplaceAllString(deref(def.Family), "-")
	prefix := fmt.Sprintf("ecs-%s-%d-", family, deref(def.Revision))

	volumes := map[string]string{} // definition name -> mount source
	hostPaths := map[string]bool{}
	for _, v := range def.Volumes {
		vname := deref(v.Name)
		if vname == "" {
			return nil, fmt.Errorf("a volume has no name")
		}
		switch {
		case v.Host != nil && deref(v.Host.SourcePath) != "":
			path, err := a.allowedHostPath(deref(v.Host.SourcePath))
			if err != nil {
				return nil, err
			}
			volumes[vname], hostPaths[vname] = path, true
		case v.DockerVolumeConfiguration != nil:
			c := v.DockerVolumeConfiguration
			pv := plannedVolume{name: vname, driver: deref(c.Driver), driverOpts: c.DriverOpts, labels: c.Labels}
			if deref(c.Scope) == "shared" {
				pv.shared, pv.autoprovision, pv.docker = true, deref(c.Autoprovision), vname
			} else {
				pv.docker = taskVolumeName(spec, vname)
			}
			p.volumes = append(p.volumes, pv)
			volumes[vname] = pv.docker
		case v.EfsVolumeConfiguration != nil && a.cfg.FileSystems != nil:
			c := v.EfsVolumeConfiguration
			fs := plannedEFS{source: "efs:" + vname, fileSystemID: deref(c.FileSystemId), rootDirectory: deref(c.RootDirectory)}
			if c.AuthorizationConfig != nil {
				fs.accessPointID = deref(c.AuthorizationConfig.AccessPointId)
			}
			// transitEncryption and IAM authorization have nothing to
			// protect on one host.
			p.efs = append(p.efs, fs)
			volumes[vname], hostPaths[vname] = fs.source, true
		case v.EfsVolumeConfiguration != nil, v.FsxWindowsFileServerVolumeConfiguration != nil, v.S3filesVolumeConfiguration != nil:
			return nil, fmt.Errorf("volume %s: only host and Docker volumes are supported", vname)
		default:
			// An empty task volume, shared by the task's containers.
			pv := plannedVolume{name: vname, docker: taskVolumeName(spec, vname)}
			p.volumes = append(p.volumes, pv)
			volumes[vname] = pv.docker
		}
	}

	overrides := map[string]ecs.ContainerOverride{}
	if spec.Overrides != nil {
		for _, o := range spec.Overrides.ContainerOverrides {
			overrides[deref(o.Name)] = o
		}
	}
	// names tells the task's containers, and whether each is essential.
	names := map[string]bool{}
	for _, d := range def.ContainerDefinitions {
		names[deref(d.Name)] = essential(d)
	}
	for i, d := range def.ContainerDefinitions {
		c, err := a.planContainer(spec, p.mode, i, d, overrides[deref(d.Name)], volumes, hostPaths, names)
		if err != nil {
			return nil, fmt.Errorf("container %s: %w", deref(d.Name), err)
		}
		c.spec.Name = unsafeName.ReplaceAllString(prefix+c.name+"-"+spec.TaskID(), "-")
		p.containers = append(p.containers, c)
	}
	// Links and volumesFrom name other containers by their definition
	// names; the engine knows them by their container names.
	for _, c := range p.containers {
		for i, l := range c.spec.Links {
			target, alias, _ := strings.Cut(l, ":")
			c.spec.Links[i] = p.byName(target).spec.Name + ":" + alias
		}
		for i, v := range c.spec.VolumesFrom {
			source, ro, _ := strings.Cut(v, ":")
			c.spec.VolumesFrom[i] = p.byName(source).spec.Name
			if ro != "" {
				c.spec.VolumesFrom[i] += ":" + ro
			}
		}
	}
	if !slices.ContainsFunc(p.containers, func(c *planned) bool { return c.meta.Essential }) {
		return nil, fmt.Errorf("the task has no essential container")
	}
	return p, nil
}

func (p *plan) byName(name string) *planned {
	i := slices.IndexFunc(p.containers, func(c *planned) bool { return c.name == name })
	return p.containers[i]
}

func taskVolumeName(spec Spec, name string) string {
	return unsafeName.ReplaceAllString("ecs-"+spec.TaskID()+"-"+name, "-")
}

// allowedHostPath is path, cleaned, when it lies under an allowed root.
func (a *Agent) allowedHostPath(path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("host path %s is not absolute", path)
	}
	path = filepath.Clean(path)
	// Resolve what exists of it, so that a link cannot lead out.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	for _, root := range a.cfg.AllowedHostRoots {
		if real, err := filepath.EvalSymlinks(root); err == nil {
			root = real
		}
		if rel, err := filepath.Rel(root, path); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return path, nil
		}
	}
	return "", fmt.Errorf("host path %s is outside the allowed roots %v", path, a.cfg.AllowedHostRoots)
}

func (a *Agent) planContainer(spec Spec, mode string, order int, d ecs.ContainerDefinition, o ecs.ContainerOverride,
	volumes map[string]string, hostPaths map[string]bool, names map[string]bool) (*planned, error) {
	c := &planned{name: deref(d.Name), image: deref(d.Image), secrets: d.Secrets, env: map[string]string{}, base: spec.Environment}
	if own := spec.ContainerEnvironment[c.name]; len(own) > 0 {
		c.base = maps.Clone(spec.Environment)
		if c.base == nil {
			c.base = map[string]string{}
		}
		maps.Copy(c.base, own)
	}
	if c.name == "" || c.image == "" {
		return nil, fmt.Errorf("a container needs a name and an image")
	}
	labels := maps.Clone(map[string]string(d.DockerLabels))
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, a.cfg.Labels)
	maps.Copy(labels, spec.Labels)
	labels[docker.LabelTask] = spec.TaskARN
	labels[docker.LabelCluster] = spec.Cluster
	labels[docker.LabelContainer] = c.name

	c.meta = containerMeta{Order: order, Image: c.image, Essential: essential(d), StopTimeout: int(deref(d.StopTimeout)), StartTimeout: int(deref(d.StartTimeout)),
		AWSVPC: mode == ModeAWSVPC, HostNet: mode == ModeHost, HostIP: spec.HostIP}
	for _, dep := range d.DependsOn {
		target, cond := deref(dep.ContainerName), deref(dep.Condition)
		targetEssential, ok := names[target]
		if !ok {
			return nil, fmt.Errorf("dependsOn names %s, which the task does not have", target)
		}
		if targetEssential && (cond == "COMPLETE" || cond == "SUCCESS") {
			// Its exit would stop the task the moment it let c start.
			return nil, fmt.Errorf("the %s condition cannot be set on the essential container %s", cond, target)
		}
		c.meta.DependsOn = append(c.meta.DependsOn, dependency{Container: target, Condition: cond})
	}

	for _, f := range d.EnvironmentFiles {
		c.envFiles = append(c.envFiles, deref(f.Value))
	}
	for _, f := range o.EnvironmentFiles {
		c.envFiles = append(c.envFiles, deref(f.Value))
	}
	for _, kv := range d.Environment {
		c.env[deref(kv.Name)] = deref(kv.Value)
	}
	for _, kv := range o.Environment {
		c.env[deref(kv.Name)] = deref(kv.Value)
	}

	s := docker.ContainerSpec{
		Owner:      Owner,
		Labels:     labels,
		Entrypoint: d.EntryPoint,
		Cmd:        d.Command,
		WorkingDir: deref(d.WorkingDirectory),
		User:       deref(d.User),
		TTY:        deref(d.PseudoTerminal),
		OpenStdin:  deref(d.Interactive),
		Privileged: deref(d.Privileged),
		ReadOnly:   deref(d.ReadonlyRootFilesystem),
		DNSServers: d.DnsServers,
		DNSSearch:  d.DnsSearchDomains,
		// ECS lets the engine's default (SIGTERM) stand.
		StopTimeout: defaultStopTimeout,
		SecurityOpt: d.DockerSecurityOptions,
	}
	if o.Command != nil {
		s.Cmd = o.Command
	}
	if c.meta.StopTimeout > 0 {
		s.StopTimeout = time.Duration(c.meta.StopTimeout) * time.Second
	}
	if mode != ModeAWSVPC && mode != ModeHost {
		s.Hostname = deref(d.Hostname)
	}
	if mode == ModeAWSVPC && (len(d.DnsServers) > 0 || len(d.DnsSearchDomains) > 0 || len(d.ExtraHosts) > 0) {
		// The containers join the pause container's network namespace,
		// whose resolver and hosts file they share.
		return nil, fmt.Errorf("dnsServers, dnsSearchDomains and extraHosts are not supported in the awsvpc network mode")
	}
	for _, h := range d.ExtraHosts {
		s.ExtraHosts = append(s.ExtraHosts, deref(h.Hostname)+":"+deref(h.IpAddress))
	}
	for _, u := range d.Ulimits {
		s.Ulimits = append(s.Ulimits, docker.Ulimit{Name: deref(u.Name), Soft: int64(deref(u.SoftLimit)), Hard: int64(deref(u.HardLimit))})
	}
	for _, sc := range d.SystemControls {
		if s.Sysctls == nil {
			s.Sysctls = map[string]string{}
		}
		s.Sysctls[deref(sc.Namespace)] = deref(sc.Value)
	}

	// Resources: cpu units are CPU shares, with the engine's minimum of 2;
	// memory and memoryReservation are MiB.
	cpu, memory, reservation := deref(d.Cpu), deref(d.Memory), deref(d.MemoryReservation)
	if o.Cpu != nil {
		cpu = *o.Cpu
	}
	if o.Memory != nil {
		memory = *o.Memory
	}
	if o.MemoryReservation != nil {
		reservation = *o.MemoryReservation
	}
	s.CPUShares = max(int64(cpu), 2)
	s.MemoryBytes = int64(memory) << 20
	s.MemoryReservationBytes = int64(reservation) << 20

	if lp := d.LinuxParameters; lp != nil {
		if lp.Capabilities != nil {
			s.CapAdd, s.CapDrop = lp.Capabilities.Add, lp.Capabilities.Drop
		}
		s.Init = deref(lp.InitProcessEnabled)
		s.ShmSizeBytes = int64(deref(lp.SharedMemorySize)) << 20
		for _, t := range lp.Tmpfs {
			s.Mounts = append(s.Mounts, docker.Mount{Type: docker.MountTmpfs, Target: deref(t.ContainerPath), TmpfsSizeBytes: int64(deref(t.Size)) << 20})
		}
		if lp.MaxSwap != nil && memory > 0 {
			s.MemorySwapBytes = s.MemoryBytes + int64(*lp.MaxSwap)<<20
		}
	}

	if h := d.HealthCheck; h != nil {
		s.HealthCheck = &docker.HealthCheck{
			Test:        h.Command,
			Interval:    seconds(h.Interval, 30),
			Timeout:     seconds(h.Timeout, 5),
			Retries:     int(max(deref(h.Retries), 0)),
			StartPeriod: seconds(h.StartPeriod, 0),
		}
		if s.HealthCheck.Retries == 0 {
			s.HealthCheck.Retries = 3
		}
	}

	for _, m := range d.MountPoints {
		src, ok := volumes[deref(m.SourceVolume)]
		if !ok {
			return nil, fmt.Errorf("mount point names volume %q, which the task does not have", deref(m.SourceVolume))
		}
		typ := docker.MountVolume
		if hostPaths[deref(m.SourceVolume)] {
			typ = docker.MountBind
		}
		s.Mounts = append(s.Mounts, docker.Mount{Type: typ, Source: src, Target: deref(m.ContainerPath), ReadOnly: deref(m.ReadOnly)})
	}
	for _, v := range d.VolumesFrom {
		source := deref(v.SourceContainer)
		if _, ok := names[source]; !ok {
			return nil, fmt.Errorf("volumesFrom names %s, which the task does not have", source)
		}
		ref := source
		if deref(v.ReadOnly) {
			ref += ":ro"
		}
		s.VolumesFrom = append(s.VolumesFrom, ref)
		c.after = append(c.after, source)
	}
	if len(d.Links) > 0 && mode != ModeBridge {
		return nil, fmt.Errorf("links need the bridge network mode")
	}
	for _, l := range d.Links {
		target, alias, _ := strings.Cut(l, ":")
		if _, ok := names[target]; !ok {
			return nil, fmt.Errorf("links name %s, which the task does not have", target)
		}
		if alias == "" {
			alias = target
		}
		s.Links = append(s.Links, target+":"+alias)
		c.after = append(c.after, target)
	}

	if err := c.planNetwork(&s, a.cfg.Network, mode, spec.HostIP, d.PortMappings); err != nil {
		return nil, err
	}
	if lc := d.LogConfiguration; lc != nil {
		switch driver := deref(lc.LogDriver); driver {
		case "awslogs":
			c.meta.Log = awslogsDestination(lc.Options, c.name, spec.TaskARN)
		default:
			s.Log = &docker.LogConfig{Driver: driver, Options: lc.Options}
		}
	}
	c.spec = s
	return c, nil
}

func seconds(v *int32, dflt int32) time.Duration {
	if v == nil || *v <= 0 {
		return time.Duration(dflt) * time.Second
	}
	return time.Duration(*v) * time.Second
}

// planNetwork sets the container's network mode and port mappings.
// Dynamic host ports (bridge mode, hostPort 0 or absent) are chosen at
// launch.
func (c *planned) planNetwork(s *docker.ContainerSpec, network, mode, hostIP string, mappings []ecs.PortMapping) error {
	switch mode {
	case ModeBridge:
		s.NetworkMode = network
		if network == "" {
			s.NetworkMode = "bridge"
		}
	case ModeHost, ModeNone:
		s.NetworkMode = mode
	case ModeAWSVPC:
		// Set at launch, once the pause container exists.
	}
	for _, m := range mappings {
		if m.ContainerPortRange != nil {
			return fmt.Errorf("container port ranges are not supported")
		}
		cp, hp := deref(m.ContainerPort), deref(m.HostPort)
		if cp <= 0 || cp > 65535 || hp < 0 || hp > 65535 {
			return fmt.Errorf("invalid port mapping %d:%d", hp, cp)
		}
		pm := portMapping{ContainerPort: uint16(cp), HostPort: uint16(hp), Protocol: protocolOf(deref(m.Protocol))}
		if mode != ModeBridge {
			if hp != 0 && hp != cp {
				return fmt.Errorf("in %s mode the host port (%d) must be the container port (%d)", mode, hp, cp)
			}
			pm.HostPort = pm.ContainerPort
		}
		c.meta.Ports = append(c.meta.Ports, pm)
		if mode == ModeBridge {
			s.Ports = append(s.Ports, docker.PortBinding{ContainerPort: pm.ContainerPort, Protocol: pm.Protocol, HostIP: hostIP, HostPort: pm.HostPort})
		}
	}
	return nil
}

// awslogsDestination reads the awslogs driver's options; the stream is
// prefix/container/task-id, as ECS names it.
func awslogsDestination(opts map[string]string, container, taskARN string) *LogDestination {
	d := &LogDestination{Group: opts["awslogs-group"], Region: opts["awslogs-region"], CreateGroup: opts["awslogs-create-group"] == "true"}
	// The task's account owns the group; its region is the default.
	var region string
	d.Account, region = arnAccountRegion(taskARN)
	if d.Region == "" {
		d.Region = region
	}
	d.Stream = container + "/" + taskID(taskARN)
	if p := opts["awslogs-stream-prefix"]; p != "" {
		d.Stream = p + "/" + d.Stream
	}
	return d
}

// arnAccountRegion is the account and region of an ARN (the task's).
func arnAccountRegion(arn string) (account, region string) {
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 {
		return parts[4], parts[3]
	}
	return "", ""
}
