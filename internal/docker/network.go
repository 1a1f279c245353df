package docker

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client"
)

// NetworkSpec describes a network to create.
type NetworkSpec struct {
	Name string
	// Owner is the service creating the network (required), as for
	// containers.
	Owner  string
	Labels map[string]string
	// Driver is "bridge" when empty.
	Driver string
	// Internal networks have no route out of the host.
	Internal bool
	// Subnet (CIDR) and Gateway are optional; without Subnet the engine
	// picks a free range.
	Subnet  string
	Gateway string
	// Options are driver options, e.g. com.docker.network.bridge.name.
	Options map[string]string
}

// Network is an inspected network.
type Network struct {
	ID       string
	Name     string
	Driver   string
	Internal bool
	Created  time.Time
	Labels   map[string]string
	// Subnet and Gateway are the first IPv4 range's.
	Subnet  string
	Gateway string
	// Containers are the attached containers by ID (Inspect only).
	Containers map[string]NetworkEndpoint
}

// NetworkEndpoint is a container as a network sees it.
type NetworkEndpoint struct {
	Name        string
	IPv4Address string // without the prefix length
}

func (s NetworkSpec) createRequest() (client.NetworkCreateOptions, error) {
	op := "create network " + s.Name
	if err := requireOwner(op, s.Owner); err != nil {
		return client.NetworkCreateOptions{}, err
	}
	if s.Name == "" {
		return client.NetworkCreateOptions{}, invalid(op, "a network needs a name")
	}
	opts := client.NetworkCreateOptions{
		Driver:   s.Driver,
		Internal: s.Internal,
		Labels:   ManagedLabels(s.Owner, s.Labels),
		Options:  s.Options,
	}
	if opts.Driver == "" {
		opts.Driver = "bridge"
	}
	if s.Subnet == "" && s.Gateway != "" {
		return client.NetworkCreateOptions{}, invalid(op, "a gateway needs a subnet")
	}
	if s.Subnet != "" {
		subnet, err := netip.ParsePrefix(s.Subnet)
		if err != nil {
			return client.NetworkCreateOptions{}, invalid(op, fmt.Sprintf("invalid subnet %q", s.Subnet))
		}
		cfg := network.IPAMConfig{Subnet: subnet.Masked()}
		if s.Gateway != "" {
			gw, err := netip.ParseAddr(s.Gateway)
			if err != nil || !subnet.Contains(gw) {
				return client.NetworkCreateOptions{}, invalid(op, fmt.Sprintf("gateway %q is not an address in %s", s.Gateway, s.Subnet))
			}
			cfg.Gateway = gw
		}
		opts.IPAM = &network.IPAM{Driver: "default", Config: []network.IPAMConfig{cfg}}
	}
	return opts, nil
}

// CreateNetwork creates a network and returns its ID. A taken name is
// ErrConflict.
func (e *Engine) CreateNetwork(ctx context.Context, spec NetworkSpec) (string, error) {
	opts, err := spec.createRequest()
	if err != nil {
		return "", err
	}
	// Engines before API 1.44 create a second network of the same name
	// unless asked not to, which this client no longer can: look first.
	// Two callers racing for one name could still both win; overcast
	// derives network names from unique IDs.
	switch n, err := e.InspectNetwork(ctx, spec.Name); {
	case err == nil && n.Name == spec.Name:
		return "", &Error{Op: "create network " + spec.Name, Kind: ErrConflict, Err: fmt.Errorf("network with name %s already exists", spec.Name)}
	case err != nil && !errors.Is(err, ErrNotFound):
		return "", err
	}
	r, err := e.api.NetworkCreate(ctx, spec.Name, opts)
	if err != nil {
		return "", wrap("create network "+spec.Name, err)
	}
	return r.ID, nil
}

// InspectNetwork describes a network by name or ID.
func (e *Engine) InspectNetwork(ctx context.Context, nameOrID string) (Network, error) {
	r, err := e.api.NetworkInspect(ctx, nameOrID, client.NetworkInspectOptions{})
	if err != nil {
		return Network{}, wrap("inspect network "+nameOrID, err)
	}
	n := networkOf(r.Network.Network)
	n.Containers = make(map[string]NetworkEndpoint, len(r.Network.Containers))
	for id, ep := range r.Network.Containers {
		n.Containers[id] = NetworkEndpoint{Name: ep.Name, IPv4Address: addrString(ep.IPv4Address.Addr())}
	}
	return n, nil
}

