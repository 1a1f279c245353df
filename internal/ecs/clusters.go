package ecs

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/ecs"
	"overcast/internal/store"
)

// cluster is the record of a cluster. Its counts are not stored: they
// derive from the container instances, tasks and services under it.
type cluster struct {
	Name                   string                             `json:"name"`
	ARN                    string                             `json:"arn"`
	Status                 string                             `json:"status"`
	Settings               api.ClusterSettings                `json:"settings,omitempty"`
	Configuration          *api.ClusterConfiguration          `json:"configuration,omitempty"`
	CapacityProviders      []string                           `json:"capacityProviders,omitempty"`
	Strategy               api.CapacityProviderStrategy       `json:"strategy,omitempty"`
	ServiceConnectDefaults *api.ClusterServiceConnectDefaults `json:"serviceConnectDefaults,omitempty"`
	Tags                   map[string]string                  `json:"tags,omitempty"`
	Created                time.Time                          `json:"created"`
	// Deleted is when DeleteCluster ran: the cluster shows INACTIVE until
	// inactiveFor has passed, then it is gone.
	Deleted *time.Time `json:"deleted,omitempty"`
}

const (
	statusActive   = "ACTIVE"
	statusInactive = "INACTIVE"
	statusDraining = "DRAINING"
)

// builtinCapacityProviders exist in every account: Fargate's.
var builtinCapacityProviders = []string{"FARGATE", "FARGATE_SPOT"}

var clusterNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

// readCluster reads a cluster record, INACTIVE ones included while they
// are visible; store.ErrNotFound when there is none.
func (s *Service) readCluster(tx store.Tx, sc scope, name string) (cluster, int64, error) {
	var c cluster
	v, err := store.GetJSON(tx, clustersTable, sc.Key(name), &c)
	if err != nil {
		return c, 0, err
	}
	if c.Deleted != nil && s.Now().Sub(*c.Deleted) >= inactiveFor {
		return c, 0, store.ErrNotFound
	}
	return c, v, nil
}

// activeCluster is the ACTIVE cluster a request names, or
// ClusterNotFoundException.
func (s *Service) activeCluster(tx store.Tx, sc scope, ref *string) (cluster, int64, error) {
	c, v, err := s.readCluster(tx, sc, clusterName(ref))
	if isNotFound(err) || (err == nil && c.Status != statusActive) {
		return c, 0, errClusterNotFound()
	}
	return c, v, err
}

// ensureCluster is the named cluster, created when it is the default
// cluster and does not exist: AWS creates "default" on first use
// (RegisterContainerInstance, RunTask, CreateService without a cluster).
func (s *Service) ensureCluster(tx store.Tx, sc scope, ref *string) (cluster, error) {
	name := clusterName(ref)
	c, _, err := s.activeCluster(tx, sc, ref)
	var missing *api.ClusterNotFoundException
	if err == nil || name != defaultCluster || !errors.As(err, &missing) {
		return c, err
	}
	c = s.newCluster(sc, name)
	if err := insightsDefault(tx, sc, rootARN(sc), &c); err != nil {
		return c, err
	}
	_, err = store.PutJSON(tx, clustersTable, sc.Key(name), c, store.AnyVersion)
	return c, err
}

func (s *Service) newCluster(sc scope, name string) cluster {
	return cluster{Name: name, ARN: clusterARN(sc, name), Status: statusActive, Created: s.Now().UTC()}
}

// insightsDefault gives a new cluster that names no containerInsights
// setting the account setting's value, as ECS does.
func insightsDefault(tx store.Tx, sc scope, principal string, c *cluster) error {
	if slices.ContainsFunc(c.Settings, func(st api.ClusterSetting) bool { return deref(st.Name) == "containerInsights" }) {
		return nil
	}
	v, _, err := effectiveSetting(tx, sc, principal, "containerInsights")
	c.Settings = append(api.ClusterSettings{{Name: new("containerInsights"), Value: new(v)}}, c.Settings...)
	return err
}

