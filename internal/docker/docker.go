// Package docker is overcast's only way to a Docker Engine: ECS tasks,
// CodeBuild builds, Beanstalk instances and CodeDeploy hooks all run
// through the Engine defined here, so that the Docker client is imported by
// this package alone and its API types never leak into service code.
//
// Everything overcast creates on the engine carries overcast.* labels
// (labels.go): a controller that restarts lists what it owns
// (ListContainers, Inventory) and adopts it instead of leaking it.
//
// The engine may be older than the client (Debian ships API 1.41): the API
// version is negotiated down on first use, and every feature used here
// exists at 1.41.
package docker

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
)

// defaultHost is where engines listen when DOCKER_HOST is unset.
const defaultHost = "unix:///var/run/docker.sock"

// Host is the engine's address: DOCKER_HOST, or the default unix socket.
func Host() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return defaultHost
}

// Reachable reports whether an engine answers at Host. It opens and closes
// its own connection, for callers (the health endpoint) that hold no Engine.
func Reachable(ctx context.Context) bool {
	e, err := New(Options{})
	if err != nil {
		return false
	}
	defer e.Close()
	return e.Reachable(ctx)
}

// Options configure New.
type Options struct {
	// Host is the engine's address (unix:///path or tcp://host:port).
	// Empty means DOCKER_HOST, then the default unix socket. TLS comes from
	// DOCKER_CERT_PATH and DOCKER_TLS_VERIFY as for the docker CLI.
	Host string
	// RegistryAuth resolves images overcast serves itself (its ECR) to a
	// pullable reference and credentials; nil pulls every image as named.
	// SetRegistryAuth sets it later.
	RegistryAuth RegistryAuth
	// TLSCA, TLSCert and TLSKey are PEM files for a tcp:// engine
	// listening with TLS (dockerd --tlsverify): the CA that signed the
	// engine's certificate, and the client's certificate and key. Empty:
	// DOCKER_CERT_PATH's, if set.
	TLSCA, TLSCert, TLSKey string
}

// Engine is a connection to one Docker Engine. It is safe for concurrent
// use; Close releases its idle connections.
type Engine struct {
	host string
	api  *client.Client

	mu   sync.RWMutex
	auth RegistryAuth
}

// New returns an Engine for opts.Host. It does not contact the engine:
// Ping does, and so does the first call that needs it (API negotiation).
func New(opts Options) (*Engine, error) {
	host := opts.Host
	if host == "" {
		host = Host()
	}
	with := []client.Opt{client.FromEnv, client.WithHost(host)}
	if opts.TLSCA != "" || opts.TLSCert != "" || opts.TLSKey != "" {
		if !strings.HasPrefix(host, "tcp://") {
			return nil, wrap("connect", fmt.Errorf("TLS files given for %s: TLS is for tcp:// hosts", host))
		}
		with = append(with, client.WithTLSClientConfig(opts.TLSCA, opts.TLSCert, opts.TLSKey))
	}
	api, err := client.New(with...)
	if err != nil {
		return nil, wrap("connect", err)
	}
	return &Engine{host: host, api: api, auth: opts.RegistryAuth}, nil
}

// Close releases the Engine's connections. Calls in flight fail.
func (e *Engine) Close() error { return e.api.Close() }

// Host is the address the Engine talks to.
func (e *Engine) Host() string { return e.host }

// SetRegistryAuth sets (or, with nil, clears) the resolver used by
// PullImage and EnsureImage. It exists because the service that implements
// it (ECR) is built after the Engine it will pull through.
func (e *Engine) SetRegistryAuth(a RegistryAuth) {
	e.mu.Lock()
	e.auth = a
	e.mu.Unlock()
}

func (e *Engine) registryAuth() RegistryAuth {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.auth
}

// Ping checks that the engine answers, and settles the API version both
// sides speak. It fails with ErrUnavailable when nothing answers.
func (e *Engine) Ping(ctx context.Context) error {
	_, err := e.api.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	return wrap("ping", err)
}

// Reachable reports whether Ping succeeds within 5 seconds (or ctx).
func (e *Engine) Reachable(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return e.Ping(ctx) == nil
}

// Version describes the engine and the API version spoken with it.
type Version struct {
	// APIVersion is the version this Engine speaks: the highest both the
	// client and the engine support.
	APIVersion string
	// EngineAPIVersion and MinAPIVersion are the range the engine accepts.
	EngineAPIVersion string
	MinAPIVersion    string
	// EngineVersion is the engine's release, e.g. "20.10.24+dfsg1".
	EngineVersion string
	OS            string
	Arch          string
	KernelVersion string
}

// Version asks the engine what it is.
func (e *Engine) Version(ctx context.Context) (Version, error) {
	if err := e.Ping(ctx); err != nil {
		return Version{}, err
	}
	v, err := e.api.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return Version{}, wrap("version", err)
	}
	out := Version{
		APIVersion:       e.api.ClientVersion(),
		EngineAPIVersion: v.APIVersion,
		MinAPIVersion:    v.MinAPIVersion,
		EngineVersion:    v.Version,
		OS:               v.Os,
		Arch:             v.Arch,
	}
	for _, c := range v.Components {
		if c.Name == "Engine" {
			out.KernelVersion = c.Details["KernelVersion"]
		}
	}
	return out, nil
}

// Info is what the engine says of the machine it runs on: what a
// container instance it stands for registers.
type Info struct {
	// Name is the engine's host name; ID its daemon's identity.
	Name, ID string
	// CPUs and MemoryBytes are the machine's (docker info's NCPU and
	// MemTotal).
	CPUs        int
	MemoryBytes int64
	// EngineVersion is the engine's release, e.g. "20.10.24+dfsg1".
	EngineVersion string
	OS, Arch      string
}

// Info asks the engine about its machine.
func (e *Engine) Info(ctx context.Context) (Info, error) {
	if err := e.Ping(ctx); err != nil {
		return Info{}, err
	}
	r, err := e.api.Info(ctx, client.InfoOptions{})
	if err != nil {
		return Info{}, wrap("info", err)
	}
	i := r.Info
	return Info{Name: i.Name, ID: i.ID, CPUs: i.NCPU, MemoryBytes: i.MemTotal, EngineVersion: i.ServerVersion,
		OS: i.OSType, Arch: i.Architecture}, nil
}
