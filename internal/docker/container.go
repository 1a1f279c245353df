package docker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// ContainerSpec is everything overcast asks of a container: what ECS task
// definitions, buildspecs and Beanstalk platforms need, nothing more.
type ContainerSpec struct {
	// Name is the container's name; empty lets the engine pick one.
	Name string
	// Owner is the service creating the container (required): it becomes
	// the overcast.owner label, next to overcast.managed=true and Labels.
	Owner  string
	Labels map[string]string

	Image string
	// Entrypoint and Cmd override the image's when non-nil.
	Entrypoint []string
	Cmd        []string
	Env        map[string]string
	WorkingDir string
	User       string
	Hostname   string
	TTY        bool
	// OpenStdin keeps stdin open (ECS "interactive").
	OpenStdin bool

	// Ports publishes container ports on the host.
	Ports []PortBinding
	// Mounts are bind mounts, named volumes and tmpfs.
	Mounts []Mount
	// VolumesFrom mounts every volume of these containers ("name[:ro]").
	VolumesFrom []string
	// Links are legacy links on the default bridge ("name:alias"), as ECS
	// "links" in bridge mode.
	Links []string

	// NetworkMode is "" (the first of Networks, else the default bridge),
	// "bridge", "host", "none" or "container:<id>".
	NetworkMode string
	// Networks attaches the container to these networks, with DNS aliases.
	Networks    []NetworkAttachment
	ExtraHosts  []string // "host:ip", as /etc/hosts entries
	DNSServers  []string
	DNSSearch   []string
	Privileged  bool
	ReadOnly    bool // read-only root filesystem
	CapAdd      []string
	CapDrop     []string
	Sysctls     map[string]string
	Ulimits     []Ulimit
	SecurityOpt []string

	// Resources. Zero means unlimited (the engine's default).
	CPUShares int64 // relative weight; ECS "cpu" units map one to one
	NanoCPUs  int64 // hard CPU limit in 1e-9 CPUs (Fargate task cpu)
	// MemoryBytes is the hard limit (ECS "memory"), MemoryReservationBytes
	// the soft one ("memoryReservation"). MemorySwapBytes is memory plus
	// swap, as the engine counts it: equal to MemoryBytes for no swap, -1
	// for unlimited swap, 0 for the engine's default (twice MemoryBytes).
	MemoryBytes            int64
	MemoryReservationBytes int64
	MemorySwapBytes        int64
	ShmSizeBytes           int64
	PidsLimit              int64

	HealthCheck *HealthCheck
	// Init runs an init process as PID 1, reaping zombies and forwarding
	// signals (ECS initProcessEnabled).
	Init bool
	// StopSignal is sent by Stop (default SIGTERM); StopTimeout is how long
	// Stop waits before SIGKILL when it is given no timeout (zero: the
	// engine's default, 10s).
	StopSignal  string
	StopTimeout time.Duration
	Log         *LogConfig
}

// PortBinding publishes ContainerPort/Protocol on HostIP:HostPort.
type PortBinding struct {
	ContainerPort uint16
	// Protocol is "tcp" (when empty), "udp" or "sctp".
	Protocol string
	// HostIP is the host address to bind; empty means every address.
	HostIP string
	// HostPort 0 publishes on an ephemeral port: Inspect reports which.
	HostPort uint16
}

// MountType is what a Mount's Source names.
type MountType string

const (
	MountBind   MountType = "bind"   // Source is a host path
	MountVolume MountType = "volume" // Source is a volume name; empty makes an anonymous one
	MountTmpfs  MountType = "tmpfs"  // no Source
)

// Mount puts something at Target in the container.
type Mount struct {
	Type     MountType
	Source   string
	Target   string
	ReadOnly bool
	// TmpfsSizeBytes caps a tmpfs mount (0: unlimited).
	TmpfsSizeBytes int64
}

// NetworkAttachment connects a container to a network.
type NetworkAttachment struct {
	Network string
	// Aliases are DNS names the container answers to on this network.
	Aliases []string
	// IPv4Address pins the container's address (the network needs a
	// user-given subnet); empty lets the engine choose.
	IPv4Address string
}

// Ulimit is a resource limit (RLIMIT_*) by its short name, e.g. "nofile".
type Ulimit struct {
	Name string
	Soft int64
	Hard int64
}