func (s *Service) CreateCluster(ctx context.Context, in *api.CreateClusterRequest) (*api.CreateClusterResponse, error) {
	sc := overcast.ScopeOf(ctx)
	name := clusterName(in.ClusterName)
	if !clusterNamePattern.MatchString(name) {
		return nil, invalidParameter("Invalid cluster name. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.")
	}
	if err := checkTags(nil, in.Tags); err != nil {
		return nil, err
	}
	c := s.newCluster(sc, name)
	c.Configuration = in.Configuration
	c.Tags = fromTags(in.Tags)
	if err := applySettings(&c, in.Settings); err != nil {
		return nil, err
	}
	known, err := s.providerIndex(ctx, sc)
	if err != nil {
		return nil, err
	}
	if err := setCapacityProviders(&c, in.CapacityProviders, in.DefaultCapacityProviderStrategy, known); err != nil {
		return nil, err
	}
	if d := in.ServiceConnectDefaults; d != nil {
		c.ServiceConnectDefaults = &api.ClusterServiceConnectDefaults{Namespace: d.Namespace}
	}
	var out cluster
	var cnt counts
	err = s.update(ctx, func(tx store.Tx) error {
		old, _, err := s.readCluster(tx, sc, name)
		if err == nil && old.Status == statusActive {
			// CreateCluster is idempotent: an existing cluster is returned
			// as it is.
			out = old
			cnt, err = clusterCounts(tx, sc, name)
			return err
		}
		if err != nil && !isNotFound(err) {
			return err
		}
		out = c
		if err := insightsDefault(tx, sc, overcast.CallerFrom(ctx).ARN, &out); err != nil {
			return err
		}
		_, err = store.PutJSON(tx, clustersTable, sc.Key(name), out, store.AnyVersion)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateClusterResponse{Cluster: out.view(cnt, allClusterFields)}, nil
}

func applySettings(c *cluster, settings api.ClusterSettings) error {
	for _, st := range settings {
		switch v := deref(st.Value); v {
		case "enabled", "disabled", "enhanced":
		default:
			return invalidParameter("The specified value for containerInsights is not valid. Valid values are enabled, disabled or enhanced.")
		}
		i := slices.IndexFunc(c.Settings, func(o api.ClusterSetting) bool { return deref(o.Name) == deref(st.Name) })
		if i < 0 {
			c.Settings = append(c.Settings, st)
		} else {
			c.Settings[i] = st
		}
	}
	return nil
}

// setCapacityProviders holds a cluster's capacity providers and default
// strategy to ECS's rules (capacityproviders.go has the providers').
func setCapacityProviders(c *cluster, providers []string, strategy api.CapacityProviderStrategy, known providerIndex) error {
	strategy = providerNames(strategy)
	if err := known.check(c.Name, c.CapacityProviders, providers); err != nil {
		return err
	}
	withBase := 0
	for _, item := range strategy {
		if !slices.Contains(providers, deref(item.CapacityProvider)) {
			return invalidParameter("The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.")
		}
		if deref(item.Base) > 0 {
			withBase++
		}
	}
	if withBase > 1 {
		return invalidParameter("The specified capacity provider strategy cannot contain more than one capacity provider with a base value greater than zero.")
	}
	if err := checkStrategyKinds(strategy); err != nil {
		return err
	}
	c.CapacityProviders = slices.Clone(providers)
	c.Strategy = strategy
	return nil
}

// counts are a cluster's figures, derived from what runs in it.
type counts struct {
	instances, running, pending, services int
	// runningFargate and pendingFargate are the tasks without a container
	// instance.
	runningFargate, pendingFargate int
	// services counts the services by status and launch type.
	servicesBy map[string]int
}

func clusterCounts(tx store.Tx, sc scope, name string) (counts, error) {
	var c counts
	prefix := sc.Key(name + "/")
	err := store.ScanJSON(tx, instancesTable, store.ScanOptions{Prefix: prefix}, func(_ string, ci containerInstance, _ int64) error {
		if ci.Status == statusActive || ci.Status == statusDraining {
			c.instances++
		}
		return nil
	})
	if err != nil {
		return c, err
	}
	err = store.ScanJSON(tx, tasksTable, store.ScanOptions{Prefix: prefix}, func(_ string, t taskStatus, _ int64) error {
		switch t.LastStatus {
		case "RUNNING":
			c.running++
			if t.ContainerInstance == "" {
				c.runningFargate++
			}
		case "PROVISIONING", "PENDING", "ACTIVATING":
			c.pending++
			if t.ContainerInstance == "" {
				c.pendingFargate++
			}
		}
		return nil
	})
	if err != nil {
		return c, err
	}
	c.servicesBy = map[string]int{}
	err = store.ScanJSON(tx, servicesTable, store.ScanOptions{Prefix: prefix}, func(_ string, sv serviceStatus, _ int64) error {
		if sv.Status == statusActive {
			c.services++
		}
		launch := "EC2"
		if sv.LaunchType == "FARGATE" {
			launch = "Fargate"
		}
		c.servicesBy[strings.ToLower(sv.Status)+launch]++
		return nil
	})
	return c, err
}

// activeTasks counts the tasks of a cluster that have not stopped.
func activeTasks(tx store.Tx, sc scope, name string) (int, error) {
	n := 0
	err := store.ScanJSON(tx, tasksTable, store.ScanOptions{Prefix: sc.Key(name + "/")}, func(_ string, t taskStatus, _ int64) error {
		if t.LastStatus != "STOPPED" {
			n++
		}
		return nil
	})
	return n, err
}

var allClusterFields = []string{"ATTACHMENTS", "CONFIGURATIONS", "SETTINGS", "STATISTICS", "TAGS"}

// view is the cluster as the API shows it, with the optional fields
// include asks for.
func (c cluster) view(n counts, include []string) *api.Cluster {
	out := &api.Cluster{
		ClusterArn: new(c.ARN), ClusterName: new(c.Name), Status: new(c.Status),
		RegisteredContainerInstancesCount: new(int32(n.instances)),
		RunningTasksCount:                 new(int32(n.running)),
		PendingTasksCount:                 new(int32(n.pending)),
		ActiveServicesCount:               new(int32(n.services)),
		CapacityProviders:                 append(api.StringList{}, c.CapacityProviders...),
		DefaultCapacityProviderStrategy:   append(api.CapacityProviderStrategy{}, c.Strategy...),
		ServiceConnectDefaults:            c.ServiceConnectDefaults,
	}
	if slices.Contains(include, "SETTINGS") {
		out.Settings = c.Settings
	}
	if slices.Contains(include, "CONFIGURATIONS") {
		out.Configuration = c.Configuration
	}
	if slices.Contains(include, "TAGS") {
		out.Tags = toTags(c.Tags)
	}
	if slices.Contains(include, "ATTACHMENTS") {
		out.Attachments = api.Attachments{}
	}
	if slices.Contains(include, "STATISTICS") {
		stat := func(name string, v int) api.KeyValuePair {
			return api.KeyValuePair{Name: new(name), Value: new(itoa(v))}
		}
		out.Statistics = api.Statistics{
			stat("runningEC2TasksCount", n.running-n.runningFargate),
			stat("runningFargateTasksCount", n.runningFargate),
			stat("pendingEC2TasksCount", n.pending-n.pendingFargate),
			stat("pendingFargateTasksCount", n.pendingFargate),
		}
		for _, status := range []string{"active", "draining"} {
			for _, launch := range []string{"EC2", "Fargate"} {
				out.Statistics = append(out.Statistics, stat(status+launch+"ServiceCount", n.servicesBy[status+launch]))
			}
		}
	}
	return out
}

func (s *Service) DescribeClusters(ctx context.Context, in *api.DescribeClustersRequest) (*api.DescribeClustersResponse, error) {
	sc := overcast.ScopeOf(ctx)
	refs := in.Clusters
	if len(refs) == 0 {
		refs = []string{defaultCluster}
	}
	if len(refs) > 100 {
		return nil, invalidParameter("Clusters cannot have more than 100 elements")
	}
	out := &api.DescribeClustersResponse{Clusters: api.Clusters{}, Failures: api.Failures{}}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		for _, ref := range refs {
			name := clusterName(&ref)
			c, _, err := s.readCluster(tx, sc, name)
			if isNotFound(err) {
				out.Failures = append(out.Failures, missing(clusterARN(sc, name)))
				continue
			}
			if err != nil {
				return err
			}
			cnt, err := clusterCounts(tx, sc, name)
			if err != nil {
				return err
			}
			out.Clusters = append(out.Clusters, *c.view(cnt, in.Include))
		}
		return nil
	})
	return out, err
}

