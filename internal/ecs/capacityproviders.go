package ecs

import (
	"context"
	"errors"
	"maps"
	"regexp"
	"slices"
	"time"

	"overcast"
	api "overcast/internal/api/ecs"
	"overcast/internal/service"
	"overcast/internal/store"
)

// AutoScalingGroups is what Auto Scaling group capacity providers need of
// EC2 Auto Scaling; the app adapts internal/autoscaling to it.
type AutoScalingGroups interface {
	// Group finds a group by name or ARN: an error wrapping
	// ErrGroupNotFound when there is none.
	Group(ctx context.Context, account, region, nameOrARN string) (AutoScalingGroup, error)
	// SetDesiredCapacity changes the number of instances a group keeps;
	// the group's controller launches them.
	SetDesiredCapacity(ctx context.Context, account, region, group string, desired int) error
	// TerminateInstance takes one instance out of its group, lowering the
	// group's desired capacity with it.
	TerminateInstance(ctx context.Context, account, region, id string) error
}

// ErrGroupNotFound is what AutoScalingGroups returns for a group that does
// not exist.
var ErrGroupNotFound = errors.New("ecs: no such Auto Scaling group")

// AutoScalingGroup is a group as a capacity provider sees it.
type AutoScalingGroup struct {
	Name, ARN         string
	Min, Max, Desired int
	// Instances are the EC2 IDs of the group's instances that are not
	// leaving it.
	Instances []string
}

// capacityProvider is the record of an Auto Scaling group capacity
// provider, keyed by scope and name in capacityProvidersTable.
type capacityProvider struct {
	Name                  string             `json:"name"`
	ARN                   string             `json:"arn"`
	GroupARN              string             `json:"groupArn"`
	GroupName             string             `json:"groupName"`
	Scaling               api.ManagedScaling `json:"scaling"`
	TerminationProtection string             `json:"terminationProtection"`
	Draining              string             `json:"draining"`
	Tags                  map[string]string  `json:"tags,omitempty"`
	UpdateStatus          string             `json:"updateStatus,omitempty"`
	Created               time.Time          `json:"created"`
	// Deleted is when DeleteCapacityProvider ran: the provider shows
	// INACTIVE until inactiveFor has passed, then it is gone.
	Deleted *time.Time `json:"deleted,omitempty"`
}

// capacityProvidersTable holds the Auto Scaling group capacity providers;
// Fargate's two are built in.
const capacityProvidersTable = "ecs.capacityproviders"

const (
	enabled  = "ENABLED"
	disabled = "DISABLED"
	// Managed scaling's defaults, as ECS documents them.
	defaultTargetCapacity = 100
	defaultMaxStep        = 10000
	defaultWarmup         = 300
	// describeProvidersPage is DescribeCapacityProviders' page size when
	// the request gives none.
	describeProvidersPage = 10
)

var providerNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

func (p *capacityProvider) managed() bool { return deref(p.Scaling.Status) == enabled }

// visible reports whether a provider still shows: ACTIVE, or INACTIVE for
// an hour after its deletion.
func (p *capacityProvider) visible(now time.Time) bool {
	return p.Deleted == nil || now.Sub(*p.Deleted) < inactiveFor
}

func (p *capacityProvider) view(tags bool) api.CapacityProvider {
	scaling := p.Scaling
	v := api.CapacityProvider{CapacityProviderArn: new(p.ARN), Name: new(p.Name), Status: new(statusActive),
		Type: new(api.CapacityProviderTypeEC2AUTOSCALING),
		AutoScalingGroupProvider: &api.AutoScalingGroupProvider{AutoScalingGroupArn: new(p.GroupARN), ManagedScaling: &scaling,
			ManagedTerminationProtection: new(p.TerminationProtection), ManagedDraining: new(p.Draining)}}
	if p.UpdateStatus != "" {
		v.UpdateStatus = new(p.UpdateStatus)
	}
	if p.Deleted != nil {
		v.Status, v.UpdateStatus = new(statusInactive), new("DELETE_COMPLETE")
	}
	if tags {
		v.Tags = toTags(p.Tags)
	}
	return v
}

// builtinProviderView is FARGATE's or FARGATE_SPOT's description.
func builtinProviderView(sc scope, name string) api.CapacityProvider {
	return api.CapacityProvider{CapacityProviderArn: new(providerARN(sc, name)), Name: new(name), Status: new(statusActive),
		Tags: api.Tags{}, Type: new(name)}
}

