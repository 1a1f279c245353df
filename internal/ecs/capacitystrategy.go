package ecs

import (
	"context"
	"errors"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/ecs"
	"overcast/internal/ecs/placement"
	"overcast/internal/store"
)

// capacityPlan is how a capacity provider strategy places a launch's
// tasks.
type capacityPlan struct {
	strategy api.CapacityProviderStrategy
	// members are, per Auto Scaling group provider, the EC2 IDs of its
	// group's instances: its tasks go on their container instances only.
	members map[string]map[string]bool
	// managed are the providers with managed scaling: a task that does not
	// fit their instances waits for more instead of failing.
	managed map[string]bool
}

// resolveStrategy is the launch type and strategy RunTask or CreateService
// places by: the launch type given, the strategy given, or, with neither,
// the cluster's default strategy (no strategy: EC2). The strategy's
// providers must be associated with the cluster, except Fargate's own,
// which overcast lets any cluster use.
func (s *Service) resolveStrategy(ctx context.Context, clusterRef *string, launchType string, given api.CapacityProviderStrategy) (string, api.CapacityProviderStrategy, error) {
	if len(given) > 0 && launchType != "" {
		return "", nil, invalidParameter("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	}
	if launchType != "" {
		return launchType, nil, nil
	}
	sc := overcast.ScopeOf(ctx)
	var c cluster
	found := false
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		c, _, err = s.activeCluster(tx, sc, clusterRef)
		var missing *api.ClusterNotFoundException
		if errors.As(err, &missing) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return "", nil, err
	}
	strategy := providerNames(given)
	if len(strategy) == 0 && found {
		strategy = c.Strategy
	}
	if len(strategy) == 0 {
		return launchEC2, nil, nil
	}
	launchType, err = strategyLaunchType(c, strategy)
	return launchType, strategy, err
}

// strategyLaunchType checks a strategy against its cluster and says where
// it places: Fargate or EC2.
func strategyLaunchType(c cluster, strategy api.CapacityProviderStrategy) (string, error) {
	for _, item := range strategy {
		name := deref(item.CapacityProvider)
		if !slices.Contains(builtinCapacityProviders, name) && !slices.Contains(c.CapacityProviders, name) {
			return "", invalidParameter("The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.")
		}
	}
	if err := checkStrategyKinds(strategy); err != nil {
		return "", err
	}
	if isFargateStrategy(strategy) {
		return launchFargate, nil
	}
	return launchEC2, nil
}

// updateServiceStrategy gives a service another capacity provider strategy
// (an empty one: the cluster's default), of the kind its tasks already
// run on: Fargate's providers, or Auto Scaling groups'.
func (s *Service) updateServiceStrategy(tx store.Tx, sc scope, sv *serviceRecord, given api.CapacityProviderStrategy) error {
	c, _, err := s.activeCluster(tx, sc, &sv.Cluster)
	if err != nil {
		return err
	}
	strategy := providerNames(given)
	if len(strategy) == 0 {
		strategy = c.Strategy
	}
	launchType, err := strategyLaunchType(c, strategy)
	if err != nil {
		return err
	}
	if len(strategy) > 0 && launchType != sv.LaunchType {
		return invalidParameter("The specified capacity provider strategy places tasks on %s, but the service's tasks run on %s: create a new service instead.", launchType, sv.LaunchType)
	}
	sv.View.CapacityProviderStrategy = strategy
	if len(strategy) > 0 {
		sv.View.LaunchType = nil
	}
	return nil
}

// planCapacity reads, before the launch's transaction, what its Auto
// Scaling group providers hold: their groups' instances and whether they
// scale.
func (s *Service) planCapacity(ctx context.Context, sc scope, l *launch) error {
	if l.capacity == nil || l.launchType != launchEC2 {
		return nil
	}
	idx, err := s.providerIndex(ctx, sc)
	if err != nil {
		return err
	}
	l.capacity.members, l.capacity.managed = map[string]map[string]bool{}, map[string]bool{}
	for _, item := range l.capacity.strategy {
		name := deref(item.CapacityProvider)
		members := map[string]bool{}
		l.capacity.members[name] = members
		p, ok := idx.active[name]
		if !ok || s.groups == nil {
			continue
		}
		l.capacity.managed[name] = p.managed()
		g, err := s.groups.Group(ctx, sc.Account, sc.Region, p.GroupARN)
		if errors.Is(err, ErrGroupNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		for _, id := range g.Instances {
			members[id] = true
		}
	}
	return nil
}

// placeTasks places a launch's tasks: by its capacity provider strategy
// when it has one, else by placement over the cluster's instances.
func (s *Service) placeTasks(tx store.Tx, sc scope, cluster string, t *task, l launch) ([]host, api.Failures, error) {
	hosts, failures, err := s.placeOnCapacity(tx, sc, cluster, t, l)
	if err == nil && l.launchType == launchFargate {
		err = s.spreadFargate(tx, sc, cluster, hosts)
	}
	return hosts, failures, err
}

// placeOnCapacity is placeTasks before Fargate tasks get their engines.
func (s *Service) placeOnCapacity(tx store.Tx, sc scope, cluster string, t *task, l launch) ([]host, api.Failures, error) {
	if l.capacity == nil {
		return s.hosts(tx, sc, cluster, t, l)
	}
	have := map[string]int{}
	if strings.HasPrefix(t.Group, "service:") {
		// A service keeps its base and weights over all its tasks.
		err := store.ScanJSON(tx, tasksTable, store.ScanOptions{Prefix: sc.Key(cluster + "/")}, func(_ string, o task, _ int64) error {
			if o.Group == t.Group && o.DesiredStatus != taskStopped && o.CapacityProvider != "" {
				have[o.CapacityProvider]++
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	order := assignProviders(l.capacity.strategy, have, l.count)
	if l.launchType == launchFargate {
		hosts := make([]host, 0, len(order))
		for _, p := range order {
			hosts = append(hosts, host{provider: p})
		}
		return hosts, api.Failures{}, nil
	}
	var hosts []host
	failures := api.Failures{}
	for _, item := range l.capacity.strategy {
		name := deref(item.CapacityProvider)
		k := 0
		for _, p := range order {
			if p == name {
				k++
			}
		}
		if k == 0 {
			continue
		}
		pl := l
		pl.capacity, pl.count, pl.within = nil, k, l.capacity.members[name]
		placed, refused, err := s.hosts(tx, sc, cluster, t, pl)
		if l.capacity.managed[name] && noInstances(err) {
			// The group has none yet: managed scaling launches them.
			placed, refused, err = nil, nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
		for _, h := range placed {
			h.provider = name
			hosts = append(hosts, h)
		}
		if !l.capacity.managed[name] {
			failures = append(failures, refused...)
			continue
		}
		// Managed scaling brings the capacity: the rest wait for it.
		for range k - len(placed) {
			hosts = append(hosts, host{provider: name})
		}
	}
	return hosts, failures, nil
}

// noInstances reports whether placement found no container instance at
// all to choose from.
func noInstances(err error) bool {
	var bad *api.InvalidParameterException
	return errors.As(err, &bad) && deref(bad.Message) == placement.ErrNoContainerInstances.Message
}

// assignProviders gives each of count new tasks its provider by ECS's
// rules: the provider with a base gets tasks until it has base of them,
// then the providers share the rest in proportion to their weights (a
// strategy of one provider weighs it 1 whatever its weight); have counts
// the tasks each already has.
func assignProviders(strategy api.CapacityProviderStrategy, have map[string]int, count int) []string {
	n := map[string]int{}
	for k, v := range have {
		n[k] = v
	}
	weight := func(item api.CapacityProviderStrategyItem) int {
		if len(strategy) == 1 {
			return max(1, int(deref(item.Weight)))
		}
		return int(deref(item.Weight))
	}
	// beyond is how many tasks a provider would have beyond its base with
	// one more.
	beyond := func(item api.CapacityProviderStrategyItem) int {
		return max(0, n[deref(item.CapacityProvider)]-int(deref(item.Base))) + 1
	}
	out := make([]string, 0, count)
	for range count {
		best := slices.IndexFunc(strategy, func(item api.CapacityProviderStrategyItem) bool {
			return n[deref(item.CapacityProvider)] < int(deref(item.Base))
		})
		if best < 0 {
			for i, item := range strategy {
				w := weight(item)
				if w == 0 {
					continue
				}
				// The least share beyond base after one more: a/wa < b/wb.
				if best < 0 || beyond(item)*weight(strategy[best]) < beyond(strategy[best])*w {
					best = i
				}
			}
		}
		if best < 0 {
			break
		}
		name := deref(strategy[best].CapacityProvider)
		n[name]++
		out = append(out, name)
	}
	return out
}

// assign puts a task on its host: a container instance, Fargate, or, for
// a provider's task without one, nowhere yet: it waits in PROVISIONING.
func (h host) assign(t *task) {
	t.ContainerInstance, t.ContainerInstanceARN, t.EC2InstanceID, t.Engine = h.key, h.arn, h.ec2, h.engine
	if h.provider != "" {
		t.CapacityProvider = h.provider
	}
	if t.LaunchType == launchEC2 && h.key == "" && h.provider != "" {
		t.LastStatus = taskProvisioning
	}
}

// providerOfInstance is the capacity provider of cluster whose Auto
// Scaling group holds an EC2 instance, "" for none: the container
// instance's capacityProviderName. The group is the one the instance's
// tag names (group, which an instance has from its launch on), or the
// one that lists it.
func (s *Service) providerOfInstance(ctx context.Context, sc scope, cluster, ec2ID, group string) string {
	if s.groups == nil || ec2ID == "" {
		return ""
	}
	var providers []capacityProvider
	err := s.Store.View(ctx, func(tx store.Tx) error {
		clusterOf, err := providerClusters(tx, sc)
		if err != nil {
			return err
		}
		return store.ScanJSON(tx, capacityProvidersTable, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, p capacityProvider, _ int64) error {
			if p.Deleted == nil && clusterOf[p.Name] == cluster {
				providers = append(providers, p)
			}
			return nil
		})
	})
	if err != nil {
		return ""
	}
	for _, p := range providers {
		if group != "" && p.GroupName == group {
			return p.Name
		}
	}
	for _, p := range providers {
		if g, err := s.groups.Group(ctx, sc.Account, sc.Region, p.GroupARN); err == nil && slices.Contains(g.Instances, ec2ID) {
			return p.Name
		}
	}
	return ""
}
