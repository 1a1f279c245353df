package autoscaling

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/autoscaling"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Lifecycle and health states, in AWS's words.
const (
	statePending     = "Pending"
	stateInService   = "InService"
	stateTerminating = "Terminating"
	healthy          = "Healthy"
	unhealthy        = "Unhealthy"
)

type group struct {
	Name, ARN           string
	LaunchConfiguration string
	LaunchTemplate      *templateRef
	Min, Max, Desired   int32
	DefaultCooldown     int32
	// Subnets are the VPCZoneIdentifier's, Zones theirs (in order), or the
	// AvailabilityZones asked for when there are no subnets.
	Subnets             []string
	Zones               []string
	HealthCheckType     string
	HealthCheckGrace    int32
	Tags                []tag
	TerminationPolicies []string
	Created             time.Time
	// Deleting is set by DeleteAutoScalingGroup with ForceDelete: the
	// controller terminates the instances, then forgets the group.
	Deleting  bool
	Instances []member
	// Launches counts launches begun: the next one's client token, so a
	// launch retried after a crash does not make a second instance.
	Launches int
	// Activities counts the group's scaling activities: their order.
	Activities int
}

type tag struct {
	Key, Value        string
	PropagateAtLaunch bool
}

type member struct {
	ID, Zone, SubnetID  string
	LaunchConfiguration string
	LaunchTemplate      *templateRef
	InstanceType        string
	Lifecycle, Health   string
	Launched            time.Time
}

func (g group) instanceCount() int32 { return int32(len(g.Instances)) }

func (g group) view(account string) api.AutoScalingGroup {
	v := api.AutoScalingGroup{AutoScalingGroupName: new(g.Name), AutoScalingGroupARN: new(g.ARN),
		LaunchConfigurationName: service.OmitZero(g.LaunchConfiguration), LaunchTemplate: g.LaunchTemplate.view(), MinSize: new(g.Min), MaxSize: new(g.Max),
		DesiredCapacity: new(g.Desired), DefaultCooldown: new(g.DefaultCooldown),
		AvailabilityZones: append(api.AvailabilityZones{}, service.Distinct(g.Zones)...), LoadBalancerNames: api.LoadBalancerNames{},
		TargetGroupARNs: api.TargetGroupARNs{}, HealthCheckType: new(g.HealthCheckType),
		HealthCheckGracePeriod: new(g.HealthCheckGrace), Instances: api.Instances{}, CreatedTime: new(g.Created),
		SuspendedProcesses: api.SuspendedProcesses{}, VPCZoneIdentifier: new(strings.Join(g.Subnets, ",")),
		EnabledMetrics: api.EnabledMetrics{}, Tags: api.TagDescriptionList{},
		TerminationPolicies:              append(api.TerminationPolicies{}, g.TerminationPolicies...),
		NewInstancesProtectedFromScaleIn: new(false), CapacityRebalance: new(false), TrafficSources: api.TrafficSources{},
		ServiceLinkedRoleARN: new(overcast.NewARN("iam", "", account, "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling").String())}
	if g.Deleting {
		v.Status = new("Delete in progress")
	}
	for _, m := range g.Instances {
		v.Instances = append(v.Instances, api.Instance{InstanceId: new(m.ID), InstanceType: new(m.InstanceType),
			AvailabilityZone: new(m.Zone), LifecycleState: new(m.Lifecycle), HealthStatus: new(m.Health),
			LaunchConfigurationName: service.OmitZero(m.LaunchConfiguration), LaunchTemplate: m.LaunchTemplate.view(), ProtectedFromScaleIn: new(false)})
	}
	for _, t := range g.Tags {
		v.Tags = append(v.Tags, tagView(g, t))
	}
	return v
}

