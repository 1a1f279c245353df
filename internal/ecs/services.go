package ecs

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/ecs"
	"overcast/internal/store"
)

// Service statuses, scheduling strategies, deployment statuses and rollout
// states, in ECS's words.
const (
	serviceActive   = "ACTIVE"
	serviceDraining = "DRAINING"
	serviceInactive = "INACTIVE"

	schedulingReplica = "REPLICA"
	schedulingDaemon  = "DAEMON"

	deploymentPrimary = "PRIMARY"
	deploymentActive  = "ACTIVE"

	rolloutInProgress = "IN_PROGRESS"
	rolloutCompleted  = "COMPLETED"
	rolloutFailed     = "FAILED"

	// maxServiceEvents is how many events a service keeps, newest first.
	maxServiceEvents = 100
)

var serviceNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// serviceRecord is the record of a service in servicesTable: what the user
// asked for and what the service controller observed, in the shape
// DescribeServices shows. Its deployments are newest first: the first is
// the PRIMARY one.
type serviceRecord struct {
	serviceStatus
	Name    string       `json:"name"`
	Cluster string       `json:"cluster"`
	View    api.Service_ `json:"view"`
	// Steady is set while the service is at its steady state, so that the
	// event saying so is written once per arrival.
	Steady bool `json:"steady,omitempty"`
	// Launched counts the tasks started, to take an awsvpc service's
	// subnets in turn.
	Launched int `json:"launched,omitempty"`
}

func serviceKey(sc scope, cluster, name string) string { return sc.Key(cluster + "/" + name) }

func serviceARN(sc scope, cluster, name string) string {
	return sc.ARN("ecs", "service/"+cluster+"/"+name)
}

// serviceGroup is the task group of a service's tasks.
func serviceGroup(name string) string { return "service:" + name }

