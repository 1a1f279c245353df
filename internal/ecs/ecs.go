// Package ecs implements the control plane of Amazon ECS: clusters, task
// definitions (families, revisions and ECS's validation), container
// instances with their attributes, tags, and EC2 instances joining clusters
// the way the ECS agent makes them (their user data names the cluster).
//
// Tasks and services come from other pieces: their records live in the
// tables named here (tasksTable, servicesTable), keyed under their cluster,
// so that cluster counts and DeleteCluster's rules derive from them without
// this package knowing more than their status.
package ecs

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/ecs"
	"overcast/internal/awsproto"
	"overcast/internal/controller"
	"overcast/internal/docker"
	"overcast/internal/ecs/agent"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Service is the ECS API.
type Service struct {
	api.UnimplementedServer
	service.Base

	instances Instances
	// joins registers EC2 instances as container instances as they start,
	// and disconnects or deregisters them as they stop or terminate.
	joins *controller.Controller

	// dockerHosts run the tasks' containers, an agent on each engine;
	// none without a Docker engine (hosts.go).
	dockerHosts    []*dockerHost
	hostLostAfter  time.Duration
	stopAgent      context.CancelFunc
	interfaces     NetworkInterfaces
	subnets        Subnets
	endpoint       TaskEndpoint
	executionRoles ExecutionRoles
	loadBalancers  LoadBalancers
	metrics        Metrics
	meter          *usageMeter
	// tasks is the task controller (taskcontroller.go).
	tasks *controller.Controller
	// services is the service controller (servicecontroller.go).
	services *controller.Controller
	// groups are EC2 Auto Scaling's, for capacity providers; scaling is
	// their managed scaling (managedscaling.go).
	groups  AutoScalingGroups
	scaling *controller.Controller
}

// Options are what ECS takes of the rest of overcast; every field may be
// left out.
type Options struct {
	// Instances is how ECS reads the EC2 instances that join clusters and
	// host tasks; nil when EC2 is not there (no instance joins).
	Instances Instances
	// Interfaces attaches awsvpc tasks' ENIs; nil hands out loopback
	// addresses of overcast's own.
	Interfaces NetworkInterfaces
	// Subnets checks awsvpc tasks' subnets; nil accepts any.
	Subnets Subnets
	// Agent configures the agents that run tasks on each engine: Secrets,
	// EnvironmentFiles, Logs, Network. Labels and OnChange are ECS's.
	Agent agent.Config
	// Endpoint serves tasks their credentials and metadata; nil: tasks run
	// without. Start starts it; when it cannot, tasks run without too.
	Endpoint TaskEndpoint
	// Metrics receives the services' CPU and memory utilization each
	// minute; nil: none is published.
	Metrics Metrics
	// LoadBalancers registers services' tasks in their target groups; nil:
	// services with load balancers are refused.
	LoadBalancers LoadBalancers
	// ExecutionRoles assumes task definitions' execution roles, as whom
	// the agent pulls images and reads secrets and environment files;
	// nil: the agent acts as the task's account.
	ExecutionRoles ExecutionRoles
	// AutoScaling reads and scales the Auto Scaling groups of capacity
	// providers; nil: CreateCapacityProvider is refused.
	AutoScaling AutoScalingGroups
	// HostLostAfter is how long one of several Docker engines may not
	// answer before its host counts as lost and its tasks stop; 0 is a
	// minute.
	HostLostAfter time.Duration
}

// ExecutionRoles assumes an execution role for ecs-tasks.amazonaws.com;
// a role that does not exist, or whose trust policy refuses ECS, is an
// error the task fails to start with.
type ExecutionRoles interface {
	AssumeExecutionRole(ctx context.Context, roleARN, session string) (overcast.Caller, error)
}

var _ api.Server = (*Service)(nil)

