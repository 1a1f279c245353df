// Package cloudfront is CloudFront's control plane: distributions,
// invalidations, tags, policies, origin access, public keys and key groups,
// and CloudFront Functions, as the REST-XML API 2020-05-31 answers them.
// A controller hands each deployed configuration, every reference
// resolved, to the edge (package edge), which serves viewers.
package cloudfront

import (
	"context"
	"io"
	"net/http"
	"strings"

	api "overcast/internal/api/cloudfront"
	"overcast/internal/cloudfront/edge"
	"overcast/internal/controller"
	"overcast/internal/service"
)

// Edge is CloudFront's data plane as the control plane drives it.
type Edge interface {
	// Deploy makes d live, replacing what the edge served for d.ID.
	Deploy(ctx context.Context, d *edge.Distribution) error
	// Remove stops serving the distribution id.
	Remove(ctx context.Context, id string) error
	// Invalidate drops the cached objects of a distribution whose paths
	// match paths (a trailing * matches any suffix) from every POP.
	Invalidate(ctx context.Context, distributionID string, paths []string) error
	// Serves reports whether host (with or without a port) is a domain
	// name or alias of a distribution the edge serves.
	Serves(host string) bool
	http.Handler
}

// FunctionTester runs a CloudFront Function once for TestFunction.
type FunctionTester interface {
	Test(ctx context.Context, runtime string, code []byte, eventObject []byte) (TestOutput, error)
}

// TestOutput is what one run of a function gives TestFunction's result.
type TestOutput struct {
	Output             []byte // the event object the function returned, JSON
	Logs               []string
	ErrorMessage       string
	ComputeUtilization string // percent of the maximum time, "0" to "100"
}

// Options are what CloudFront is built with besides its environment.
type Options struct {
	Edge Edge
	// Functions runs TestFunction; nil answers it 501.
	Functions FunctionTester
	// DomainSuffix follows a distribution's ID in its DomainName; empty
	// is the edge's own, edge.DomainSuffix (".cloudfront.localhost").
	DomainSuffix string
}

// Service is CloudFront's control plane.
type Service struct {
	api.UnimplementedServer
	service.Base
	kinds
	opts Options
	url  string // the endpoint, for the Location of what is created

	deployments   *controller.Controller
	invalidations *controller.Controller
}

var _ api.Server = (*Service)(nil)

// New builds CloudFront and registers its controllers with env.
func New(env *service.Env, opts Options) *Service {
	if opts.DomainSuffix == "" {
		opts.DomainSuffix = edge.DomainSuffix
	}
	s := &Service{Base: env.Base(), kinds: newKinds(), opts: opts, url: env.Addresses.URL()}
	s.deployments = env.Controllers.AddFunc("cloudfront-deployments", s.reconcileDeployment, s.deploymentKeys)
	s.invalidations = env.Controllers.AddFunc("cloudfront-invalidations", s.reconcileInvalidation, s.pendingInvalidations)
	return s
}

// API is what the gateway serves.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: authzTable} }

// Planes is the edge: requests for a host it serves (a distribution's
// domain name or alias) are viewers', which the edge authenticates itself
// (signed URLs and cookies) or serves to the public.
func (s *Service) Planes() []service.Plane {
	if s.opts.Edge == nil {
		return nil
	}
	return []service.Plane{{
		Name:    "cloudfront-edge",
		Match:   func(r *http.Request) bool { return s.opts.Edge.Serves(r.Host) },
		Auth:    service.AuthNone,
		Handler: s.opts.Edge,
		Lean:    true, // viewers' hits are the edge's hot path
	}}
}

// domainName is the DomainName of the distribution id. Host names are
// case-insensitive and reported in lower case, as AWS's d111111abcdef8 are.
func (s *Service) domainName(id string) string {
	return strings.ToLower(id) + s.opts.DomainSuffix
}

// Close releases the edge (its caches and origin connections) when it
// holds any.
// HTTPSAddr is where the edge answers viewers over HTTPS, "" when it
// does not.
func (s *Service) HTTPSAddr() string {
	if e, ok := s.opts.Edge.(interface{ HTTPSAddr() string }); ok {
		return e.HTTPSAddr()
	}
	return ""
}

func (s *Service) Close() error {
	if c, ok := s.opts.Edge.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