// CreateService records the service; the service controller starts its
// tasks.
func (s *Service) CreateService(ctx context.Context, in *api.CreateServiceRequest) (*api.CreateServiceResponse, error) {
	sc := overcast.ScopeOf(ctx)
	name := deref(in.ServiceName)
	if !serviceNamePattern.MatchString(name) {
		return nil, invalidParameter("Service name can have up to 255 characters; letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.")
	}
	strategy := cmpOr(deref(in.SchedulingStrategy), schedulingReplica)
	if strategy != schedulingReplica && strategy != schedulingDaemon {
		return nil, invalidParameter("Invalid scheduling strategy: %s.", strategy)
	}
	if strategy == schedulingDaemon && in.DesiredCount != nil {
		return nil, invalidParameter("The daemon scheduling strategy does not support a desired count for services.")
	}
	if strategy == schedulingReplica && in.DesiredCount == nil {
		return nil, invalidParameter("The desired count must be specified for services using the replica scheduling strategy.")
	}
	if deref(in.TaskDefinition) == "" {
		return nil, invalidParameter("TaskDefinition can not be blank.")
	}
	if n := deref(in.DesiredCount); n < 0 {
		return nil, invalidParameter("Desired count must be greater than or equal to 0.")
	}
	launchType, providers, err := s.resolveStrategy(ctx, in.Cluster, deref(in.LaunchType), in.CapacityProviderStrategy)
	if err != nil {
		return nil, err
	}
	if launchType == launchFargate && strategy == schedulingDaemon {
		return nil, invalidParameter("The daemon scheduling strategy is not supported with the Fargate launch type.")
	}
	cfg, err := deploymentConfiguration(nil, in.DeploymentConfiguration, strategy)
	if err != nil {
		return nil, err
	}
	if err := checkTags(nil, in.Tags); err != nil {
		return nil, err
	}
	subnetErr := s.checkSubnets(ctx, sc, in.NetworkConfiguration)
	if len(in.LoadBalancers) > 0 {
		// Asked outside the transaction: ELBv2 reads its own records.
		var def api.TaskDefinition
		err := s.Store.View(ctx, func(tx store.Tx) error {
			ref, ok := parseTaskDefRef(deref(in.TaskDefinition))
			if !ok {
				return nil // the transaction says so
			}
			td, _, err := readTaskDef(tx, sc, ref)
			def = td.Def
			if isNotFound(err) {
				return nil
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if def.TaskDefinitionArn != nil {
			if err := s.checkLoadBalancers(ctx, in.LoadBalancers, def); err != nil {
				return nil, err
			}
		}
	}
	var view api.Service_
	var key string
	err = s.update(ctx, func(tx store.Tx) error {
		c, err := s.ensureCluster(tx, sc, in.Cluster)
		if err != nil {
			return err
		}
		key = serviceKey(sc, c.Name, name)
		var old serviceRecord
		if _, err := store.GetJSON(tx, servicesTable, key, &old); err == nil && old.Status != serviceInactive {
			return invalidParameter("Creation of service was not idempotent.")
		} else if err != nil && !isNotFound(err) {
			return err
		}
		ref, ok := parseTaskDefRef(deref(in.TaskDefinition))
		if !ok {
			return invalidParameter("Invalid revision number. Number: %s", revisionText(deref(in.TaskDefinition)))
		}
		td, _, err := readTaskDef(tx, sc, ref)
		if isNotFound(err) {
			return clientError("TaskDefinition not found.")
		}
		if err != nil {
			return err
		}
		if err := checkLaunch(td.Def, launchType, in.NetworkConfiguration); err != nil {
			return err
		}
		if subnetErr != nil {
			return subnetErr
		}
		now := s.Now().UTC()
		sv := serviceRecord{serviceStatus: serviceStatus{Status: serviceActive, LaunchType: launchType}, Name: name, Cluster: c.Name}
		sv.View = api.Service_{
			ServiceArn: new(serviceARN(sc, c.Name, name)), ServiceName: new(name), ClusterArn: new(clusterARN(sc, c.Name)),
			LoadBalancers: orEmpty(in.LoadBalancers), ServiceRegistries: orEmpty(in.ServiceRegistries), Status: new(serviceActive),
			DesiredCount: new(deref(in.DesiredCount)), RunningCount: new(int32(0)), PendingCount: new(int32(0)),
			LaunchType: new(launchType), CapacityProviderStrategy: providers, TaskDefinition: td.Def.TaskDefinitionArn,
			DeploymentConfiguration: cfg, RoleArn: in.Role, Events: api.ServiceEvents{}, CreatedAt: new(now),
			PlacementConstraints: orEmpty(in.PlacementConstraints), PlacementStrategy: orEmpty(in.PlacementStrategy),
			NetworkConfiguration: in.NetworkConfiguration, HealthCheckGracePeriodSeconds: in.HealthCheckGracePeriodSeconds,
			SchedulingStrategy: new(strategy), DeploymentController: &api.DeploymentController{Type: new("ECS")},
			Tags: in.Tags, CreatedBy: new(callerARN(ctx, sc)), EnableECSManagedTags: new(deref(in.EnableECSManagedTags)),
			PropagateTags: new(cmpOr(deref(in.PropagateTags), "NONE")), EnableExecuteCommand: new(deref(in.EnableExecuteCommand)),
			AvailabilityZoneRebalancing: new(cmpOr(deref(in.AvailabilityZoneRebalancing), "DISABLED")),
		}
		if len(providers) > 0 {
			// ECS shows a service placed by a strategy without a launch type.
			sv.View.LaunchType = nil
		}
		if launchType == launchFargate {
			sv.View.PlatformVersion, sv.View.PlatformFamily = new(cmpOr(deref(in.PlatformVersion), "LATEST")), new("Linux")
		}
		sv.View.Deployments = api.Deployments{s.newDeployment(&sv, now)}
		_, err = store.PutJSON(tx, servicesTable, key, sv, store.AnyVersion)
		view = sv.View
		return err
	})
	if err != nil {
		return nil, err
	}
	enqueue(s.services, key)
	return &api.CreateServiceResponse{Service: &view}, nil
}

// newDeployment is a PRIMARY deployment of the service's task definition.
func (s *Service) newDeployment(sv *serviceRecord, now time.Time) api.Deployment {
	v := &sv.View
	b := s.IDs.Bytes(8)
	id := fmt.Sprintf("ecs-svc/%019d", binary.BigEndian.Uint64(b)%10_000_000_000_000_000_000)
	return api.Deployment{
		Id: new(id), Status: new(deploymentPrimary), TaskDefinition: v.TaskDefinition,
		DesiredCount: v.DesiredCount, PendingCount: new(int32(0)), RunningCount: new(int32(0)), FailedTasks: new(int32(0)),
		CreatedAt: new(now), UpdatedAt: new(now), LaunchType: v.LaunchType, CapacityProviderStrategy: v.CapacityProviderStrategy,
		PlatformVersion: v.PlatformVersion, PlatformFamily: v.PlatformFamily, NetworkConfiguration: v.NetworkConfiguration,
		RolloutState: new(rolloutInProgress), RolloutStateReason: new("ECS deployment " + id + " in progress."),
	}
}

// deploymentConfiguration merges what a request sets into have, with
// ECS's defaults and bounds.
func deploymentConfiguration(have, in *api.DeploymentConfiguration, strategy string) (*api.DeploymentConfiguration, error) {
	cfg := &api.DeploymentConfiguration{MaximumPercent: new(int32(200)), MinimumHealthyPercent: new(int32(100)),
		DeploymentCircuitBreaker: &api.DeploymentCircuitBreaker{Enable: new(false), Rollback: new(false)}}
	if strategy == schedulingDaemon {
		cfg.MaximumPercent, cfg.MinimumHealthyPercent = new(int32(100)), new(int32(0))
	}
	if have != nil {
		*cfg = *have
	}
	if in != nil {
		if in.MaximumPercent != nil {
			cfg.MaximumPercent = in.MaximumPercent
		}
		if in.MinimumHealthyPercent != nil {
			cfg.MinimumHealthyPercent = in.MinimumHealthyPercent
		}
		if in.DeploymentCircuitBreaker != nil {
			cfg.DeploymentCircuitBreaker = in.DeploymentCircuitBreaker
		}
		if in.Alarms != nil {
			cfg.Alarms = in.Alarms
		}
	}
	switch {
	case deref(cfg.MinimumHealthyPercent) < 0 || deref(cfg.MinimumHealthyPercent) > 100:
		return nil, invalidParameter("minimumHealthyPercent must be between 0 and 100.")
	case deref(cfg.MaximumPercent) < 100 && strategy == schedulingReplica:
		return nil, invalidParameter("maximumPercent must be at least 100.")
	}
	return cfg, nil
}

// UpdateService changes the desired count, and starts a new deployment
// when the task definition, the network or placement changes or a new one
// is forced.
func (s *Service) UpdateService(ctx context.Context, in *api.UpdateServiceRequest) (*api.UpdateServiceResponse, error) {
	sc := overcast.ScopeOf(ctx)
	if in.DesiredCount != nil && *in.DesiredCount < 0 {
		return nil, invalidParameter("Desired count must be greater than or equal to 0.")
	}
	view, err := s.changeService(ctx, in.Cluster, deref(in.Service), func(tx store.Tx, sv *serviceRecord) error {
		if sv.Status != serviceActive {
			return api.NewServiceNotActiveException("Service was not ACTIVE.")
		}
		strategy := deref(sv.View.SchedulingStrategy)
		if in.DesiredCount != nil {
			if strategy == schedulingDaemon {
				return invalidParameter("The daemon scheduling strategy does not support a desired count for services.")
			}
			sv.View.DesiredCount = in.DesiredCount
		}
		cfg, err := deploymentConfiguration(sv.View.DeploymentConfiguration, in.DeploymentConfiguration, strategy)
		if err != nil {
			return err
		}
		sv.View.DeploymentConfiguration = cfg
		redeploy := deref(in.ForceNewDeployment)
		if ref := deref(in.TaskDefinition); ref != "" {
			parsed, ok := parseTaskDefRef(ref)
			if !ok {
				return invalidParameter("Invalid revision number. Number: %s", revisionText(ref))
			}
			td, _, err := readTaskDef(tx, sc, parsed)
			if isNotFound(err) {
				return clientError("TaskDefinition not found.")
			}
			if err != nil {
				return err
			}
			network := sv.View.NetworkConfiguration
			if in.NetworkConfiguration != nil {
				network = in.NetworkConfiguration
			}
			if err := checkLaunch(td.Def, sv.LaunchType, network); err != nil {
				return err
			}
			redeploy = redeploy || deref(td.Def.TaskDefinitionArn) != deref(sv.View.TaskDefinition)
			sv.View.TaskDefinition = td.Def.TaskDefinitionArn
		}
		if in.NetworkConfiguration != nil {
			sv.View.NetworkConfiguration, redeploy = in.NetworkConfiguration, true
		}
		if in.PlacementConstraints != nil {
			sv.View.PlacementConstraints, redeploy = in.PlacementConstraints, true
		}
		if in.PlacementStrategy != nil {
			sv.View.PlacementStrategy, redeploy = in.PlacementStrategy, true
		}
		if in.CapacityProviderStrategy != nil {
			if err := s.updateServiceStrategy(tx, sc, sv, in.CapacityProviderStrategy); err != nil {
				return err
			}
			redeploy = true
		}
		if in.LoadBalancers != nil {
			sv.View.LoadBalancers, redeploy = in.LoadBalancers, true
		}
		if in.HealthCheckGracePeriodSeconds != nil {
			sv.View.HealthCheckGracePeriodSeconds = in.HealthCheckGracePeriodSeconds
		}
		if in.EnableExecuteCommand != nil {
			sv.View.EnableExecuteCommand = in.EnableExecuteCommand
		}
		if in.PropagateTags != nil {
			sv.View.PropagateTags = in.PropagateTags
		}
		now := s.Now().UTC()
		if redeploy {
			for i := range sv.View.Deployments {
				sv.View.Deployments[i].Status = new(deploymentActive)
			}
			sv.View.Deployments = append(api.Deployments{s.newDeployment(sv, now)}, sv.View.Deployments...)
			sv.Steady = false
		} else if len(sv.View.Deployments) > 0 {
			d := &sv.View.Deployments[0]
			d.DesiredCount, d.UpdatedAt = sv.View.DesiredCount, new(now)
			sv.Steady = false
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateServiceResponse{Service: &view}, nil
}

// DeleteService drains the service: its tasks stop, then it is INACTIVE.
// A service still asking for tasks is deleted only when forced.
func (s *Service) DeleteService(ctx context.Context, in *api.DeleteServiceRequest) (*api.DeleteServiceResponse, error) {
	view, err := s.changeService(ctx, in.Cluster, deref(in.Service), func(tx store.Tx, sv *serviceRecord) error {
		if sv.Status == serviceInactive {
			return api.NewServiceNotActiveException("Service was not ACTIVE.")
		}
		if deref(sv.View.DesiredCount) > 0 && deref(sv.View.SchedulingStrategy) == schedulingReplica && !deref(in.Force) {
			return invalidParameter("The service cannot be stopped while it is scaled above 0.")
		}
		sv.Status, sv.View.Status, sv.View.DesiredCount = serviceDraining, new(serviceDraining), new(int32(0))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteServiceResponse{Service: &view}, nil
}

// changeService applies change to a service of an active cluster, saves
// it and wakes the service controller.
func (s *Service) changeService(ctx context.Context, clusterRef *string, ref string, change func(store.Tx, *serviceRecord) error) (api.Service_, error) {
	sc := overcast.ScopeOf(ctx)
	var sv serviceRecord
	err := s.update(ctx, func(tx store.Tx) error {
		c, _, err := s.activeCluster(tx, sc, clusterRef)
		if err != nil {
			return err
		}
		var v int64
		if sv, v, err = s.readService(tx, sc, c.Name, ref); err != nil {
			return err
		}
		if err := change(tx, &sv); err != nil {
			return err
		}
		_, err = store.PutJSON(tx, servicesTable, serviceKey(sc, sv.Cluster, sv.Name), sv, v)
		return err
	})
	if err == nil {
		enqueue(s.services, serviceKey(sc, sv.Cluster, sv.Name))
	}
	return sv.View, err
}

// readService reads a service by name or ARN in cluster.
func (s *Service) readService(tx store.Tx, sc scope, cluster, ref string) (serviceRecord, int64, error) {
	name := resourceName(ref, "service")
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	var sv serviceRecord
	v, err := store.GetJSON(tx, servicesTable, serviceKey(sc, cluster, name), &sv)
	if isNotFound(err) {
		return sv, 0, api.NewServiceNotFoundException("Service not found.")
	}
	return sv, v, err
}

// DescribeServices describes services by name or ARN; unknown ones are
// failures.
func (s *Service) DescribeServices(ctx context.Context, in *api.DescribeServicesRequest) (*api.DescribeServicesResponse, error) {
	sc := overcast.ScopeOf(ctx)
	if len(in.Services) > 10 {
		return nil, invalidParameter("Services cannot have more than 10 elements.")
	}
	out := &api.DescribeServicesResponse{Services: api.Services{}, Failures: api.Failures{}}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		c, _, err := s.activeCluster(tx, sc, in.Cluster)
		if err != nil {
			return err
		}
		for _, ref := range in.Services {
			sv, _, err := s.readService(tx, sc, c.Name, ref)
			if isServiceNotFound(err) {
				out.Failures = append(out.Failures, missing(refARN(ref, serviceARN(sc, c.Name, ref))))
				continue
			}
			if err != nil {
				return err
			}
			view := sv.View
			if !slices.Contains(in.Include, "TAGS") {
				view.Tags = nil
			}
			out.Services = append(out.Services, view)
		}
		return nil
	})
	return out, err
}

func isServiceNotFound(err error) bool {
	var nf *api.ServiceNotFoundException
	return errors.As(err, &nf)
}

// ListServices lists the ARNs of a cluster's services that are not
// INACTIVE.
func (s *Service) ListServices(ctx context.Context, in *api.ListServicesRequest) (*api.ListServicesResponse, error) {
	out := &api.ListServicesResponse{}
	var err error
	out.ServiceArns, out.NextToken, err = listInCluster(ctx, s, in.Cluster, servicesTable, in.NextToken, in.MaxResults,
		func(_ store.Tx, sv serviceRecord) bool {
			return sv.Status != serviceInactive && (in.LaunchType == nil || *in.LaunchType == sv.LaunchType) &&
				(in.SchedulingStrategy == nil || *in.SchedulingStrategy == deref(sv.View.SchedulingStrategy))
		},
		func(sv serviceRecord) string { return deref(sv.View.ServiceArn) })
	return out, err
}

// addEvent puts a message at the head of the service's events, unless it
// is the one already there.
func (s *Service) addEvent(sv *serviceRecord, format string, args ...any) {
	msg := fmt.Sprintf("(service %s) ", sv.Name) + fmt.Sprintf(format, args...)
	if len(sv.View.Events) > 0 && deref(sv.View.Events[0].Message) == msg {
		return
	}
	ev := api.ServiceEvent{Id: new(s.IDs.UUID()), CreatedAt: new(s.Now().UTC()), Message: new(msg)}
	sv.View.Events = append(api.ServiceEvents{ev}, sv.View.Events...)
	if len(sv.View.Events) > maxServiceEvents {
		sv.View.Events = sv.View.Events[:maxServiceEvents]
	}
}

func orEmpty[S ~[]E, E any](s S) S {
	if s == nil {
		return S{}
	}
	return s
}

// callerARN is who made the request, for createdBy.
func callerARN(ctx context.Context, sc scope) string {
	if c := overcast.CallerFrom(ctx); c.ARN != "" {
		return c.ARN
	}
	return "arn:aws:iam::" + sc.Account + ":root"
}