// New returns the service.
func New(env *service.Env, opts Options) *Service {
	instances := opts.Instances
	s := &Service{Base: env.Base(), instances: instances,
		interfaces: opts.Interfaces, subnets: opts.Subnets, endpoint: opts.Endpoint, executionRoles: opts.ExecutionRoles,
		loadBalancers: opts.LoadBalancers, metrics: opts.Metrics, groups: opts.AutoScaling,
		hostLostAfter: cmp.Or(opts.HostLostAfter, defaultHostLostAfter)}
	if s.interfaces == nil {
		s.interfaces = loopbackInterfaces{db: env.Store, ids: env.IDs}
	}
	if env.Docker != nil {
		cfg := opts.Agent
		cfg.OnChange = s.onAgentChange
		// Another overcast on the same engine runs its own tasks: this one
		// adopts and supervises only those of its data dir.
		cfg.Labels = maps.Clone(cfg.Labels)
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		cfg.Labels[docker.LabelInstance] = docker.InstanceOf(env.DataDir)
		if cfg.Network == "" && s.endpoint != nil {
			cfg.Network = s.endpoint.Network()
		}
		if cfg.Logger == nil {
			cfg.Logger = env.Logger
		}
		engines := env.Engines
		if len(engines) == 0 {
			engines = []*docker.Engine{env.Docker}
		}
		for _, e := range engines {
			s.dockerHosts = append(s.dockerHosts, newDockerHost(e, agent.New(e, cfg)))
		}
	}
	s.tasks = env.Controllers.Add(controller.Config{
		Name:       "ecs-tasks",
		Reconciler: controller.ReconcilerFunc(s.reconcileTask),
		Keys:       s.taskKeys,
		Resync:     time.Minute,
		Watch:      []controller.Watch{{Pattern: instanceChanges, Keys: s.awaitingTaskKeys}},
		Workers:    4,
	})
	s.scaling = env.Controllers.AddFunc("ecs-managed-scaling", s.reconcileScaling, store.TableKeysFunc(s.Store, capacityProvidersTable))
	if len(s.dockerHosts) > 0 && opts.Metrics != nil {
		engines := map[string]containerStats{}
		for _, h := range s.dockerHosts {
			engines[h.name] = h
		}
		s.meter = newUsageMeter(s.dockerHosts[0].name, engines)
		env.Controllers.Every("ecs-metrics", metricsEvery, s.publishMetrics)
	}
	s.services = env.Controllers.Add(controller.Config{
		Name:       "ecs-services",
		Reconciler: controller.ReconcilerFunc(s.reconcileService),
		Keys:       s.serviceKeys,
		Resync:     time.Minute,
		Watch: []controller.Watch{{Pattern: taskStateChanges, Keys: serviceKeysOfTask},
			{Pattern: instanceChanges, Keys: s.serviceKeysOfInstance}},
		Workers: 2,
	})
	if s.several() {
		// One engine that stops answering is overcast's own trouble, its
		// tasks adopted when it is back; one of several is a host lost.
		env.Controllers.Every("ecs-docker-hosts", hostCheckEvery(s.hostLostAfter), s.checkHosts)
	}
	if instances != nil {
		s.joins = env.Controllers.Add(controller.Config{
			Name:       "ecs-instance-joins",
			Reconciler: controller.ReconcilerFunc(s.reconcileJoin),
			Keys:       s.joinedInstances,
			Watch:      []controller.Watch{{Pattern: ec2StateChanges, Keys: joinKeys}},
		})
	}
	return s
}

// API is ECS's API for the gateway.
func (s *Service) API() service.API {
	return service.API{Binding: api.Bind(s), Authz: s.authzTable()}
}

const (
	// clustersTable holds one record per cluster, keyed by scope and name.
	clustersTable = "ecs.clusters"
	// familiesTable holds the last revision number of each task definition
	// family, keyed by scope and family: revisions are never reused, even
	// after DeleteTaskDefinitions.
	familiesTable = "ecs.families"
	// taskDefsTable holds each revision, keyed by scope and
	// "family:%010d", so that a scan lists them in family and revision order.
	taskDefsTable = "ecs.taskdefs"
	// instancesTable holds container instances, keyed by scope and
	// "cluster/id".
	instancesTable = "ecs.instances"
	// ec2IndexTable maps an EC2 instance ID (scope and ID) to the key of
	// its container instance in instancesTable.
	ec2IndexTable = "ecs.ec2index"
	// tasksTable and servicesTable belong to the task and service
	// controllers; keys are scope and "cluster/id", values carry at least
	// the fields of taskStatus and serviceStatus. Clusters count from them.
	tasksTable    = "ecs.tasks"
	servicesTable = "ecs.services"
	// settingsTable holds account settings, keyed by scope and
	// "principal ARN|name" ("" principal: the account default).
	settingsTable = "ecs.settings"
)