// checkSizes checks min <= desired <= max as CreateAutoScalingGroup and
// UpdateAutoScalingGroup do.
func checkSizes(min, max, desired int32) error {
	if min > max {
		return validationError("Max bound, %d, must be greater than or equal to min bound, %d", max, min)
	}
	if desired < min || desired > max {
		return validationError("Desired capacity:%d must be between the specified min size:%d and max size:%d", desired, min, max)
	}
	return nil
}

// placement resolves a group's subnets (VPCZoneIdentifier, comma
// separated) to their zones, or takes the zones asked for.
func (s *Service) placement(ctx context.Context, vpcZoneIdentifier *string, zones []string) (subnets, subnetZones []string, err error) {
	sc := scopeOf(ctx)
	for _, id := range strings.Split(service.Deref(vpcZoneIdentifier), ",") {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		sn, err := s.ec2.Subnet(ctx, sc.Account, sc.Region, id)
		if errors.Is(err, ErrSubnetNotFound) {
			return nil, nil, validationError("The subnet ID '%s' does not exist", id)
		} else if err != nil {
			return nil, nil, err
		}
		subnets, subnetZones = append(subnets, sn.ID), append(subnetZones, sn.AvailabilityZone)
	}
	if len(subnets) > 0 {
		return subnets, subnetZones, nil
	}
	if len(zones) == 0 {
		return nil, nil, validationError("At least one Availability Zone or VPC Subnet is required.")
	}
	for _, z := range zones {
		if !strings.HasPrefix(z, sc.Region) {
			return nil, nil, validationError("The availability zone %s is not legal", z)
		}
	}
	return nil, service.Distinct(zones), nil
}

func checkLaunchSource(lc *string, lt *api.LaunchTemplateSpecification, instanceID *string, mixed *api.MixedInstancesPolicy) error {
	if mixed != nil || instanceID != nil {
		return validationError("Only LaunchTemplate and LaunchConfigurationName are supported by overcast's Auto Scaling for now")
	}
	if (lc == nil) == (lt == nil) {
		return validationError("Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.")
	}
	return nil
}

// CreateAutoScalingGroup records a group; the controller launches its
// instances.
func (s *Service) CreateAutoScalingGroup(ctx context.Context, in *api.CreateAutoScalingGroupType) error {
	sc := scopeOf(ctx)
	name := *in.AutoScalingGroupName
	if err := checkLaunchSource(in.LaunchConfigurationName, in.LaunchTemplate, in.InstanceId, in.MixedInstancesPolicy); err != nil {
		return err
	}
	desired := service.DerefOr(in.DesiredCapacity, *in.MinSize)
	if err := checkSizes(*in.MinSize, *in.MaxSize, desired); err != nil {
		return err
	}
	healthCheck := service.Deref(in.HealthCheckType)
	if healthCheck == "" {
		healthCheck = "EC2"
	} else if healthCheck != "EC2" && healthCheck != "ELB" {
		return validationError("Health Check Type must be one of: EC2, ELB")
	}
	subnets, zones, err := s.placement(ctx, in.VPCZoneIdentifier, in.AvailabilityZones)
	if err != nil {
		return err
	}
	var template *templateRef
	if in.LaunchTemplate != nil {
		if template, err = s.resolveTemplate(ctx, in.LaunchTemplate); err != nil {
			return err
		}
	}
	g := group{Name: name, ARN: groupARN(sc, s.IDs.UUID(), name),
		LaunchConfiguration: service.Deref(in.LaunchConfigurationName), LaunchTemplate: template, Min: *in.MinSize, Max: *in.MaxSize, Desired: desired,
		DefaultCooldown: service.DerefOr(in.DefaultCooldown, 300), HealthCheckGrace: service.Deref(in.HealthCheckGracePeriod),
		Subnets: subnets, Zones: zones, HealthCheckType: healthCheck,
		TerminationPolicies: []string{"Default"}, Created: s.Now().UTC()}
	if len(in.TerminationPolicies) > 0 {
		g.TerminationPolicies = slices.Clone(in.TerminationPolicies)
	}
	for _, t := range in.Tags {
		g.Tags = append(g.Tags, tag{Key: service.Deref(t.Key), Value: service.Deref(t.Value), PropagateAtLaunch: service.Deref(t.PropagateAtLaunch)})
	}
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		if g.LaunchConfiguration != "" {
			if _, err := getLaunchConfiguration(tx, sc.Key(g.LaunchConfiguration)); errors.Is(err, store.ErrNotFound) {
				return launchConfigurationNotFound(g.LaunchConfiguration)
			} else if err != nil {
				return err
			}
		}
		return create(tx, groupsTable, sc.Key(name), g,
			api.NewAlreadyExistsFault("AutoScalingGroup by this name already exists - A group with the name %s already exists", name))
	})
	if err != nil {
		return err
	}
	s.groups.Enqueue(sc.Key(name))
	return nil
}