func networkOf(r network.Network) Network {
	n := Network{
		ID:       r.ID,
		Name:     r.Name,
		Driver:   r.Driver,
		Internal: r.Internal,
		Created:  r.Created,
		Labels:   r.Labels,
	}
	for _, c := range r.IPAM.Config {
		if c.Subnet.Addr().Is4() {
			n.Subnet = c.Subnet.String()
			n.Gateway = addrString(c.Gateway)
			break
		}
	}
	return n
}

// ListNetworks lists the networks carrying the selector's labels.
func (e *Engine) ListNetworks(ctx context.Context, selector map[string]string) ([]Network, error) {
	r, err := e.api.NetworkList(ctx, client.NetworkListOptions{Filters: labelFilters(selector)})
	out, err := listed("list networks", r.Items, err, func(s network.Summary) Network { return networkOf(s.Network) })
	slices.SortFunc(out, func(a, b Network) int { return a.Created.Compare(b.Created) })
	return out, err
}

// ConnectNetwork attaches a container (created or running) to a.Network.
// Attaching it twice is ErrConflict.
func (e *Engine) ConnectNetwork(ctx context.Context, containerID string, a NetworkAttachment) error {
	op := "connect " + containerID + " to " + a.Network
	ep, err := a.endpoint()
	if err != nil {
		return invalid(op, err.Error())
	}
	_, err = e.api.NetworkConnect(ctx, a.Network, client.NetworkConnectOptions{Container: containerID, EndpointConfig: ep})
	return wrap(op, err)
}

// DisconnectNetwork detaches a container from a network; force detaches
// even a container the engine thinks is gone.
func (e *Engine) DisconnectNetwork(ctx context.Context, nameOrID, containerID string, force bool) error {
	_, err := e.api.NetworkDisconnect(ctx, nameOrID, client.NetworkDisconnectOptions{Container: containerID, Force: force})
	return wrap("disconnect "+containerID+" from "+nameOrID, err)
}

// RemoveNetwork deletes a network; one with containers attached is
// ErrConflict.
func (e *Engine) RemoveNetwork(ctx context.Context, nameOrID string) error {
	_, err := e.api.NetworkRemove(ctx, nameOrID, client.NetworkRemoveOptions{})
	return wrap("remove network "+nameOrID, err)
}

// VolumeSpec describes a volume to create.
type VolumeSpec struct {
	// Name is the volume's name; empty lets the engine pick one.
	Name string
	// Owner is the service creating the volume (required).
	Owner  string
	Labels map[string]string
	// Driver is "local" when empty; DriverOpts are its options.
	Driver     string
	DriverOpts map[string]string
}

// Volume is an inspected volume.
type Volume struct {
	Name       string
	Driver     string
	Mountpoint string
	Created    time.Time
	Labels     map[string]string
}

// CreateVolume creates a volume. Creating one that exists returns it
// (the engine's behaviour), whatever its labels.
func (e *Engine) CreateVolume(ctx context.Context, spec VolumeSpec) (Volume, error) {
	op := "create volume " + spec.Name
	if err := requireOwner(op, spec.Owner); err != nil {
		return Volume{}, err
	}
	r, err := e.api.VolumeCreate(ctx, client.VolumeCreateOptions{
		Name:       spec.Name,
		Driver:     spec.Driver,
		DriverOpts: spec.DriverOpts,
		Labels:     ManagedLabels(spec.Owner, spec.Labels),
	})
	if err != nil {
		return Volume{}, wrap(op, err)
	}
	return volumeOf(r.Volume), nil
}

// InspectVolume describes a volume by name.
func (e *Engine) InspectVolume(ctx context.Context, name string) (Volume, error) {
	r, err := e.api.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
	if err != nil {
		return Volume{}, wrap("inspect volume "+name, err)
	}
	return volumeOf(r.Volume), nil
}

// ListVolumes lists the volumes carrying the selector's labels.
func (e *Engine) ListVolumes(ctx context.Context, selector map[string]string) ([]Volume, error) {
	r, err := e.api.VolumeList(ctx, client.VolumeListOptions{Filters: labelFilters(selector)})
	out, err := listed("list volumes", r.Items, err, volumeOf)
	slices.SortFunc(out, func(a, b Volume) int { return a.Created.Compare(b.Created) })
	return out, err
}

// RemoveVolume deletes a volume; one in use by a container is ErrConflict.
func (e *Engine) RemoveVolume(ctx context.Context, name string, force bool) error {
	_, err := e.api.VolumeRemove(ctx, name, client.VolumeRemoveOptions{Force: force})
	return wrap("remove volume "+name, err)
}

func volumeOf(v volume.Volume) Volume {
	return Volume{
		Name:       v.Name,
		Driver:     v.Driver,
		Mountpoint: v.Mountpoint,
		Created:    parseTime(v.CreatedAt),
		Labels:     v.Labels,
	}
}
