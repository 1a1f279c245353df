// Package taskendpoint is what the ECS agent serves to a task's containers
// on 169.254.170.2: the task role's credentials
// (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI), task metadata v4 and v3
// (ECS_CONTAINER_METADATA_URI_V4, ECS_CONTAINER_METADATA_URI) and, overcast's addition, the AWS API
// itself (AWS_ENDPOINT_URL), so that an unmodified SDK in a task finds its
// credentials and its endpoint the way it does on ECS.
//
// Reachability: overcast creates a bridge network (NetworkName) whose
// subnet is 169.254.170.0/24 and whose gateway is 169.254.170.2, so the
// host's bridge interface owns that address, and listens there. Task
// containers run on the engine's default bridge (TasksNetwork) and reach
// the address through the host, which owns it; host-mode containers reach
// it directly. Requests from sources other than those two networks and
// loopback are refused. Binding
// port 80 needs root; without it the endpoint listens on FallbackPort of
// the same address and containers get AWS_CONTAINER_CREDENTIALS_FULL_URI
// and AWS_CONTAINER_AUTHORIZATION_TOKEN instead of the relative URI, which
// the SDKs accept because the host is 169.254.170.2.
package taskendpoint

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"overcast"
	"overcast/internal/clock"
	"overcast/internal/docker"
)

const (
	// Address is where ECS serves credentials and metadata to tasks.
	Address = "169.254.170.2"
	// NetworkName is the Docker network whose gateway is Address: it gives
	// the host that address.
	NetworkName = "overcast-tasks"
	// TasksNetwork is the network task containers join: the engine's
	// default bridge. The engine starts a container there faster than on
	// a network of its own making (no embedded DNS server to set up in
	// each container), and the host routes Address for it.
	TasksNetwork = "bridge"
	// Subnet is NetworkName's range; the gateway, the host's side, is
	// Address.
	Subnet = "169.254.170.0/24"
	// FallbackPort is used when port 80 cannot be bound (not root). It is
	// the port the ECS agent itself serves credentials on, behind the
	// iptables rule that forwards Address:80 to it.
	FallbackPort = 51679
	// ServicePrincipal is who assumes task roles.
	ServicePrincipal = "ecs-tasks.amazonaws.com"

	// refreshBefore is how long before their expiry credentials are
	// replaced: SDKs fetch again shortly before Expiration (botocore from
	// 15 minutes before), and must then get fresh ones, not the same.
	refreshBefore = 15 * time.Minute

	owner = "ecs"
)

// RoleCredentials issues temporary credentials of a role for a task, as
// the ECS tasks service assuming it (sessionName is the task's ID).
type RoleCredentials interface {
	TaskRoleCredentials(ctx context.Context, account, principal, roleARN, sessionName string) (overcast.Credentials, error)
}

// Engine is what the endpoint needs from Docker: its network, and stats
// for the stats paths.
type Engine interface {
	InspectNetwork(ctx context.Context, nameOrID string) (docker.Network, error)
	CreateNetwork(ctx context.Context, spec docker.NetworkSpec) (string, error)
	ContainerStats(ctx context.Context, id string) (docker.Stats, error)
}

var _ Engine = (*docker.Engine)(nil)

// StatsReader reads a container's stats on one engine.
type StatsReader interface {
	ContainerStats(ctx context.Context, id string) (docker.Stats, error)
}

// BridgeEngine is what the endpoint needs of another engine: its default
// bridge's subnet.
type BridgeEngine interface {
	InspectNetwork(ctx context.Context, nameOrID string) (docker.Network, error)
}