// HealthCheck is the engine's health check, as in a Dockerfile's
// HEALTHCHECK or an ECS container definition's healthCheck.
type HealthCheck struct {
	// Test is ["CMD", args...], ["CMD-SHELL", command] or ["NONE"].
	Test        []string
	Interval    time.Duration
	Timeout     time.Duration
	StartPeriod time.Duration
	Retries     int
}

// LogConfig picks the container's log driver. Logs only reads back
// json-file and local (the defaults); others are for shipping elsewhere.
type LogConfig struct {
	Driver  string
	Options map[string]string
}

// Container is an inspected container.
type Container struct {
	ID      string
	Name    string // without the leading "/"
	Image   string // as given at create
	ImageID string
	Created time.Time
	Labels  map[string]string
	TTY     bool
	State   State
	// Networks are the container's endpoints by network name.
	Networks map[string]Endpoint
	// Ports are the published ports, with the host ports the engine chose.
	// A running container only: a stopped one has no bindings.
	Ports  []PublishedPort
	Mounts []MountPoint
}

// Owner is the service that created the container, from its labels.
func (c Container) Owner() string { return c.Labels[LabelOwner] }

// State is a container's run state.
type State struct {
	// Status is created, running, paused, restarting, removing, exited or dead.
	Status     string
	Running    bool
	Paused     bool
	ExitCode   int
	OOMKilled  bool
	Error      string // why the engine could not start it
	Pid        int
	StartedAt  time.Time // zero when never started
	FinishedAt time.Time // zero when never stopped
	// Health is "" without a health check, else starting, healthy or unhealthy.
	Health string
	// HealthOutput is the last health check's output.
	HealthOutput string
}

// Endpoint is a container's attachment to one network.
type Endpoint struct {
	NetworkID   string
	IPAddress   string
	IPPrefixLen int
	Gateway     string
	MacAddress  string
	Aliases     []string
}

// PublishedPort is a port binding in force.
type PublishedPort struct {
	ContainerPort uint16
	Protocol      string
	HostIP        string
	HostPort      uint16
}

// MountPoint is a mount in force.
type MountPoint struct {
	Type        MountType
	Name        string // volume name
	Source      string // host path
	Destination string
	ReadOnly    bool
}

