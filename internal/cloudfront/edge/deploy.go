package edge

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	api "overcast/internal/api/cloudfront"
	"overcast/internal/cloudfront/functions"
	"overcast/internal/cloudfront/signed"
)

// deployment is a Distribution compiled for viewers' requests: matchers,
// key specs and origins built once in Deploy, read without locks after.
type deployment struct {
	dist       *Distribution
	enabled    bool        // a disabled distribution answers every viewer 403
	behaviors  []*behavior // in the configuration's order, the default last
	errorPages map[int]errorPage
	rootObject string
	geo        geoRule
	logging    *logTarget // nil: logging is off
}

type behavior struct {
	pattern         pathPattern
	target          *originTarget
	allowed, cached methodSet
	ttl             ttlLimits
	key             keySpec
	forward         forwardSpec
	compress        bool
	viewerProtocol  string
	trustedKeys     map[string]signed.Key // nil: the behaviour serves unsigned requests
	responseHeaders *headerPolicy
	viewerRequest   *functions.Program
	viewerResponse  *functions.Program
}

// errorPage is a CustomErrorResponse.
type errorPage struct {
	path     string
	code     int // 0: the origin's
	minTTL   time.Duration
	hasTTL   bool
	pagePath bool
}

// geoRule is the distribution's geo restriction.
type geoRule struct {
	allow     bool // whitelist; false: blacklist
	countries map[string]bool
}

func (g *geoRule) blocks(country string) bool {
	if g.countries == nil || country == "" {
		return false // no restriction, or a viewer CloudFront cannot place: served
	}
	return g.countries[country] != g.allow
}

type methodSet uint8

var methodBits = map[string]methodSet{
	http.MethodGet: 1, http.MethodHead: 1 << 1, http.MethodOptions: 1 << 2, http.MethodPut: 1 << 3,
	http.MethodPost: 1 << 4, http.MethodPatch: 1 << 5, http.MethodDelete: 1 << 6,
}

func newMethodSet(methods []string) methodSet {
	var s methodSet
	for _, m := range methods {
		s |= methodBits[m]
	}
	return s
}

func (s methodSet) has(method string) bool {
	switch method { // the common methods without a map lookup
	case http.MethodGet:
		return s&1 != 0
	case http.MethodHead:
		return s&2 != 0
	}
	return s&methodBits[method] != 0
}

// compile builds the deployment of d; an inconsistent configuration (a
// behaviour naming an unknown origin or policy) is an error, which the
// control plane's validation should have refused already.
func (e *Edge) compile(d *Distribution) (*deployment, error) {
	c := d.Config
	if c == nil || c.DefaultCacheBehavior == nil {
		return nil, fmt.Errorf("edge: distribution %s has no default cache behavior", d.ID)
	}
	targets, err := e.compileOrigins(d)
	if err != nil {
		return nil, err
	}
	dep := &deployment{dist: d, enabled: c.Enabled == nil || *c.Enabled, rootObject: strings.TrimPrefix(deref(c.DefaultRootObject), "/")}
	var behaviors []api.CacheBehavior
	if c.CacheBehaviors != nil {
		behaviors = c.CacheBehaviors.Items
	}
	for _, cb := range append(behaviors, defaultBehavior(c.DefaultCacheBehavior)) {
		b, err := compileBehavior(d, targets, &cb)
		if err != nil {
			return nil, err
		}
		dep.behaviors = append(dep.behaviors, b)
	}

	if c.CustomErrorResponses != nil {
		dep.errorPages = map[int]errorPage{}
		for _, er := range c.CustomErrorResponses.Items {
			p := errorPage{path: deref(er.ResponsePagePath)}
			p.pagePath = p.path != ""
			p.code, _ = strconv.Atoi(deref(er.ResponseCode))
			if er.ErrorCachingMinTTL != nil {
				p.minTTL, p.hasTTL = time.Duration(*er.ErrorCachingMinTTL)*time.Second, true
			}
			dep.errorPages[int(deref(er.ErrorCode))] = p
		}
	}
	if r := c.Restrictions; r != nil && r.GeoRestriction != nil && deref(r.GeoRestriction.RestrictionType) != "none" {
		dep.geo = geoRule{allow: deref(r.GeoRestriction.RestrictionType) == "whitelist", countries: map[string]bool{}}
		for _, cc := range r.GeoRestriction.Items {
			dep.geo.countries[strings.ToUpper(cc)] = true
		}
	}
	if l := c.Logging; l != nil && deref(l.Enabled) && deref(l.Bucket) != "" {
		dep.logging = newLogTarget(d.ID, d.Account, deref(l.Bucket), deref(l.Prefix), deref(l.IncludeCookies))
	}
	return dep, nil
}