const (
	updateAttempts = 10
	maxTags        = 50
	defaultCluster = "default"
	// inactiveFor is how long a deleted cluster or a deregistered
	// container instance stays visible as INACTIVE.
	inactiveFor = time.Hour
)

type scope = overcast.Scope

// taskStatus is what a cluster reads of a task record.
type taskStatus struct {
	LastStatus string `json:"lastStatus"`
	// ContainerInstance is the key of the container instance the task
	// runs on in instancesTable, "" for Fargate.
	ContainerInstance string `json:"containerInstance,omitempty"`
	// Group is the task's placement group ("family:web", "service:api"
	// or RunTask's group): task:group in the cluster query language and
	// spread strategies count tasks by it.
	Group string `json:"group,omitempty"`
	// reservation is what the task reserves on its container instance.
	reservation
	// Engine is the Docker engine (its --docker-host) the task runs on,
	// "" for the first.
	Engine string `json:"engine,omitempty"`
}

// reservation is CPU units, MiB of memory and ports: what a container
// instance registers, or a task reserves of it.
type reservation struct {
	CPU      int      `json:"cpu,omitempty"`
	Memory   int      `json:"memory,omitempty"`
	Ports    []string `json:"ports,omitempty"`
	PortsUDP []string `json:"portsUdp,omitempty"`
}

// serviceStatus is what a cluster reads of a service record.
type serviceStatus struct {
	Status string `json:"status"`
	// LaunchType is EC2 or FARGATE: statistics count services by it.
	LaunchType string `json:"launchType,omitempty"`
}

func clientError(format string, args ...any) error {
	return api.NewClientException(format, args...)
}

func invalidParameter(format string, args ...any) error {
	return api.NewInvalidParameterException(format, args...)
}

func errClusterNotFound() error { return api.NewClusterNotFoundException("Cluster not found.") }

// update runs fn in a retried read-modify-write transaction, then wakes
// the bus for the events it published.
func (s *Service) update(ctx context.Context, fn func(tx store.Tx) error) error {
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, fn)
	if err == nil {
		s.Bus.Notify()
	}
	return err
}

// missing is ECS's failure for a resource that a request names and
// that does not exist.
func missing(arn string) api.Failure {
	return api.Failure{Arn: new(arn), Reason: new("MISSING")}
}

// refARN is the ARN a request's reference to a resource stands for: the
// reference itself when it is an ARN, else arn, made of its name.
func refARN(ref, arn string) string {
	if strings.HasPrefix(ref, "arn:") {
		return ref
	}
	return arn
}

// enqueue wakes a controller for keys; a Service built without
// controllers has none to wake.
func enqueue(c *controller.Controller, keys ...string) {
	if c != nil {
		c.Enqueue(keys...)
	}
}

// resourceName is the name a request gives a resource by name or ARN:
// the part of an ARN's resource after "<kind>/".
func resourceName(nameOrARN, kind string) string {
	if a, ok := overcast.ParseARN(nameOrARN); ok {
		return strings.TrimPrefix(a.Resource, kind+"/")
	}
	return nameOrARN
}

// clusterName is the cluster a request names, "default" when none.
func clusterName(ref *string) string {
	if ref == nil || *ref == "" {
		return defaultCluster
	}
	return resourceName(*ref, "cluster")
}

func clusterARN(sc scope, name string) string { return sc.ARN("ecs", "cluster/"+name) }

// toTags and fromTags convert between the API's tags and a stored map.
func fromTags(tags api.Tags) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[deref(t.Key)] = deref(t.Value)
	}
	return m
}

func toTags(m map[string]string) api.Tags {
	tags := make(api.Tags, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		tags = append(tags, api.Tag{Key: new(k), Value: new(m[k])})
	}
	return tags
}

