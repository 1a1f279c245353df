// Package buildenv is where a CodeBuild build runs beyond what the runner
// does itself: AWS's curated image names resolved to the local stand-in
// (internal/codebuild/images), privileged mode's Docker engine
// (internal/codebuild/privileged), a vpcConfig's network
// (internal/codebuild/vpc), and the host's proxy settings. The CodeBuild
// service holds one Environment and asks it at CreateProject (ValidateVPC)
// and for each build (Resolve, Apply).
package buildenv

import (
	"context"
	"log/slog"
	"maps"
	"net/netip"
	"strings"

	"overcast/internal/codebuild/images"
	"overcast/internal/codebuild/privileged"
	"overcast/internal/codebuild/runner"
	"overcast/internal/codebuild/vpc"
	"overcast/internal/docker"
)

// Engine is the Docker engine builds run on; *docker.Engine satisfies it.
type Engine interface {
	images.Engine
	vpc.Inspector
	// Host is the engine's address (DOCKER_HOST), handed to privileged
	// builds.
	Host() string
}

var _ Engine = (*docker.Engine)(nil)

// Options configure an Environment.
type Options struct {
	Engine Engine
	// Network is EC2, for vpcConfig; nil refuses every vpcConfig that is
	// not empty.
	Network vpc.Network
	// Images configures the curated images' stand-in (its Proxy also goes
	// into every build).
	Images images.Options
	Link   vpc.LinkOptions
	// NoProxy are addresses builds reach directly even when the host has
	// a proxy: the task endpoint, which serves them the API and their
	// credentials.
	NoProxy []string
	Logger  *slog.Logger
}

// Environment resolves images and shapes builds; it is safe for
// concurrent use.
type Environment struct {
	engine  Engine
	network vpc.Network
	images  *images.Resolver
	proxy   map[string]string
	link    vpc.LinkOptions
}

// New returns the Environment for opts.
func New(opts Options) *Environment {
	if opts.Images.Logger == nil {
		opts.Images.Logger = opts.Logger
	}
	if opts.Link.Logger == nil {
		opts.Link.Logger = opts.Logger
	}
	if opts.Images.Proxy == nil {
		opts.Images.Proxy = images.ProxyEnv()
	}
	return &Environment{engine: opts.Engine, network: opts.Network, images: images.New(opts.Engine, opts.Images),
		proxy: buildProxy(opts.Images.Proxy, opts.NoProxy), link: opts.Link}
}

// Resolve is the image a build runs for the project's image name, and the
// log line saying so when it is a curated one (images.Resolver.Resolve).
func (e *Environment) Resolve(ctx context.Context, name string) (image, note string, err error) {
	return e.images.Resolve(ctx, name)
}

// ValidateVPC checks a project's vpcConfig as CreateProject does: a
// *vpc.InvalidInputError is the caller's mistake.
func (e *Environment) ValidateVPC(ctx context.Context, account, region string, c vpc.Config) error {
	_, err := e.vpcRange(ctx, account, region, c)
	return err
}

// Apply gives the build what its project's environment asks for beyond
// the image: the engine when privileged, its VPC when c is not empty, and
// the host's proxy settings, under the variables the service set.
func (e *Environment) Apply(ctx context.Context, account, region string, b *runner.Build, c vpc.Config) error {
	if err := privileged.Apply(b, e.engine.Host()); err != nil {
		return err
	}
	if len(e.proxy) > 0 {
		if b.System == nil {
			b.System = map[string]string{}
		}
		for k, v := range e.proxy {
			if _, set := b.System[k]; !set {
				b.System[k] = v
			}
		}
	}
	if c.Empty() {
		return nil
	}
	// The VPC is checked again: a subnet or group may have gone since
	// the project was saved, which fails the build as on AWS.
	cidr, err := e.vpcRange(ctx, account, region, c)
	if err != nil {
		return err
	}
	b.AttachNetwork = vpc.Attacher(e.engine, cidr, e.link)
	return nil
}

func (e *Environment) vpcRange(ctx context.Context, account, region string, c vpc.Config) (netip.Prefix, error) {
	if e.network == nil && !c.Empty() {
		return netip.Prefix{}, &vpc.InvalidInputError{Message: "Invalid vpc config: VPC support is not available"}
	}
	return vpc.Validate(ctx, e.network, account, region, c)
}

// buildProxy is the proxy settings builds get: the host's, with noProxy
// added to no_proxy (in both cases) when there is a proxy at all.
func buildProxy(host map[string]string, noProxy []string) map[string]string {
	out := maps.Clone(host)
	if len(out) == 0 || len(noProxy) == 0 {
		return out
	}
	for _, k := range []string{"no_proxy", "NO_PROXY"} {
		list := noProxy
		if v := out[k]; v != "" {
			list = append([]string{v}, noProxy...)
		}
		out[k] = strings.Join(list, ",")
	}
	return out
}
