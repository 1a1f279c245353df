// Package elbv2 implements Elastic Load Balancing v2 for Application Load
// Balancers: the API (load balancers, target groups, listeners, rules,
// targets, attributes, tags) and a real data plane. Each listener is served
// on 127.0.0.1:<port>, where requests are told apart by the Host header
// (the DNSName, <name>-<digits>.<region>.elb.localhost, which resolves to
// loopback), and on the load balancer's own loopback addresses (one per
// subnet, allocated as requester-managed interfaces in EC2), which need no
// DNS. Requests are routed by rule priority to healthy targets, which the
// service health-checks itself as ALB does.
package elbv2

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"overcast"
	api "overcast/internal/api/elbv2"
	"overcast/internal/awsproto"
	"overcast/internal/clock"
	"overcast/internal/controller"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Service is the ELBv2 API and its data plane.
type Service struct {
	api.UnimplementedServer
	service.Base
	clock   clock.Clock
	network Network
	certs   Certificates
	// logBuckets receive access logs.
	logBuckets LogBuckets
	// certUsers is what ACM was last told of the certificates in use
	// (under syncMu); nil before the first sync.
	certUsers map[string][]string
	plane     *plane
	health    *healthChecker
	// checks runs the health checks and ends deregistration delays, one
	// key per target group.
	checks *controller.Controller
	// syncMu makes syncs one at a time, so that an older read of the
	// store never replaces a newer one in the data plane.
	syncMu sync.Mutex
}

var _ api.Server = (*Service)(nil)

// Network is what ELBv2 needs from EC2: subnets and VPCs to place load
// balancers and validate targets, instances to resolve instance targets,
// and interfaces to give each load balancer its own addresses.
// internal/app adapts EC2 to it.
type Network interface {
	Subnet(ctx context.Context, account, region, id string) (Subnet, error)
	VPC(ctx context.Context, account, region, id string) (VPC, error)
	Instance(ctx context.Context, account, region, id string) (Instance, error)
	// AttachInterface makes a requester-managed interface in a subnet
	// holding one address of it; groups are checked to exist in the
	// subnet's VPC (ErrSecurityGroupNotFound).
	AttachInterface(ctx context.Context, account, region, subnetID string, groups []string, description string) (Interface, error)
	ReleaseInterface(ctx context.Context, account, region, id string) error
}

// Subnet is an EC2 subnet in ELBv2's terms.
type Subnet struct{ ID, VPCID, AvailabilityZone, CIDR string }

// VPC is an EC2 VPC in ELBv2's terms.
type VPC struct {
	ID, CIDR string
	Default  bool
}

// Instance is an EC2 instance in ELBv2's terms.
type Instance struct{ ID, State, VPCID, PrivateIP, AvailabilityZone string }

// Interface is a network interface holding one of a load balancer's
// addresses.
type Interface struct{ ID, PrivateIP string }

// Errors a Network returns for what does not exist.
var (
	ErrSubnetNotFound        = errors.New("elbv2: subnet not found")
	ErrVPCNotFound           = errors.New("elbv2: vpc not found")
	ErrInstanceNotFound      = errors.New("elbv2: instance not found")
	ErrSecurityGroupNotFound = errors.New("elbv2: security group not found")
)

// Options are the parts of the service internal/app chooses.
type Options struct {
	Network Network
	// Certificates are HTTPS listeners' certificates; nil refuses HTTPS
	// listeners.
	Certificates Certificates
	// LogBuckets receive access logs; nil delivers none.
	LogBuckets LogBuckets
	// ListenHost is the address every listener is also served on, where
	// requests are told apart by Host; "127.0.0.1" when empty.
	ListenHost string
}

// New returns the service.
func New(env *service.Env, opts Options) *Service {
	s := &Service{Base: env.Base(), clock: env.Clock, network: opts.Network, certs: opts.Certificates, logBuckets: opts.LogBuckets}
	host := opts.ListenHost
	if host == "" {
		host = "127.0.0.1"
	}
	s.plane = newPlane(env.Logger, env.Clock, host)
	s.health = newHealthChecker(env.Clock)
	s.checks = env.Controllers.Add(controller.Config{Name: "elbv2-health", Reconciler: controller.ReconcilerFunc(s.reconcileHealth),
		Keys: store.TableKeysFunc(s.Store, targetGroupsTable), Workers: 4})
	// A listener whose port was taken is tried again on every pass.
	env.Controllers.Every("elbv2-listeners", listenerRetry, s.sync)
	env.Controllers.Every("elbv2-access-logs", logInterval, s.deliverLogs)
	return s
}

// API is ELBv2's API for the gateway.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: authzTable} }