// checkTags holds tags to ECS's rules: at most 50, no "aws:" prefix.
func checkTags(have map[string]string, add api.Tags) error {
	n := len(have)
	for _, t := range add {
		if _, ok := have[deref(t.Key)]; !ok {
			n++
		}
		if strings.HasPrefix(strings.ToLower(deref(t.Key)), "aws:") {
			return invalidParameter("Tag keys with the prefix 'aws:' are reserved for AWS use.")
		}
	}
	if n > maxTags {
		return invalidParameter("The number of tags on the resource cannot exceed %d.", maxTags)
	}
	return nil
}

// deref is service.Deref under the short name the package's many optional
// request members read best with.
func deref[T any](p *T) T { return service.Deref(p) }

// listARNs is a page of a List call: the ARNs of the records of table
// under prefix that keep accepts.
func listARNs[T any](tx store.Tx, table, prefix string, token *string, max *int32, reverse bool,
	keep func(T) bool, arn func(T) string) ([]string, *string, error) {
	page, next, err := scanPage(tx, table, prefix, token, pageSize(max), reverse, keep)
	arns := make([]string, 0, len(page))
	for _, v := range page {
		arns = append(arns, arn(v))
	}
	return arns, next, err
}

// listInCluster is a page of a List call over the records of table that
// belong to an active cluster: the ARNs of those keep accepts.
func listInCluster[T any](ctx context.Context, s *Service, cluster *string, table string, token *string, max *int32,
	keep func(store.Tx, T) bool, arn func(T) string) (arns []string, next *string, err error) {
	sc := overcast.ScopeOf(ctx)
	err = s.Store.View(ctx, func(tx store.Tx) error {
		c, _, err := s.activeCluster(tx, sc, cluster)
		if err != nil {
			return err
		}
		arns, next, err = listARNs(tx, table, sc.Key(c.Name+"/"), token, max, false, func(v T) bool { return keep(tx, v) }, arn)
		return err
	})
	return arns, next, err
}

// collectPage is a page of a List call served from memory: what collect
// adds in one read transaction, paged by pageOf.
func collectPage[T any](ctx context.Context, s *Service, token *string, max *int32, collect func(tx store.Tx, add func(T)) error) ([]T, *string, error) {
	var all []T
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return collect(tx, func(v T) { all = append(all, v) })
	})
	if err != nil {
		return nil, nil, err
	}
	return pageOf(all, token, max)
}

// pageOf is the page of a list served from memory that a request's token
// and page size ask for, and the token of the next one: the token carries
// the position the page starts at.
func pageOf[T any](all []T, token *string, max *int32) ([]T, *string, error) {
	bad := invalidParameter("Invalid nextToken.")
	pos, err := awsproto.PageAfter(token, bad)
	if err != nil {
		return nil, nil, err
	}
	start := 0
	if pos != "" {
		if start, err = strconv.Atoi(pos); err != nil || start < 0 {
			return nil, nil, bad
		}
	}
	end := min(start+pageSize(max), len(all))
	page := []T{}
	if start < end {
		page = all[start:end]
	}
	if end < len(all) {
		return page, awsproto.PageToken(itoa(end)), nil
	}
	return page, nil, nil
}

func itoa(n int) string { return strconv.Itoa(n) }

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// scanPage lists up to limit keys of table under prefix after the
// request's token, keeping those keep accepts; the token of the next page
// is nil at the end.
func scanPage[T any](tx store.Tx, table, prefix string, token *string, limit int, reverse bool, keep func(T) bool) ([]T, *string, error) {
	after, err := awsproto.PageAfter(token, invalidParameter("Invalid nextToken."))
	if err != nil {
		return nil, nil, err
	}
	opt := store.ScanOptions{Prefix: prefix, Reverse: reverse}
	if after != "" {
		opt.After = prefix + after
	}
	var out []T
	var next *string
	var lastKey string
	err = store.ScanJSON(tx, table, opt, func(key string, v T, _ int64) error {
		if !keep(v) {
			return nil
		}
		if len(out) == limit {
			next = awsproto.PageToken(strings.TrimPrefix(lastKey, prefix))
			return store.ErrStop
		}
		out = append(out, v)
		lastKey = key
		return nil
	})
	return out, next, err
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