func providerARN(sc scope, name string) string { return sc.ARN("ecs", "capacity-provider/"+name) }

func errProviderNotFound() error {
	return clientError("The specified capacity provider does not exist. Specify a valid name or ARN and try again.")
}

// managedScaling is the request's managed scaling over what it replaces,
// ECS's defaults filling what neither gives.
func managedScaling(old api.ManagedScaling, in *api.ManagedScaling) (api.ManagedScaling, error) {
	out := old
	if in != nil {
		out.Status = cmpPtr(in.Status, out.Status)
		out.TargetCapacity = cmpPtr(in.TargetCapacity, out.TargetCapacity)
		out.MinimumScalingStepSize = cmpPtr(in.MinimumScalingStepSize, out.MinimumScalingStepSize)
		out.MaximumScalingStepSize = cmpPtr(in.MaximumScalingStepSize, out.MaximumScalingStepSize)
		out.InstanceWarmupPeriod = cmpPtr(in.InstanceWarmupPeriod, out.InstanceWarmupPeriod)
	}
	out.Status = cmpPtr(out.Status, new(disabled))
	out.TargetCapacity = cmpPtr(out.TargetCapacity, new(int32(defaultTargetCapacity)))
	out.MinimumScalingStepSize = cmpPtr(out.MinimumScalingStepSize, new(int32(1)))
	out.MaximumScalingStepSize = cmpPtr(out.MaximumScalingStepSize, new(int32(defaultMaxStep)))
	out.InstanceWarmupPeriod = cmpPtr(out.InstanceWarmupPeriod, new(int32(defaultWarmup)))
	if *out.MinimumScalingStepSize > *out.MaximumScalingStepSize {
		return out, invalidParameter("The managed scaling minimumScalingStepSize cannot be greater than the maximumScalingStepSize.")
	}
	return out, nil
}

func cmpPtr[T any](p, def *T) *T {
	if p == nil {
		return def
	}
	return p
}

// applyGroupSettings applies managed scaling, termination protection and
// draining, which CreateCapacityProvider and UpdateCapacityProvider share.
func (p *capacityProvider) applyGroupSettings(scaling *api.ManagedScaling, protection, draining *string) error {
	var err error
	if p.Scaling, err = managedScaling(p.Scaling, scaling); err != nil {
		return err
	}
	p.TerminationProtection = deref(cmpPtr(protection, cmpPtr(service.OmitZero(p.TerminationProtection), new(disabled))))
	p.Draining = deref(cmpPtr(draining, cmpPtr(service.OmitZero(p.Draining), new(enabled))))
	if p.TerminationProtection == enabled && !p.managed() {
		return clientError("The managed termination protection setting for the capacity provider is invalid. To enable managed termination protection for a capacity provider, managed scaling must be enabled.")
	}
	return nil
}