// DescribeAutoScalingGroups lists the named groups, or all of them.
func (s *Service) DescribeAutoScalingGroups(ctx context.Context, in *api.AutoScalingGroupNamesType) (*api.AutoScalingGroupsType, error) {
	sc := scopeOf(ctx)
	for _, f := range in.Filters {
		if name := service.Deref(f.Name); name != "tag-key" && name != "tag-value" && !strings.HasPrefix(name, "tag:") {
			return nil, validationError("Filter type %s is not correct. Allowed Filter types are: tag-key tag-value tag:<key>", name)
		}
	}
	out := &api.AutoScalingGroupsType{AutoScalingGroups: api.AutoScalingGroups{}}
	err := eachInScope(ctx, s.Store, groupsTable, func(g group) {
		if (len(in.AutoScalingGroupNames) == 0 || slices.Contains(in.AutoScalingGroupNames, g.Name)) && matchesTagFilters(g, in.Filters) {
			out.AutoScalingGroups = append(out.AutoScalingGroups, g.view(sc.Account))
		}
	})
	return out, err
}

// updateGroup changes a group in a transaction, then has the controller
// act on the change.
func (s *Service) updateGroup(ctx context.Context, name string, change func(tx store.Tx, g *group) error) error {
	sc := scopeOf(ctx)
	key := sc.Key(name)
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var g group
		version, err := store.GetJSON(tx, groupsTable, key, &g)
		if errors.Is(err, store.ErrNotFound) || err == nil && g.Deleting {
			return groupNotFound(name)
		} else if err != nil {
			return err
		}
		if err := change(tx, &g); err != nil {
			return err
		}
		_, err = store.PutJSON(tx, groupsTable, key, g, version)
		return err
	})
	if err != nil {
		return err
	}
	s.groups.Enqueue(key)
	return nil
}

// UpdateAutoScalingGroup changes a group's sizes, launch configuration,
// placement or health check.
func (s *Service) UpdateAutoScalingGroup(ctx context.Context, in *api.UpdateAutoScalingGroupType) error {
	if in.MixedInstancesPolicy != nil || in.LaunchTemplate != nil && in.LaunchConfigurationName != nil {
		return checkLaunchSource(in.LaunchConfigurationName, in.LaunchTemplate, nil, in.MixedInstancesPolicy)
	}
	var template *templateRef
	if in.LaunchTemplate != nil {
		var err error
		if template, err = s.resolveTemplate(ctx, in.LaunchTemplate); err != nil {
			return err
		}
	}
	var subnets, zones []string
	if in.VPCZoneIdentifier != nil || len(in.AvailabilityZones) > 0 {
		var err error
		if subnets, zones, err = s.placement(ctx, in.VPCZoneIdentifier, in.AvailabilityZones); err != nil {
			return err
		}
	}
	sc := scopeOf(ctx)
	return s.updateGroup(ctx, *in.AutoScalingGroupName, func(tx store.Tx, g *group) error {
		if lc := in.LaunchConfigurationName; lc != nil {
			if _, err := getLaunchConfiguration(tx, sc.Key(*lc)); errors.Is(err, store.ErrNotFound) {
				return launchConfigurationNotFound(*lc)
			} else if err != nil {
				return err
			}
			g.LaunchConfiguration, g.LaunchTemplate = *lc, nil
		}
		if template != nil {
			g.LaunchConfiguration, g.LaunchTemplate = "", template
		}
		min, max, desired := g.Min, g.Max, g.Desired
		if in.MinSize != nil {
			min = *in.MinSize
			desired = max32(desired, min)
		}
		if in.MaxSize != nil {
			max = *in.MaxSize
			desired = min32(desired, max)
		}
		if in.DesiredCapacity != nil {
			desired = *in.DesiredCapacity
		}
		if err := checkSizes(min, max, desired); err != nil {
			return err
		}
		g.Min, g.Max, g.Desired = min, max, desired
		if zones != nil {
			g.Subnets, g.Zones = subnets, zones
		}
		g.HealthCheckType = service.DerefOr(in.HealthCheckType, g.HealthCheckType)
		g.HealthCheckGrace = service.DerefOr(in.HealthCheckGracePeriod, g.HealthCheckGrace)
		g.DefaultCooldown = service.DerefOr(in.DefaultCooldown, g.DefaultCooldown)
		return nil
	})
}