// Planes serves load balancers on the gateway's port too, by Host
// (<dns name>, the listener's port chosen by the port in Host or the
// first listener).
func (s *Service) Planes() []service.Plane {
	return []service.Plane{{Name: "elbv2", Match: service.HostSuffix(".elb.localhost"), Auth: service.AuthNone, Handler: s.plane.gatewayHandler()}}
}

// Start serves the listeners the store holds: a restart brings the load
// balancers back.
func (s *Service) Start(ctx context.Context) error { return s.sync(ctx) }

// Close stops serving every listener.
func (s *Service) Close() error {
	s.plane.close()
	// What was logged since the last delivery goes out now: S3 closes
	// after this service.
	return s.deliverLogs(context.Background())
}

const (
	loadBalancersTable = "elbv2.loadbalancers"
	targetGroupsTable  = "elbv2.targetgroups"

	updateAttempts = 10
	arnService     = "elasticloadbalancing"
	// listenerRetry is how often the data plane is brought in line with
	// the store even when nothing changed: ports that could not be bound
	// are tried again.
	listenerRetry = 30 * time.Second
)

type scope = overcast.Scope

type tag = service.Tag

// loadBalancer is the record of a load balancer, with its listeners and
// their rules: they live and die with it.
type loadBalancer struct {
	ARN            string            `json:"arn"`
	Name           string            `json:"name"`
	DNSName        string            `json:"dnsName"`
	Scheme         string            `json:"scheme"`
	IPAddressType  string            `json:"ipAddressType"`
	VPCID          string            `json:"vpcId"`
	Created        time.Time         `json:"created"`
	Zones          []zone            `json:"zones"`
	SecurityGroups []string          `json:"securityGroups"`
	Attributes     map[string]string `json:"attributes"`
	Tags           []tag             `json:"tags,omitempty"`
	Listeners      []listener        `json:"listeners,omitempty"`
}

// zone is a subnet of a load balancer and the address it holds there.
type zone struct {
	SubnetID    string `json:"subnetId"`
	Zone        string `json:"zone"`
	InterfaceID string `json:"interfaceId"`
	IP          string `json:"ip"`
}

type listener struct {
	ARN            string      `json:"arn"`
	Port           int32       `json:"port"`
	Protocol       string      `json:"protocol"`
	SslPolicy      string      `json:"sslPolicy,omitempty"`
	Certificates   []string    `json:"certificates,omitempty"`
	DefaultActions api.Actions `json:"defaultActions"`
	DefaultRuleARN string      `json:"defaultRuleArn"`
	Rules          []rule      `json:"rules,omitempty"`
	Tags           []tag       `json:"tags,omitempty"`
}

type rule struct {
	ARN        string                `json:"arn"`
	Priority   int32                 `json:"priority"`
	Conditions api.RuleConditionList `json:"conditions"`
	Actions    api.Actions           `json:"actions"`
	Tags       []tag                 `json:"tags,omitempty"`
}

// targetGroup is the record of a target group, with its registered
// targets.
type targetGroup struct {
	ARN             string            `json:"arn"`
	Name            string            `json:"name"`
	Protocol        string            `json:"protocol"`
	ProtocolVersion string            `json:"protocolVersion"`
	Port            int32             `json:"port"`
	VPCID           string            `json:"vpcId"`
	TargetType      string            `json:"targetType"`
	IPAddressType   string            `json:"ipAddressType"`
	HealthCheck     healthCheck       `json:"healthCheck"`
	Attributes      map[string]string `json:"attributes"`
	Tags            []tag             `json:"tags,omitempty"`
	Targets         []target          `json:"targets,omitempty"`
	Created         time.Time         `json:"created"`
}

type healthCheck struct {
	Enabled   bool   `json:"enabled"`
	Protocol  string `json:"protocol"`
	Port      string `json:"port"`
	Path      string `json:"path"`
	Interval  int32  `json:"interval"`
	Timeout   int32  `json:"timeout"`
	Healthy   int32  `json:"healthy"`
	Unhealthy int32  `json:"unhealthy"`
	Matcher   string `json:"matcher"`
}

// target is a registered target: IP is where it is reached (an instance's
// private address, or the ip target itself).
type target struct {
	ID   string `json:"id"`
	Port int32  `json:"port"`
	Zone string `json:"zone,omitempty"`
	IP   string `json:"ip"`
	// DrainUntil, once deregistered, is when the deregistration delay
	// ends and the target is forgotten.
	DrainUntil time.Time `json:"drainUntil,omitzero"`
}

func (t target) key() string { return t.ID + ":" + strconv.Itoa(int(t.Port)) }

func (t target) address() string { return joinHostPort(t.IP, t.Port) }