// CreateCapacityProvider records an Auto Scaling group capacity provider.
func (s *Service) CreateCapacityProvider(ctx context.Context, in *api.CreateCapacityProviderRequest) (*api.CreateCapacityProviderResponse, error) {
	sc := overcast.ScopeOf(ctx)
	name := deref(in.Name)
	if !providerNamePattern.MatchString(name) || hasPrefixFold(name, "aws") || hasPrefixFold(name, "ecs") || hasPrefixFold(name, "fargate") {
		return nil, clientError(`The specified capacity provider name is invalid. Up to 255 characters are allowed, including letters (upper and lowercase), numbers, underscores, and hyphens. The name cannot be prefixed with "aws", "ecs", or "fargate". Specify a valid name and try again.`)
	}
	asg := in.AutoScalingGroupProvider
	if asg == nil {
		return nil, invalidParameter("overcast supports Auto Scaling group capacity providers only: autoScalingGroupProvider is required.")
	}
	if err := checkTags(nil, in.Tags); err != nil {
		return nil, err
	}
	p := capacityProvider{Name: name, ARN: providerARN(sc, name), Tags: fromTags(in.Tags), Created: s.Now().UTC()}
	if err := p.applyGroupSettings(asg.ManagedScaling, asg.ManagedTerminationProtection, asg.ManagedDraining); err != nil {
		return nil, err
	}
	if s.groups == nil {
		return nil, clientError("The specified Auto Scaling group ARN is not valid: overcast runs without EC2 Auto Scaling.")
	}
	g, err := s.groups.Group(ctx, sc.Account, sc.Region, deref(asg.AutoScalingGroupArn))
	if errors.Is(err, ErrGroupNotFound) {
		return nil, clientError("The specified Auto Scaling group ARN is not valid. Specify a valid Auto Scaling group ARN and try again.")
	}
	if err != nil {
		return nil, err
	}
	p.GroupARN, p.GroupName = g.ARN, g.Name
	err = s.update(ctx, func(tx store.Tx) error {
		var old capacityProvider
		_, err := store.GetJSON(tx, capacityProvidersTable, sc.Key(name), &old)
		if err == nil && old.visible(s.Now()) {
			return clientError("The specified capacity provider already exists. To change the configuration of an existing capacity provider, update the capacity provider.")
		}
		if err != nil && !isNotFound(err) {
			return err
		}
		taken := false
		err = store.ScanJSON(tx, capacityProvidersTable, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, o capacityProvider, _ int64) error {
			taken = taken || (o.Deleted == nil && o.GroupARN == p.GroupARN)
			return nil
		})
		if err != nil {
			return err
		}
		if taken {
			return clientError("The specified Auto Scaling group ARN is already being used by another capacity provider. Specify a unique Auto Scaling group ARN and try again.")
		}
		_, err = store.PutJSON(tx, capacityProvidersTable, sc.Key(name), p, store.AnyVersion)
		return err
	})
	if err != nil {
		return nil, err
	}
	if s.scaling != nil {
		s.scaling.Enqueue(sc.Key(name))
	}
	v := p.view(true)
	return &api.CreateCapacityProviderResponse{CapacityProvider: &v}, nil
}

// changeProvider applies fn to an ACTIVE provider the request names.
func (s *Service) changeProvider(ctx context.Context, ref string, fn func(tx store.Tx, p *capacityProvider) error) (capacityProvider, error) {
	sc := overcast.ScopeOf(ctx)
	name := resourceName(ref, "capacity-provider")
	var p capacityProvider
	err := s.update(ctx, func(tx store.Tx) error {
		v, err := store.GetJSON(tx, capacityProvidersTable, sc.Key(name), &p)
		if isNotFound(err) || (err == nil && p.Deleted != nil) {
			return errProviderNotFound()
		}
		if err != nil {
			return err
		}
		if err := fn(tx, &p); err != nil {
			return err
		}
		_, err = store.PutJSON(tx, capacityProvidersTable, sc.Key(name), p, v)
		return err
	})
	if err == nil && s.scaling != nil {
		s.scaling.Enqueue(sc.Key(name))
	}
	return p, err
}

// UpdateCapacityProvider changes a provider's managed scaling, termination
// protection and draining.
func (s *Service) UpdateCapacityProvider(ctx context.Context, in *api.UpdateCapacityProviderRequest) (*api.UpdateCapacityProviderResponse, error) {
	if slices.Contains(builtinCapacityProviders, deref(in.Name)) {
		return nil, invalidParameter("The specified capacity provider '%s' cannot be updated: Fargate's capacity providers are reserved.", deref(in.Name))
	}
	if in.AutoScalingGroupProvider == nil {
		return nil, invalidParameter("overcast supports Auto Scaling group capacity providers only: autoScalingGroupProvider is required.")
	}
	u := in.AutoScalingGroupProvider
	p, err := s.changeProvider(ctx, deref(in.Name), func(_ store.Tx, p *capacityProvider) error {
		p.UpdateStatus = "UPDATE_COMPLETE"
		return p.applyGroupSettings(u.ManagedScaling, u.ManagedTerminationProtection, u.ManagedDraining)
	})
	if err != nil {
		return nil, err
	}
	v := p.view(false)
	return &api.UpdateCapacityProviderResponse{CapacityProvider: &v}, nil
}