func min32(a, b int32) int32 { return min(a, b) }
func max32(a, b int32) int32 { return max(a, b) }

// SetDesiredCapacity changes the number of instances a group keeps.
func (s *Service) SetDesiredCapacity(ctx context.Context, in *api.SetDesiredCapacityType) error {
	desired := *in.DesiredCapacity
	return s.updateGroup(ctx, *in.AutoScalingGroupName, func(_ store.Tx, g *group) error {
		if desired > g.Max {
			return validationError("New SetDesiredCapacity value %d is above max value %d for the AutoScalingGroup.", desired, g.Max)
		}
		if desired < g.Min {
			return validationError("New SetDesiredCapacity value %d is below min value %d for the AutoScalingGroup.", desired, g.Min)
		}
		g.Desired = desired
		return nil
	})
}

// DeleteAutoScalingGroup deletes an empty group at once; with ForceDelete
// the controller terminates its instances first.
func (s *Service) DeleteAutoScalingGroup(ctx context.Context, in *api.DeleteAutoScalingGroupType) error {
	return s.updateGroup(ctx, *in.AutoScalingGroupName, func(tx store.Tx, g *group) error {
		if len(g.Instances) > 0 && !service.Deref(in.ForceDelete) {
			return api.NewResourceInUseFault("You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.")
		}
		g.Deleting, g.Desired, g.Min = true, 0, 0
		return nil
	})
}

// DescribeAutoScalingInstances lists the named instances of any group, or
// every group's.
func (s *Service) DescribeAutoScalingInstances(ctx context.Context, in *api.DescribeAutoScalingInstancesType) (*api.AutoScalingInstancesType, error) {
	out := &api.AutoScalingInstancesType{AutoScalingInstances: api.AutoScalingInstances{}}
	err := eachInScope(ctx, s.Store, groupsTable, func(g group) {
		for _, m := range g.Instances {
			if len(in.InstanceIds) > 0 && !slices.Contains(in.InstanceIds, m.ID) {
				continue
			}
			out.AutoScalingInstances = append(out.AutoScalingInstances, api.AutoScalingInstanceDetails{
				InstanceId: new(m.ID), InstanceType: new(m.InstanceType), AutoScalingGroupName: new(g.Name),
				AvailabilityZone: new(m.Zone), LifecycleState: new(m.Lifecycle), HealthStatus: new(strings.ToUpper(m.Health)),
				LaunchConfigurationName: service.OmitZero(m.LaunchConfiguration), LaunchTemplate: m.LaunchTemplate.view(), ProtectedFromScaleIn: new(false)})
		}
	})
	return out, err
}

