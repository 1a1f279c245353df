package autoscaling

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/autoscaling"
	"overcast/internal/service"
	"overcast/internal/store"
)

// policiesTable holds scaling policies under "<group>/<policy>".
const policiesTable = "autoscaling.policies"

// policy is a simple scaling policy: an adjustment ExecutePolicy (or, in
// time, an alarm) applies to the group's desired capacity.
type policy struct {
	Name, ARN, Group       string
	AdjustmentType         string
	ScalingAdjustment      int32
	MinAdjustmentMagnitude int32
	Cooldown               *int32
	Enabled                bool
}

func (p policy) view() api.ScalingPolicy {
	v := api.ScalingPolicy{AutoScalingGroupName: new(p.Group), PolicyName: new(p.Name), PolicyARN: new(p.ARN),
		PolicyType: new("SimpleScaling"), AdjustmentType: new(p.AdjustmentType), ScalingAdjustment: new(p.ScalingAdjustment),
		Cooldown: p.Cooldown, StepAdjustments: api.StepAdjustments{}, Alarms: api.Alarms{}, Enabled: new(p.Enabled)}
	if p.MinAdjustmentMagnitude > 0 {
		v.MinAdjustmentMagnitude = new(p.MinAdjustmentMagnitude)
	}
	return v
}

// adjust is the desired capacity the policy sets from current, within the
// group's bounds.
func (p policy) adjust(current, min, max int32) int32 {
	desired := current
	switch p.AdjustmentType {
	case "ExactCapacity":
		desired = p.ScalingAdjustment
	case "PercentChangeInCapacity":
		change := float64(current) * float64(p.ScalingAdjustment) / 100
		step := int32(math.Trunc(change))
		if step == 0 && p.ScalingAdjustment != 0 {
			step = int32(math.Copysign(1, change))
		}
		if p.MinAdjustmentMagnitude > 0 && abs(step) < p.MinAdjustmentMagnitude {
			step = int32(math.Copysign(float64(p.MinAdjustmentMagnitude), float64(p.ScalingAdjustment)))
		}
		desired = current + step
	default: // ChangeInCapacity
		desired = current + p.ScalingAdjustment
	}
	return max32(min, min32(max, desired))
}

func abs(n int32) int32 { return max(n, -n) }

var adjustmentTypes = []string{"ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity"}

// PutScalingPolicy creates or replaces a simple scaling policy.
func (s *Service) PutScalingPolicy(ctx context.Context, in *api.PutScalingPolicyType) (*api.PolicyARNType, error) {
	sc := scopeOf(ctx)
	if t := service.Deref(in.PolicyType); t != "" && t != "SimpleScaling" {
		return nil, validationError("Only SimpleScaling policies are supported by overcast's Auto Scaling for now")
	}
	if !slices.Contains(adjustmentTypes, service.Deref(in.AdjustmentType)) {
		return nil, validationError("AdjustmentType must be one of %s", strings.Join(adjustmentTypes, ", "))
	}
	if in.ScalingAdjustment == nil {
		return nil, validationError("ScalingAdjustment is required for a SimpleScaling policy")
	}
	group, name := *in.AutoScalingGroupName, *in.PolicyName
	p := policy{Name: name, Group: group, AdjustmentType: *in.AdjustmentType, ScalingAdjustment: *in.ScalingAdjustment,
		MinAdjustmentMagnitude: service.Deref(in.MinAdjustmentMagnitude), Cooldown: in.Cooldown, Enabled: in.Enabled == nil || *in.Enabled}
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		if _, err := tx.Get(groupsTable, sc.Key(group)); errors.Is(err, store.ErrNotFound) {
			return groupNotFound(group)
		} else if err != nil {
			return err
		}
		var old policy
		if _, err := store.GetJSON(tx, policiesTable, sc.Key(group+"/"+name), &old); err == nil {
			p.ARN = old.ARN
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		} else {
			p.ARN = sc.ARN("autoscaling", "scalingPolicy:"+s.IDs.UUID()+":autoScalingGroupName/"+group+":policyName/"+name)
		}
		_, err := store.PutJSON(tx, policiesTable, sc.Key(group+"/"+name), p, store.AnyVersion)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.PolicyARNType{PolicyARN: new(p.ARN), Alarms: api.Alarms{}}, nil
}

// DescribePolicies lists the policies of a group, or of every group.
func (s *Service) DescribePolicies(ctx context.Context, in *api.DescribePoliciesType) (*api.PoliciesType, error) {
	sc := scopeOf(ctx)
	prefix := sc.Prefix()
	if in.AutoScalingGroupName != nil {
		prefix = sc.Key(*in.AutoScalingGroupName + "/")
	}
	out := &api.PoliciesType{ScalingPolicies: api.ScalingPolicies{}}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, policiesTable, store.ScanOptions{Prefix: prefix}, func(_ string, p policy, _ int64) error {
			if len(in.PolicyNames) == 0 || slices.Contains(in.PolicyNames, p.Name) || slices.Contains(in.PolicyNames, p.ARN) {
				out.ScalingPolicies = append(out.ScalingPolicies, p.view())
			}
			return nil
		})
	})
	return out, err
}

// findPolicy finds a policy by group and name, or by ARN alone.
func findPolicy(tx store.Tx, sc overcast.Scope, group *string, nameOrARN string) (string, policy, error) {
	var p policy
	if group != nil {
		key := sc.Key(*group + "/" + nameOrARN)
		_, err := store.GetJSON(tx, policiesTable, key, &p)
		if errors.Is(err, store.ErrNotFound) {
			err = validationError("No such policy %s for AutoScalingGroup %s", nameOrARN, *group)
		}
		return key, p, err
	}
	var key string
	err := store.ScanJSON(tx, policiesTable, store.ScanOptions{Prefix: sc.Prefix()}, func(k string, candidate policy, _ int64) error {
		if candidate.ARN == nameOrARN {
			key, p = k, candidate
		}
		return nil
	})
	if err == nil && key == "" {
		err = validationError("No such policy %s", nameOrARN)
	}
	return key, p, err
}

// DeletePolicy deletes a policy.
func (s *Service) DeletePolicy(ctx context.Context, in *api.DeletePolicyType) error {
	sc := scopeOf(ctx)
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		key, _, err := findPolicy(tx, sc, in.AutoScalingGroupName, *in.PolicyName)
		if err != nil {
			return err
		}
		return tx.Delete(policiesTable, key, store.AnyVersion)
	})
}

// ExecutePolicy applies a policy's adjustment to its group's desired
// capacity.
func (s *Service) ExecutePolicy(ctx context.Context, in *api.ExecutePolicyType) error {
	sc := scopeOf(ctx)
	var p policy
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		_, p, err = findPolicy(tx, sc, in.AutoScalingGroupName, *in.PolicyName)
		return err
	})
	if err != nil {
		return err
	}
	if !p.Enabled {
		return validationError("Policy %s is disabled", p.Name)
	}
	return s.updateGroup(ctx, p.Group, func(_ store.Tx, g *group) error {
		g.Desired = p.adjust(g.Desired, g.Min, g.Max)
		return nil
	})
}