// DeleteCapacityProvider deletes a provider no cluster uses: it shows
// INACTIVE (DELETE_COMPLETE) for an hour, as ECS's do.
func (s *Service) DeleteCapacityProvider(ctx context.Context, in *api.DeleteCapacityProviderRequest) (*api.DeleteCapacityProviderResponse, error) {
	sc := overcast.ScopeOf(ctx)
	ref := deref(in.CapacityProvider)
	if slices.Contains(builtinCapacityProviders, ref) {
		return nil, invalidParameter("The specified capacity provider '%s' cannot be deleted: Fargate's capacity providers are reserved.", ref)
	}
	p, err := s.changeProvider(ctx, ref, func(tx store.Tx, p *capacityProvider) error {
		clusterOf, err := providerClusters(tx, sc)
		if err != nil {
			return err
		}
		if clusterOf[p.Name] != "" {
			return api.NewResourceInUseException("The specified capacity provider is in use and cannot be removed.")
		}
		now := s.Now().UTC()
		p.Deleted = &now
		return nil
	})
	if err != nil {
		return nil, err
	}
	v := p.view(false)
	// The response shows the deletion under way; descriptions show it done.
	v.Status, v.UpdateStatus = new(statusActive), new("DELETE_IN_PROGRESS")
	return &api.DeleteCapacityProviderResponse{CapacityProvider: &v}, nil
}

// DescribeCapacityProviders shows Fargate's capacity providers, which every
// account has, and the account's Auto Scaling group providers.
func (s *Service) DescribeCapacityProviders(ctx context.Context, in *api.DescribeCapacityProvidersRequest) (*api.DescribeCapacityProvidersResponse, error) {
	sc := overcast.ScopeOf(ctx)
	tags := slices.Contains(in.Include, "TAGS")
	out := &api.DescribeCapacityProvidersResponse{CapacityProviders: api.CapacityProviders{}, Failures: api.Failures{}}
	all := map[string]capacityProvider{}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, capacityProvidersTable, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, p capacityProvider, _ int64) error {
			if p.visible(s.Now()) {
				all[p.Name] = p
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	viewOf := func(name string) (api.CapacityProvider, bool) {
		if slices.Contains(builtinCapacityProviders, name) {
			return builtinProviderView(sc, name), true
		}
		p, ok := all[name]
		return p.view(tags), ok
	}
	if len(in.CapacityProviders) > 0 {
		for _, ref := range in.CapacityProviders {
			name := resourceName(ref, "capacity-provider")
			if v, ok := viewOf(name); ok {
				out.CapacityProviders = append(out.CapacityProviders, v)
			} else {
				out.Failures = append(out.Failures, api.Failure{Arn: new(providerARN(sc, name)), Reason: new("MISSING")})
			}
		}
		return out, nil
	}
	names := append(slices.Clone(builtinCapacityProviders), slices.Sorted(maps.Keys(all))...)
	max := in.MaxResults
	if max == nil {
		max = new(int32(describeProvidersPage))
	}
	page, next, err := pageOf(names, in.NextToken, max)
	if err != nil {
		return nil, err
	}
	for _, name := range page {
		v, _ := viewOf(name)
		out.CapacityProviders = append(out.CapacityProviders, v)
	}
	out.NextToken = next
	return out, nil
}

// tagProvider is withTags' case for capacity-provider ARNs.
func (s *Service) tagProvider(tx store.Tx, sc scope, name string, write bool, fn func(map[string]string) (map[string]string, error)) error {
	var p capacityProvider
	v, err := store.GetJSON(tx, capacityProvidersTable, sc.Key(name), &p)
	if isNotFound(err) || (err == nil && p.Deleted != nil) {
		return api.NewResourceNotFoundException("The specified resource could not be found.")
	}
	if err != nil {
		return err
	}
	if p.Tags, err = fn(p.Tags); err != nil || !write {
		return err
	}
	_, err = store.PutJSON(tx, capacityProvidersTable, sc.Key(name), p, v)
	return err
}

// providerIndex is what checking a cluster's capacity providers needs:
// the Auto Scaling group providers that are ACTIVE, the cluster each is
// associated with, and the providers each cluster's tasks and services use.
type providerIndex struct {
	active    map[string]capacityProvider
	clusterOf map[string]string
	// inUse is keyed by "cluster/provider".
	inUse map[string]bool
}

func (s *Service) providerIndex(ctx context.Context, sc scope) (providerIndex, error) {
	var idx providerIndex
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		idx, err = readProviderIndex(tx, sc)
		return err
	})
	return idx, err
}