// createRequest translates a spec to the engine's create call, and returns
// the attachments that must be connected after create: engines before API
// 1.44 take a single network at create time.
func (s ContainerSpec) createRequest() (client.ContainerCreateOptions, []NetworkAttachment, error) {
	const op = "create container"
	var zero client.ContainerCreateOptions
	if err := requireOwner(op, s.Owner); err != nil {
		return zero, nil, err
	}
	if s.Image == "" {
		return zero, nil, invalid(op, "an image is required")
	}
	cfg := &container.Config{
		Image:      s.Image,
		Entrypoint: s.Entrypoint,
		Cmd:        s.Cmd,
		WorkingDir: s.WorkingDir,
		User:       s.User,
		Hostname:   s.Hostname,
		Tty:        s.TTY,
		OpenStdin:  s.OpenStdin,
		Labels:     ManagedLabels(s.Owner, s.Labels),
		StopSignal: s.StopSignal,
	}
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		if k == "" || strings.Contains(k, "=") {
			return zero, nil, invalid(op, fmt.Sprintf("invalid environment variable name %q", k))
		}
		cfg.Env = append(cfg.Env, k+"="+s.Env[k])
	}
	if s.StopTimeout > 0 {
		secs := int((s.StopTimeout + time.Second - 1) / time.Second)
		cfg.StopTimeout = &secs
	}
	if h := s.HealthCheck; h != nil {
		if len(h.Test) == 0 {
			return zero, nil, invalid(op, "a health check needs a test")
		}
		cfg.Healthcheck = &container.HealthConfig{
			Test:        h.Test,
			Interval:    h.Interval,
			Timeout:     h.Timeout,
			StartPeriod: h.StartPeriod,
			Retries:     h.Retries,
		}
	}

	host := &container.HostConfig{
		// overcast's controllers decide about restarts (ECS replaces a
		// stopped task; it never restarts it in place), so the engine never
		// does it behind their backs.
		RestartPolicy:  container.RestartPolicy{Name: container.RestartPolicyDisabled},
		NetworkMode:    container.NetworkMode(s.NetworkMode),
		ExtraHosts:     s.ExtraHosts,
		DNSSearch:      s.DNSSearch,
		Privileged:     s.Privileged,
		ReadonlyRootfs: s.ReadOnly,
		CapAdd:         s.CapAdd,
		CapDrop:        s.CapDrop,
		Sysctls:        s.Sysctls,
		SecurityOpt:    s.SecurityOpt,
		VolumesFrom:    s.VolumesFrom,
		Links:          s.Links,
		ShmSize:        s.ShmSizeBytes,
		Resources: container.Resources{
			CPUShares:         s.CPUShares,
			NanoCPUs:          s.NanoCPUs,
			Memory:            s.MemoryBytes,
			MemoryReservation: s.MemoryReservationBytes,
			MemorySwap:        s.MemorySwapBytes,
		},
	}
	if s.PidsLimit != 0 {
		host.PidsLimit = &s.PidsLimit
	}
	if s.Init {
		host.Init = &s.Init
	}
	if s.Log != nil {
		host.LogConfig = container.LogConfig{Type: s.Log.Driver, Config: s.Log.Options}
	}
	for _, d := range s.DNSServers {
		a, err := netip.ParseAddr(d)
		if err != nil {
			return zero, nil, invalid(op, fmt.Sprintf("invalid DNS server %q", d))
		}
		host.DNS = append(host.DNS, a)
	}
	for _, u := range s.Ulimits {
		host.Ulimits = append(host.Ulimits, &container.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}

	for _, p := range s.Ports {
		port, err := portOf(p.ContainerPort, p.Protocol)
		if err != nil {
			return zero, nil, invalid(op, err.Error())
		}
		b := network.PortBinding{}
		if p.HostIP != "" {
			if b.HostIP, err = netip.ParseAddr(p.HostIP); err != nil {
				return zero, nil, invalid(op, fmt.Sprintf("invalid host IP %q", p.HostIP))
			}
		}
		if p.HostPort != 0 {
			b.HostPort = strconv.Itoa(int(p.HostPort))
		}
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = network.PortSet{}
			host.PortBindings = network.PortMap{}
		}
		cfg.ExposedPorts[port] = struct{}{}
		host.PortBindings[port] = append(host.PortBindings[port], b)
	}

	for _, m := range s.Mounts {
		if m.Target == "" || !strings.HasPrefix(m.Target, "/") {
			return zero, nil, invalid(op, fmt.Sprintf("mount target %q is not an absolute path", m.Target))
		}
		mm := mount.Mount{Type: mount.Type(m.Type), Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
		switch m.Type {
		case MountBind:
			if !strings.HasPrefix(m.Source, "/") {
				return zero, nil, invalid(op, fmt.Sprintf("bind mount source %q is not an absolute path", m.Source))
			}
		case MountVolume:
		case MountTmpfs:
			if m.Source != "" {
				return zero, nil, invalid(op, "a tmpfs mount has no source")
			}
			if m.TmpfsSizeBytes > 0 {
				mm.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: m.TmpfsSizeBytes}
			}
		default:
			return zero, nil, invalid(op, fmt.Sprintf("unknown mount type %q", m.Type))
		}
		host.Mounts = append(host.Mounts, mm)
	}

	switch mode := container.NetworkMode(s.NetworkMode); {
	case len(s.Networks) == 0:
	case mode.IsHost(), mode.IsNone(), mode.IsContainer():
		return zero, nil, invalid(op, fmt.Sprintf("network mode %s takes no networks", s.NetworkMode))
	}
	var netCfg *network.NetworkingConfig
	var later []NetworkAttachment
	for i, a := range s.Networks {
		if a.Network == "" {
			return zero, nil, invalid(op, "a network attachment needs a network")
		}
		if i == 0 && (s.NetworkMode == "" || s.NetworkMode == a.Network) {
			ep, err := a.endpoint()
			if err != nil {
				return zero, nil, invalid(op, err.Error())
			}
			host.NetworkMode = container.NetworkMode(a.Network)
			netCfg = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{a.Network: ep}}
			continue
		}
		if _, err := a.endpoint(); err != nil {
			return zero, nil, invalid(op, err.Error())
		}
		later = append(later, a)
	}
	return client.ContainerCreateOptions{Name: s.Name, Config: cfg, HostConfig: host, NetworkingConfig: netCfg}, later, nil
}

func (a NetworkAttachment) endpoint() (*network.EndpointSettings, error) {
	ep := &network.EndpointSettings{Aliases: a.Aliases}
	if a.IPv4Address != "" {
		ip, err := netip.ParseAddr(a.IPv4Address)
		if err != nil || !ip.Is4() {
			return nil, fmt.Errorf("invalid IPv4 address %q for network %s", a.IPv4Address, a.Network)
		}
		ep.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: ip}
	}
	return ep, nil
}