// Config configures a Server.
type Config struct {
	// Key derives credential and metadata IDs from task ARNs. It must
	// outlive a restart (containers keep the URIs they were started with)
	// and stay secret: an ID is what lets a container read credentials.
	Key         []byte
	Credentials RoleCredentials
	// API serves every request the endpoint does not: overcast's gateway.
	API    http.Handler
	Engine Engine
	// BridgeEngines are the other engines tasks run on (--docker-host):
	// their default bridges' containers are tasks too, reaching Address
	// through this machine.
	BridgeEngines []BridgeEngine
	// EngineStats reads the stats of tasks' containers on each engine a
	// TaskInfo.Engine names, by that name: the stats paths ask the engine
	// the task runs on. A task that names none is on Engine.
	EngineStats map[string]StatsReader
	// Protection serves the task scale-in protection endpoint; nil
	// answers it 404.
	Protection TaskProtection
	Clock      clock.Clock
	Logger     *slog.Logger
	// Network and Listen override NetworkName and Address:80 (tests). With
	// Listen set, no network is created and any source address on the
	// network's subnet or loopback is accepted.
	Network string
	Listen  string
}

// Server is the task endpoint.
type Server struct {
	cfg     Config
	subnets []netip.Prefix // the sources that are task containers
	mux     *http.ServeMux
	mu      sync.RWMutex
	tasks   map[string]*task       // by task ARN
	byCreds map[string]*task       // by credentials ID
	byEndpt map[string]endpointRef // by metadata endpoint ID

	listen  func(network, address string) (net.Listener, error)
	baseURL string // http://169.254.170.2[:port], once listening
	srv     *http.Server
	ln      net.Listener
}

type endpointRef struct {
	task      *task
	container string
}

// task is a registered task and its current credentials.
type task struct {
	info    TaskInfo
	credsID string

	credsMu   sync.Mutex
	creds     overcast.Credentials
	credsRole string // the role creds act as
}

// New returns a Server; Start makes it reachable.
func New(cfg Config) *Server {
	if cfg.Network == "" {
		cfg.Network = NetworkName
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, subnets: []netip.Prefix{netip.MustParsePrefix(Subnet)},
		tasks: map[string]*task{}, byCreds: map[string]*task{}, byEndpt: map[string]endpointRef{},
		baseURL: "http://" + Address, listen: net.Listen}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/v2/credentials", s.serveCredentials)
	s.mux.HandleFunc("/v2/credentials/{id...}", s.serveCredentials)
	// Version 3 (ECS_CONTAINER_METADATA_URI) has the same paths and a
	// subset of version 4's fields: clients of either read what they know.
	for _, v := range []string{"v3", "v4"} {
		s.mux.HandleFunc("GET /"+v+"/{endpoint}", s.serveContainerMetadata)
		s.mux.HandleFunc("GET /"+v+"/{endpoint}/task", s.serveTaskMetadata)
		// Overcast keeps no container instance tags and the task's tags
		// are the ECS API's: the tagged form is the plain one.
		s.mux.HandleFunc("GET /"+v+"/{endpoint}/taskWithTags", s.serveTaskMetadata)
		s.mux.HandleFunc("GET /"+v+"/{endpoint}/stats", s.serveContainerStats)
		s.mux.HandleFunc("GET /"+v+"/{endpoint}/task/stats", s.serveTaskStats)
		s.mux.HandleFunc("/"+v+"/", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusNotFound, "404 page not found")
		})
	}
	s.mux.HandleFunc("GET /api/{endpoint}/task-protection/v1/state", s.serveProtection)
	s.mux.HandleFunc("PUT /api/{endpoint}/task-protection/v1/state", s.serveProtection)
	s.mux.HandleFunc("/", s.forward)
	return s
}

// Network is the Docker network task containers must join.
func (s *Server) Network() string { return TasksNetwork }

// Serving says whether the endpoint listens: Start succeeded and Close
// has not run. Another overcast on the machine may hold its address.
func (s *Server) Serving() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ln != nil
}

// BaseURL is the endpoint as containers reach it.
func (s *Server) BaseURL() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.baseURL
}

// fullURI says whether containers get AWS_CONTAINER_CREDENTIALS_FULL_URI:
// the SDKs only build the relative URI's address on port 80.
func (s *Server) fullURI() bool { return s.BaseURL() != "http://"+Address }