// TerminateInstanceInAutoScalingGroup terminates one instance of a group;
// unless the desired capacity goes down with it, the controller replaces it.
func (s *Service) TerminateInstanceInAutoScalingGroup(ctx context.Context, in *api.TerminateInstanceInAutoScalingGroupType) (*api.ActivityType, error) {
	sc := scopeOf(ctx)
	id := *in.InstanceId
	name, err := s.groupOfInstance(ctx, id)
	if err != nil {
		return nil, err
	}
	decrement := *in.ShouldDecrementDesiredCapacity
	var a activity
	err = s.updateGroup(ctx, name, func(tx store.Tx, g *group) error {
		if decrement {
			if g.Desired-1 < g.Min {
				return validationError("Currently, desiredSize equals minSize (%d). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.", g.Min)
			}
			g.Desired--
		}
		cause := fmt.Sprintf("At %s instance %s was taken out of service in response to a user request", awsTime(s.Now()), id)
		if decrement {
			cause += fmt.Sprintf(", shrinking the capacity from %d to %d", g.Desired+1, g.Desired)
		}
		cause += "."
		i := slices.IndexFunc(g.Instances, func(m member) bool { return m.ID == id })
		g.Instances[i].Lifecycle = stateTerminating
		var err error
		a, err = s.recordActivity(tx, sc, g, "Terminating EC2 instance: "+id, cause, "InProgress")
		return err
	})
	if err != nil {
		return nil, err
	}
	v := a.view()
	return &api.ActivityType{Activity: &v}, nil
}

// groupOfInstance is the name of the group an instance belongs to.
func (s *Service) groupOfInstance(ctx context.Context, id string) (string, error) {
	sc := scopeOf(ctx)
	var name string
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, membersTable, sc.Key(id), &name)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", validationError("Instance Id not found - No managed instance found for instance ID: %s", id)
	}
	return name, err
}

// SetInstanceHealth marks an instance healthy or unhealthy; an unhealthy
// one is taken out of service and replaced.
func (s *Service) SetInstanceHealth(ctx context.Context, in *api.SetInstanceHealthQuery) error {
	sc := scopeOf(ctx)
	id, health := *in.InstanceId, *in.HealthStatus
	if health != healthy && health != unhealthy {
		return validationError("Valid instance health states are: [Healthy, Unhealthy].")
	}
	name, err := s.groupOfInstance(ctx, id)
	if err != nil {
		return err
	}
	return s.updateGroup(ctx, name, func(tx store.Tx, g *group) error {
		i := slices.IndexFunc(g.Instances, func(m member) bool { return m.ID == id })
		if i < 0 || g.Instances[i].Lifecycle == stateTerminating {
			return nil
		}
		if health == healthy {
			g.Instances[i].Health = healthy
			return nil
		}
		return s.takeOutOfService(tx, sc, g, id, unhealthy,
			fmt.Sprintf("At %s an instance was taken out of service in response to a user health-check.", awsTime(s.Now())))
	})
}

// matchesTagFilters reports whether g has, for every filter, a tag it
// accepts: tag-key, tag-value, or tag:<key> with one of the values.
func matchesTagFilters(g group, filters api.Filters) bool {
	for _, f := range filters {
		name := service.Deref(f.Name)
		if !slices.ContainsFunc(g.Tags, func(t tag) bool {
			switch {
			case name == "tag-key":
				return slices.Contains(f.Values, t.Key)
			case name == "tag-value":
				return slices.Contains(f.Values, t.Value)
			default:
				return "tag:"+t.Key == name && slices.Contains(f.Values, t.Value)
			}
		}) {
			return false
		}
	}
	return true
}

// groupARN is the ARN of the group name, whose ARN has a UUID so that a
// re-created group never has an old one's.
func groupARN(sc overcast.Scope, uuid, name string) string {
	return sc.ARN("autoscaling", "autoScalingGroup:"+uuid+":autoScalingGroupName/"+name)
}