func portOf(num uint16, proto string) (network.Port, error) {
	if num == 0 {
		return network.Port{}, errors.New("container port 0")
	}
	return parsePort(strconv.Itoa(int(num)) + "/" + proto)
}

// parsePort reads "80", "80/tcp", "53/udp".
func parsePort(s string) (network.Port, error) {
	p, err := network.ParsePort(strings.TrimSuffix(s, "/"))
	if err != nil {
		return network.Port{}, err
	}
	switch p.Proto() {
	case network.TCP, network.UDP, network.SCTP:
		return p, nil
	}
	return network.Port{}, fmt.Errorf("invalid protocol %q in port %q", p.Proto(), s)
}

// CreateContainer creates (does not start) a container and returns its ID.
// The image must be local: see EnsureImage.
func (e *Engine) CreateContainer(ctx context.Context, spec ContainerSpec) (string, error) {
	req, later, err := spec.createRequest()
	if err != nil {
		return "", err
	}
	op := "create container " + spec.Name
	r, err := e.api.ContainerCreate(ctx, req)
	if err != nil {
		return "", wrap(op, err)
	}
	for _, a := range later {
		if err := e.ConnectNetwork(ctx, r.ID, a); err != nil {
			// Half-made containers would be adopted later as if whole.
			_ = e.RemoveContainer(context.WithoutCancel(ctx), r.ID, RemoveOptions{Force: true, Volumes: true})
			return "", err
		}
	}
	return r.ID, nil
}

// StartContainer starts a created or stopped container; starting a
// running one is not an error.
func (e *Engine) StartContainer(ctx context.Context, id string) error {
	_, err := e.api.ContainerStart(ctx, id, client.ContainerStartOptions{})
	return wrap("start "+id, err)
}

// StopContainer sends the container's stop signal, and SIGKILL after
// timeout; timeout 0 uses the container's StopTimeout (else the engine's
// 10s). It returns once the container has stopped; stopping a stopped
// container is not an error.
func (e *Engine) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	var opts client.ContainerStopOptions
	if timeout > 0 {
		secs := int((timeout + time.Second - 1) / time.Second)
		opts.Timeout = &secs
	}
	_, err := e.api.ContainerStop(ctx, id, opts)
	return wrap("stop "+id, err)
}

// KillContainer sends signal ("SIGKILL" when empty, or e.g. "SIGHUP", "9")
// to the container's main process. A container that is not running is
// ErrConflict.
func (e *Engine) KillContainer(ctx context.Context, id, signal string) error {
	_, err := e.api.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: signal})
	return wrap("kill "+id, err)
}

// RemoveOptions tune RemoveContainer.
type RemoveOptions struct {
	// Force kills a running container first.
	Force bool
	// Volumes also removes the container's anonymous volumes.
	Volumes bool
}

// RemoveContainer deletes a container.
func (e *Engine) RemoveContainer(ctx context.Context, id string, opts RemoveOptions) error {
	_, err := e.api.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: opts.Force, RemoveVolumes: opts.Volumes})
	return wrap("remove "+id, err)
}

// InspectContainer returns a container's configuration and state, by ID or
// name.
func (e *Engine) InspectContainer(ctx context.Context, id string) (Container, error) {
	r, err := e.api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return Container{}, wrap("inspect "+id, err)
	}
	c := containerOf(r.Container)
	if e.missedOOM(ctx, c) {
		c.State.OOMKilled = true
	}
	return c, nil
}