func joinHostPort(host string, port int32) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(int(port))
	}
	return host + ":" + strconv.Itoa(int(port))
}

// Errors, in ELBv2's codes and words. The model's errors carry no
// message, so they are built as awsproto errors.

func apiError(code, format string, args ...any) error {
	return &awsproto.Error{Code: code, Status: 400, Message: fmt.Sprintf(format, args...)}
}

func validation(format string, args ...any) error {
	return apiError("ValidationError", format, args...)
}

func invalidConfiguration(format string, args ...any) error {
	return apiError("InvalidConfigurationRequest", format, args...)
}

func loadBalancerNotFound(arn string) error {
	return apiError("LoadBalancerNotFound", "Load balancer '%s' not found", arn)
}

func targetGroupNotFound(arn string) error {
	return apiError("TargetGroupNotFound", "Target groups '%s' not found", arn)
}

func listenerNotFound(arn string) error {
	return apiError("ListenerNotFound", "Listener '%s' not found", arn)
}

func ruleNotFound() error { return apiError("RuleNotFound", "One or more rules not found") }

// ARNs. A load balancer's is ...:loadbalancer/app/<name>/<id>, a target
// group's ...:targetgroup/<name>/<id>, a listener's
// ...:listener/app/<lb name>/<lb id>/<id>, a rule's
// ...:listener-rule/app/<lb name>/<lb id>/<listener id>/<id>.

type arnKind struct {
	prefix string // the resource's first segment
	parts  int    // segments after it
	what   string // in "is not a valid <what> ARN"
}

var (
	loadBalancerARN = arnKind{"loadbalancer", 3, "load balancer"}
	targetGroupARN  = arnKind{"targetgroup", 2, "target group"}
	listenerARN     = arnKind{"listener", 4, "listener"}
	ruleARN         = arnKind{"listener-rule", 5, "listener rule"}
)

// check returns a ValidationError unless s is an ARN of the kind.
func (k arnKind) check(s string) error {
	a, ok := overcast.ParseARN(s)
	if ok && a.Service == arnService {
		parts := strings.Split(a.Resource, "/")
		if len(parts) == k.parts+1 && parts[0] == k.prefix && !slices.Contains(parts, "") {
			return nil
		}
	}
	return validation("'%s' is not a valid %s ARN", s, k.what)
}

// parentARN is the ARN of what a listener or rule belongs to: a
// listener's load balancer, a rule's listener.
func parentARN(arn string) string {
	head, resource, _ := strings.Cut(arn, ":listener")
	resource = strings.TrimPrefix(resource, "-rule")
	parts := strings.Split(strings.TrimPrefix(resource, "/"), "/")
	parts = parts[:len(parts)-1]
	if len(parts) == 3 {
		return head + ":loadbalancer/" + strings.Join(parts, "/")
	}
	return head + ":listener/" + strings.Join(parts, "/")
}

func (s *Service) newID() string { return s.IDs.Hex(16) }

func apiTags(tags []tag) api.TagList {
	return service.Map(tags, func(t tag) api.Tag { return api.Tag{Key: new(t.Key), Value: new(t.Value)} })
}

func tagsFrom(in api.TagList) ([]tag, error) {
	var out []tag
	for _, t := range in {
		if slices.ContainsFunc(out, func(o tag) bool { return o.Key == *t.Key }) {
			return nil, apiError("DuplicateTagKeys", "Tag key '%s' is duplicated", *t.Key)
		}
		out = append(out, tag{Key: *t.Key, Value: deref(t.Value)})
	}
	return out, nil
}

// deref is service.Deref under the short name the package's many optional
// request members read best with.
func deref[T any](p *T) T { return service.Deref(p) }

// page cuts one page of list at marker (the index it starts at, as
// DescribeLoadBalancers' Marker) and returns the next page's marker.
func page[T any](list []T, marker *string, size *int32) ([]T, *string, error) {
	start := 0
	if m := deref(marker); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 || n > len(list) {
			return nil, nil, validation("The marker '%s' is not valid", m)
		}
		start = n
	}
	end := len(list)
	if n := int(deref(size)); n > 0 && start+n < end {
		end = start + n
		return list[start:end], new(strconv.Itoa(end)), nil
	}
	return list[start:end], nil, nil
}

// loadAll reads every record of a table in sc.
func loadAll[T any](tx store.Tx, table string, sc scope) ([]T, error) {
	var out []T
	err := store.ScanJSON(tx, table, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, v T, _ int64) error {
		out = append(out, v)
		return nil
	})
	return out, err
}