// Start creates the network when missing and listens on it.
func (s *Server) Start(ctx context.Context) error {
	port80 := net.JoinHostPort(Address, "80")
	addr := s.cfg.Listen
	if addr == "" {
		if err := s.ensureNetwork(ctx); err != nil {
			return err
		}
		addr = port80
	}
	engines := slices.Clone(s.cfg.BridgeEngines)
	if s.cfg.Engine != nil {
		engines = append([]BridgeEngine{s.cfg.Engine}, engines...)
	}
	for _, e := range engines {
		// Without the default bridge's range, tasks there are refused,
		// which says more than failing to start.
		if n, err := e.InspectNetwork(ctx, TasksNetwork); err == nil {
			if p, err := netip.ParsePrefix(n.Subnet); err == nil {
				s.mu.Lock()
				s.subnets = append(s.subnets, p)
				s.mu.Unlock()
			}
		}
	}
	ln, err := s.listen("tcp", addr)
	if errors.Is(err, syscall.EACCES) && s.cfg.Listen == "" {
		s.cfg.Logger.Warn("cannot bind port 80 (not root): containers get AWS_CONTAINER_CREDENTIALS_FULL_URI on the fallback port",
			"address", Address, "port", FallbackPort)
		addr = net.JoinHostPort(Address, strconv.Itoa(FallbackPort))
		ln, err = s.listen("tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("task endpoint: %w", err)
	}
	s.mu.Lock()
	switch {
	case s.cfg.Listen != "": // the port may have been chosen by the system
		s.baseURL = "http://" + ln.Addr().String()
	case addr != port80:
		s.baseURL = "http://" + addr
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	srv := s.srv
	s.mu.Unlock()
	go srv.Serve(ln)
	return nil
}

// ensureNetwork creates the tasks' network, or checks the one there is
// owns Address.
func (s *Server) ensureNetwork(ctx context.Context) error {
	if s.cfg.Engine == nil {
		return errors.New("task endpoint: no Docker engine to create the tasks' network on")
	}
	n, err := s.cfg.Engine.InspectNetwork(ctx, s.cfg.Network)
	if errors.Is(err, docker.ErrNotFound) {
		_, err = s.cfg.Engine.CreateNetwork(ctx, docker.NetworkSpec{Name: s.cfg.Network, Owner: owner,
			Subnet: Subnet, Gateway: Address})
		if errors.Is(err, docker.ErrConflict) { // created meanwhile
			err = nil
		}
		if err != nil {
			return fmt.Errorf("task endpoint: %w", err)
		}
		n, err = s.cfg.Engine.InspectNetwork(ctx, s.cfg.Network)
	}
	if err != nil {
		return fmt.Errorf("task endpoint: %w", err)
	}
	if n.Gateway != Address {
		return fmt.Errorf("task endpoint: network %s has gateway %q, want %s", s.cfg.Network, n.Gateway, Address)
	}
	return nil
}

// Close stops listening. The network stays: running tasks are attached.
func (s *Server) Close() error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// ServeHTTP answers task containers, and refuses everyone else.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.allowed(r.RemoteAddr) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// allowed reports whether a request comes from the tasks' network (which
// includes the host, whose address there is Address) or from loopback.
func (s *Server) allowed(remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return ip.IsLoopback() || slices.ContainsFunc(s.subnets, func(p netip.Prefix) bool { return p.Contains(ip) })
}

func (s *Server) forward(w http.ResponseWriter, r *http.Request) {
	if s.cfg.API == nil {
		http.NotFound(w, r)
		return
	}
	s.cfg.API.ServeHTTP(w, r)
}

// id derives a stable, unguessable ID from parts.
func (s *Server) id(parts ...string) string {
	m := hmac.New(sha256.New, s.cfg.Key)
	m.Write([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(m.Sum(nil)[:16])
}