// missedOOM looks for the kernel's OOM kill of a container that died of
// SIGKILL without the engine saying so. Engines before 23.0 record the exit
// and the OOM notification separately, and when the exit is handled first
// (a busy engine), OOMKilled stays false although the "oom" event was
// logged. ECS must tell OutOfMemoryError from other kills, so the engine's
// recent events are asked.
func (e *Engine) missedOOM(ctx context.Context, c Container) bool {
	s := c.State
	if s.Running || s.OOMKilled || s.ExitCode != 137 || s.StartedAt.IsZero() {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	f := client.Filters{}.Add("type", "container").Add("container", c.ID).Add("event", "oom")
	r := e.api.Events(ctx, client.EventsListOptions{Since: unixString(s.StartedAt), Until: unixString(time.Now()), Filters: f})
	for {
		select {
		case m := <-r.Messages:
			if m.Action == "oom" {
				return true
			}
		case <-r.Err:
			return false
		}
	}
}

func containerOf(r container.InspectResponse) Container {
	c := Container{
		ID:      r.ID,
		Name:    strings.TrimPrefix(r.Name, "/"),
		ImageID: r.Image,
		Created: parseTime(r.Created),
	}
	if r.Config != nil {
		c.Image = r.Config.Image
		c.Labels = r.Config.Labels
		c.TTY = r.Config.Tty
	}
	if s := r.State; s != nil {
		c.State = State{
			Status:     string(s.Status),
			Running:    s.Running,
			Paused:     s.Paused,
			ExitCode:   s.ExitCode,
			OOMKilled:  s.OOMKilled,
			Error:      s.Error,
			Pid:        s.Pid,
			StartedAt:  parseTime(s.StartedAt),
			FinishedAt: parseTime(s.FinishedAt),
		}
		if h := s.Health; h != nil && h.Status != container.NoHealthcheck {
			c.State.Health = string(h.Status)
			if n := len(h.Log); n > 0 && h.Log[n-1] != nil {
				c.State.HealthOutput = h.Log[n-1].Output
			}
		}
	}
	if ns := r.NetworkSettings; ns != nil {
		c.Networks = make(map[string]Endpoint, len(ns.Networks))
		for name, ep := range ns.Networks {
			if ep == nil {
				continue
			}
			c.Networks[name] = Endpoint{
				NetworkID:   ep.NetworkID,
				IPAddress:   addrString(ep.IPAddress),
				IPPrefixLen: ep.IPPrefixLen,
				Gateway:     addrString(ep.Gateway),
				MacAddress:  ep.MacAddress.String(),
				Aliases:     ep.Aliases,
			}
		}
		c.Ports = publishedPorts(ns.Ports)
	}
	for _, m := range r.Mounts {
		c.Mounts = append(c.Mounts, MountPoint{
			Type:        MountType(m.Type),
			Name:        m.Name,
			Source:      m.Source,
			Destination: m.Destination,
			ReadOnly:    !m.RW,
		})
	}
	return c
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// publishedPorts flattens the engine's map, in a stable order.
func publishedPorts(pm network.PortMap) []PublishedPort {
	var out []PublishedPort
	for port, bindings := range pm {
		for _, b := range bindings {
			hp, err := strconv.ParseUint(b.HostPort, 10, 16)
			if err != nil {
				continue
			}
			out = append(out, PublishedPort{
				ContainerPort: port.Num(),
				Protocol:      string(port.Proto()),
				HostIP:        addrString(b.HostIP),
				HostPort:      uint16(hp),
			})
		}
	}
	slices.SortFunc(out, func(a, b PublishedPort) int {
		return strings.Compare(fmt.Sprintf("%05d/%s %s:%05d", a.ContainerPort, a.Protocol, a.HostIP, a.HostPort),
			fmt.Sprintf("%05d/%s %s:%05d", b.ContainerPort, b.Protocol, b.HostIP, b.HostPort))
	})
	return out
}

// WaitContainer blocks until the container is not running and returns its
// exit code. A container that was created but never started counts as not
// running: start it first. Cancelling ctx stops the wait, not the container.
func (e *Engine) WaitContainer(ctx context.Context, id string) (int, error) {
	op := "wait " + id
	w := e.api.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case r := <-w.Result:
		if r.Error != nil && r.Error.Message != "" {
			return int(r.StatusCode), &Error{Op: op, Err: errors.New(r.Error.Message)}
		}
		return int(r.StatusCode), nil
	case err := <-w.Error:
		return 0, wrap(op, err)
	case <-ctx.Done():
		return 0, wrap(op, ctx.Err())
	}
}

// ListContainers returns the containers, running or not, that carry the
// selector's labels (a key with an empty value matches any value), fully
// inspected: controllers re-adopting after a restart need exit codes and
// times, which only inspect reports. Containers removed meanwhile are left
// out.
func (e *Engine) ListContainers(ctx context.Context, selector map[string]string) ([]Container, error) {
	r, err := e.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: labelFilters(selector)})
	if err != nil {
		return nil, wrap("list containers", err)
	}
	out := make([]Container, 0, len(r.Items))
	for _, s := range r.Items {
		c, err := e.InspectContainer(ctx, s.ID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Container) int { return a.Created.Compare(b.Created) })
	return out, nil
}