func (s *Service) ListClusters(ctx context.Context, in *api.ListClustersRequest) (*api.ListClustersResponse, error) {
	sc := overcast.ScopeOf(ctx)
	out := &api.ListClustersResponse{}
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		out.ClusterArns, out.NextToken, err = listARNs(tx, clustersTable, sc.Prefix(), in.NextToken, in.MaxResults, false,
			func(c cluster) bool { return c.Status == statusActive }, func(c cluster) string { return c.ARN })
		return err
	})
	return out, err
}

// changeCluster applies fn to an ACTIVE cluster and returns it as the API
// shows it.
func (s *Service) changeCluster(ctx context.Context, ref *string, fn func(c *cluster) error) (*api.Cluster, error) {
	sc := overcast.ScopeOf(ctx)
	var out *api.Cluster
	err := s.update(ctx, func(tx store.Tx) error {
		c, v, err := s.activeCluster(tx, sc, ref)
		if err != nil {
			return err
		}
		if err := fn(&c); err != nil {
			return err
		}
		if _, err := store.PutJSON(tx, clustersTable, sc.Key(c.Name), c, v); err != nil {
			return err
		}
		cnt, err := clusterCounts(tx, sc, c.Name)
		out = c.view(cnt, allClusterFields)
		return err
	})
	return out, err
}