// getRecord reads the record key names in sc, or returns notFound.
func getRecord[T any](tx store.Tx, table string, sc scope, arn string, notFound error) (T, int64, error) {
	var v T
	version, err := store.GetJSON(tx, table, sc.Key(arn), &v)
	if errors.Is(err, store.ErrNotFound) {
		err = notFound
	}
	return v, version, err
}

// sync brings the data plane and the health checks in line with the
// store, after a change commits or when overcast starts.
func (s *Service) sync(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	var lbs []loadBalancer
	var tgs []targetGroup
	err := s.Store.View(ctx, func(tx store.Tx) error {
		if err := store.ScanJSON(tx, loadBalancersTable, store.ScanOptions{}, func(_ string, lb loadBalancer, _ int64) error {
			lbs = append(lbs, lb)
			return nil
		}); err != nil {
			return err
		}
		return store.ScanJSON(tx, targetGroupsTable, store.ScanOptions{}, func(_ string, tg targetGroup, _ int64) error {
			tgs = append(tgs, tg)
			return nil
		})
	})
	if err != nil {
		return err
	}
	s.health.sync(tgs, usedTargetGroups(lbs))
	s.plane.update(lbs, tgs, s.health, s.certificates(ctx, lbs))
	return s.recordCertificateUsers(ctx, lbs)
}

// recordCertificateUsers tells ACM which load balancers use which
// certificates (InUseBy) when that changed since the last sync.
func (s *Service) recordCertificateUsers(ctx context.Context, lbs []loadBalancer) error {
	if s.certs == nil {
		return nil
	}
	users := map[string][]string{}
	for _, lb := range lbs {
		for _, l := range lb.Listeners {
			for _, arn := range l.Certificates {
				if !slices.Contains(users[arn], lb.ARN) {
					users[arn] = append(users[arn], lb.ARN)
				}
			}
		}
	}
	if s.certUsers != nil && maps.EqualFunc(users, s.certUsers, slices.Equal) {
		return nil
	}
	if err := s.certs.InUse(ctx, users); err != nil {
		return err
	}
	s.certUsers = users
	return nil
}

// certificates loads what the HTTPS listeners serve. One that cannot be
// loaded is logged and left out: the listener serves its others, or no
// TLS handshake succeeds.
func (s *Service) certificates(ctx context.Context, lbs []loadBalancer) map[string]*tls.Certificate {
	certs := map[string]*tls.Certificate{}
	for _, lb := range lbs {
		for _, l := range lb.Listeners {
			for _, arn := range l.Certificates {
				if _, ok := certs[arn]; ok || s.certs == nil {
					continue
				}
				c, err := s.certs.Certificate(ctx, arn)
				if err != nil {
					s.Logger.Warn("elbv2: a listener's certificate cannot be served", "listener", l.ARN, "certificate", arn, "err", err)
					continue
				}
				certs[arn] = c
			}
		}
	}
	return certs
}

// changed syncs after a committed change, logging (not failing the call)
// when the data plane cannot follow: the API's answer stands.
func (s *Service) changed(ctx context.Context, sc scope, targetGroups ...string) {
	if err := s.sync(context.WithoutCancel(ctx)); err != nil {
		s.Logger.Error("elbv2: updating the data plane", "err", err)
	}
	for _, arn := range targetGroups {
		s.checks.Enqueue(sc.Key(arn))
	}
}

// scopeOfRecord is the account and region an ARN names.
func scopeOfRecord(arn string) scope {
	a, _ := overcast.ParseARN(arn)
	return scope{Account: a.AccountID, Region: a.Region}
}

// usedTargetGroups is the set of target groups some listener or rule
// forwards to.
func usedTargetGroups(lbs []loadBalancer) map[string]string {
	used := map[string]string{}
	for _, lb := range lbs {
		for _, arn := range lb.targetGroups() {
			used[arn] = lb.ARN
		}
	}
	return used
}

// targetGroups lists the target groups lb's listeners and rules forward
// to.
func (lb loadBalancer) targetGroups() []string {
	var out []string
	add := func(actions api.Actions) {
		for _, a := range actions {
			for _, arn := range forwardTargets(a) {
				if !slices.Contains(out, arn) {
					out = append(out, arn)
				}
			}
		}
	}
	for _, l := range lb.Listeners {
		add(l.DefaultActions)
		for _, r := range l.Rules {
			add(r.Actions)
		}
	}
	return out
}

func forwardTargets(a api.Action) []string {
	if deref(a.Type) != "forward" {
		return nil
	}
	if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
		var out []string
		for _, t := range a.ForwardConfig.TargetGroups {
			out = append(out, deref(t.TargetGroupArn))
		}
		return out
	}
	return []string{deref(a.TargetGroupArn)}
}