func readProviderIndex(tx store.Tx, sc scope) (providerIndex, error) {
	idx := providerIndex{active: map[string]capacityProvider{}, inUse: map[string]bool{}}
	err := store.ScanJSON(tx, capacityProvidersTable, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, p capacityProvider, _ int64) error {
		if p.Deleted == nil {
			idx.active[p.Name] = p
		}
		return nil
	})
	if err != nil {
		return idx, err
	}
	if idx.clusterOf, err = providerClusters(tx, sc); err != nil {
		return idx, err
	}
	err = store.ScanJSON(tx, tasksTable, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, t task, _ int64) error {
		if t.CapacityProvider != "" && t.LastStatus != taskStopped {
			idx.inUse[t.Cluster+"/"+t.CapacityProvider] = true
		}
		return nil
	})
	if err != nil {
		return idx, err
	}
	err = store.ScanJSON(tx, servicesTable, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, sv serviceRecord, _ int64) error {
		if sv.Status == statusActive {
			for _, item := range sv.View.CapacityProviderStrategy {
				idx.inUse[sv.Cluster+"/"+deref(item.CapacityProvider)] = true
			}
		}
		return nil
	})
	return idx, err
}

// providerClusters maps each capacity provider associated with an ACTIVE
// cluster to that cluster's name.
func providerClusters(tx store.Tx, sc scope) (map[string]string, error) {
	clusterOf := map[string]string{}
	err := store.ScanJSON(tx, clustersTable, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, c cluster, _ int64) error {
		if c.Status == statusActive {
			for _, p := range c.CapacityProviders {
				clusterOf[p] = c.Name
			}
		}
		return nil
	})
	return clusterOf, err
}

// check holds a cluster's new capacity providers to ECS's rules: each
// exists and is ACTIVE, an Auto Scaling group provider belongs to one
// cluster only, and none that tasks or services use is removed.
func (idx providerIndex) check(cluster string, old, providers []string) error {
	for _, p := range providers {
		if slices.Contains(builtinCapacityProviders, p) {
			continue
		}
		if _, ok := idx.active[p]; !ok {
			return invalidParameter("The specified capacity provider '%s' is not in an ACTIVE state. Specify a valid capacity provider and try again.", p)
		}
		if other := idx.clusterOf[p]; other != "" && other != cluster {
			return invalidParameter("The specified capacity provider '%s' is already associated with another cluster. An Auto Scaling group capacity provider can be associated with one cluster only.", p)
		}
	}
	for _, p := range old {
		if !slices.Contains(providers, p) && idx.inUse[cluster+"/"+p] {
			return api.NewResourceInUseException("The specified capacity provider is in use and cannot be removed.")
		}
	}
	return nil
}

// checkStrategyKinds refuses a strategy mixing Fargate's providers with
// Auto Scaling group ones, and one whose several providers all weigh 0.
func checkStrategyKinds(strategy api.CapacityProviderStrategy) error {
	fargate, weighted := 0, 0
	for _, item := range strategy {
		if slices.Contains(builtinCapacityProviders, deref(item.CapacityProvider)) {
			fargate++
		}
		if deref(item.Weight) > 0 {
			weighted++
		}
	}
	if fargate > 0 && fargate < len(strategy) {
		return invalidParameter("A capacity provider strategy cannot contain a mix of capacity providers using Auto Scaling groups and Fargate providers. Specify one or the other and try again.")
	}
	if len(strategy) > 1 && weighted == 0 {
		return invalidParameter("The specified capacity provider strategy must contain at least one capacity provider with a weight greater than zero.")
	}
	return nil
}

// isFargateStrategy reports whether a strategy (checked not to mix kinds)
// places on Fargate.
func isFargateStrategy(strategy api.CapacityProviderStrategy) bool {
	return len(strategy) > 0 && slices.Contains(builtinCapacityProviders, deref(strategy[0].CapacityProvider))
}

// providerNames are the names a strategy's items give, ARNs resolved.
func providerNames(strategy api.CapacityProviderStrategy) api.CapacityProviderStrategy {
	out := make(api.CapacityProviderStrategy, 0, len(strategy))
	for _, item := range strategy {
		item.CapacityProvider = new(resourceName(deref(item.CapacityProvider), "capacity-provider"))
		out = append(out, item)
	}
	return out
}