func (s *Service) UpdateCluster(ctx context.Context, in *api.UpdateClusterRequest) (*api.UpdateClusterResponse, error) {
	c, err := s.changeCluster(ctx, in.Cluster, func(c *cluster) error {
		if in.Configuration != nil {
			c.Configuration = in.Configuration
		}
		if d := in.ServiceConnectDefaults; d != nil {
			c.ServiceConnectDefaults = &api.ClusterServiceConnectDefaults{Namespace: d.Namespace}
		}
		return applySettings(c, in.Settings)
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateClusterResponse{Cluster: c}, nil
}

func (s *Service) UpdateClusterSettings(ctx context.Context, in *api.UpdateClusterSettingsRequest) (*api.UpdateClusterSettingsResponse, error) {
	c, err := s.changeCluster(ctx, in.Cluster, func(c *cluster) error { return applySettings(c, in.Settings) })
	if err != nil {
		return nil, err
	}
	return &api.UpdateClusterSettingsResponse{Cluster: c}, nil
}

func (s *Service) PutClusterCapacityProviders(ctx context.Context, in *api.PutClusterCapacityProvidersRequest) (*api.PutClusterCapacityProvidersResponse, error) {
	known, err := s.providerIndex(ctx, overcast.ScopeOf(ctx))
	if err != nil {
		return nil, err
	}
	c, err := s.changeCluster(ctx, in.Cluster, func(c *cluster) error {
		return setCapacityProviders(c, in.CapacityProviders, in.DefaultCapacityProviderStrategy, known)
	})
	if err != nil {
		return nil, err
	}
	return &api.PutClusterCapacityProvidersResponse{Cluster: c}, nil
}

func (s *Service) DeleteCluster(ctx context.Context, in *api.DeleteClusterRequest) (*api.DeleteClusterResponse, error) {
	sc := overcast.ScopeOf(ctx)
	var out *api.Cluster
	err := s.update(ctx, func(tx store.Tx) error {
		c, v, err := s.activeCluster(tx, sc, in.Cluster)
		if err != nil {
			return err
		}
		cnt, err := clusterCounts(tx, sc, c.Name)
		if err != nil {
			return err
		}
		tasks, err := activeTasks(tx, sc, c.Name)
		if err != nil {
			return err
		}
		switch {
		case cnt.instances > 0:
			return api.NewClusterContainsContainerInstancesException("The Cluster cannot be deleted while Container Instances are active or draining.")
		case cnt.services > 0:
			return api.NewClusterContainsServicesException("The Cluster cannot be deleted while Services are active.")
		case tasks > 0:
			return api.NewClusterContainsTasksException("The Cluster cannot be deleted while Tasks are active.")
		}
		now := s.Now().UTC()
		c.Status, c.Deleted = statusInactive, &now
		if _, err := store.PutJSON(tx, clustersTable, sc.Key(c.Name), c, v); err != nil {
			return err
		}
		out = c.view(cnt, allClusterFields)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteClusterResponse{Cluster: out}, nil
}

// pageSize is a list request's page size: ECS's default is 100.
func pageSize(max *int32) int {
	if max == nil || *max <= 0 || *max > 100 {
		return 100
	}
	return int(*max)
}