// defaultBehavior is the default cache behaviour as the others are, with
// the pattern that matches every path.
func defaultBehavior(db *api.DefaultCacheBehavior) api.CacheBehavior {
	return api.CacheBehavior{
		PathPattern: ptrTo("*"), TargetOriginId: db.TargetOriginId, TrustedSigners: db.TrustedSigners, TrustedKeyGroups: db.TrustedKeyGroups,
		ViewerProtocolPolicy: db.ViewerProtocolPolicy, AllowedMethods: db.AllowedMethods, Compress: db.Compress,
		FunctionAssociations: db.FunctionAssociations, CachePolicyId: db.CachePolicyId, OriginRequestPolicyId: db.OriginRequestPolicyId,
		ResponseHeadersPolicyId: db.ResponseHeadersPolicyId, ForwardedValues: db.ForwardedValues,
		MinTTL: db.MinTTL, DefaultTTL: db.DefaultTTL, MaxTTL: db.MaxTTL,
	}
}

func ptrTo[T any](v T) *T { return &v }

func compileBehavior(d *Distribution, targets map[string]*originTarget, f *api.CacheBehavior) (*behavior, error) {
	b := &behavior{
		pattern: compilePattern(deref(f.PathPattern)), target: targets[deref(f.TargetOriginId)],
		compress: deref(f.Compress), viewerProtocol: deref(f.ViewerProtocolPolicy),
	}
	if b.target == nil {
		return nil, fmt.Errorf("edge: behavior targets unknown origin %q", deref(f.TargetOriginId))
	}
	b.allowed, b.cached = newMethodSet([]string{"GET", "HEAD"}), newMethodSet([]string{"GET", "HEAD"})
	if f.AllowedMethods != nil {
		b.allowed = newMethodSet(f.AllowedMethods.Items)
		if f.AllowedMethods.CachedMethods != nil {
			b.cached = newMethodSet(f.AllowedMethods.CachedMethods.Items)
		}
	}
	if id := deref(f.CachePolicyId); id != "" {
		p := d.CachePolicies[id]
		if p == nil {
			return nil, fmt.Errorf("edge: behavior names unknown cache policy %q", id)
		}
		b.ttl = ttlLimits{Min: secondsOf(p.MinTTL, 0), Default: secondsOf(p.DefaultTTL, legacyTTLs.Default), Max: secondsOf(p.MaxTTL, legacyTTLs.Max)}
		b.key = cachePolicyKey(p)
	} else {
		b.ttl = ttlLimits{Min: secondsOf(f.MinTTL, 0), Default: secondsOf(f.DefaultTTL, legacyTTLs.Default), Max: secondsOf(f.MaxTTL, legacyTTLs.Max)}
		b.key = legacyKey(f.ForwardedValues, deref(f.Compress))
	}
	if id := deref(f.OriginRequestPolicyId); id != "" {
		p := d.OriginRequestPolicies[id]
		if p == nil {
			return nil, fmt.Errorf("edge: behavior names unknown origin request policy %q", id)
		}
		b.forward = originRequestForward(p)
	}
	if id := deref(f.ResponseHeadersPolicyId); id != "" {
		p := d.ResponseHeadersPolicies[id]
		if p == nil {
			return nil, fmt.Errorf("edge: behavior names unknown response headers policy %q", id)
		}
		b.responseHeaders = compileHeaderPolicy(p)
	}
	var err error
	if b.trustedKeys, err = trustedKeys(d, f.TrustedKeyGroups, f.TrustedSigners); err != nil {
		return nil, err
	}
	if b.viewerRequest, b.viewerResponse, err = compileFunctions(d, f.FunctionAssociations); err != nil {
		return nil, err
	}
	return b, nil
}

func secondsOf(p *int64, fallback time.Duration) time.Duration {
	if p == nil {
		return fallback
	}
	return time.Duration(*p) * time.Second
}

// behaviorFor is the first behaviour whose pattern matches path; the
// default's matches every path.
func (dep *deployment) behaviorFor(path string) *behavior {
	for _, b := range dep.behaviors {
		if b.pattern.match(path) {
			return b
		}
	}
	return dep.behaviors[len(dep.behaviors)-1]
}
