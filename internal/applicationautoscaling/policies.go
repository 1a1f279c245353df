package applicationautoscaling

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"time"

	"overcast"
	api "overcast/internal/api/applicationautoscaling"
	"overcast/internal/service"
	"overcast/internal/store"
)

// policiesTable holds the scaling policies, keyed by scope, targetID
// and policy name.
const policiesTable = "applicationautoscaling.policies"

// policy is the record of a scaling policy.
type policy struct {
	targetID
	Name           string                                        `json:"name"`
	ARN            string                                        `json:"arn"`
	Type           string                                        `json:"type"`
	Step           *api.StepScalingPolicyConfiguration           `json:"step,omitempty"`
	TargetTracking *api.TargetTrackingScalingPolicyConfiguration `json:"targetTracking,omitempty"`
	Alarms         []alarmRef                                    `json:"alarms,omitempty"`
	Created        time.Time                                     `json:"created"`
}

type alarmRef struct {
	Name string `json:"name"`
	ARN  string `json:"arn"`
}

func (p *policy) key(sc overcast.Scope) string { return p.targetID.key(sc) + p.Name }

func (p *policy) alarmNames() []string {
	var names []string
	for _, a := range p.Alarms {
		names = append(names, a.Name)
	}
	return names
}

func (p policy) toAPI() api.ScalingPolicy {
	out := api.ScalingPolicy{PolicyARN: new(p.ARN), PolicyName: new(p.Name), ServiceNamespace: new(p.Namespace),
		ResourceId: new(p.ResourceID), ScalableDimension: new(p.Dimension), PolicyType: new(p.Type),
		StepScalingPolicyConfiguration: p.Step, TargetTrackingScalingPolicyConfiguration: p.TargetTracking,
		Alarms: api.Alarms{}, CreationTime: new(p.Created)}
	for _, a := range p.Alarms {
		out.Alarms = append(out.Alarms, api.Alarm{AlarmName: new(a.Name), AlarmARN: new(a.ARN)})
	}
	return out
}

func (p *policy) cooldowns() (out, in time.Duration) {
	if tt := p.TargetTracking; tt != nil {
		return seconds(tt.ScaleOutCooldown), seconds(tt.ScaleInCooldown)
	}
	c := seconds(p.Step.Cooldown)
	return c, c
}

func seconds(s *int32) time.Duration {
	if s == nil {
		return defaultCooldown * time.Second
	}
	return time.Duration(*s) * time.Second
}

// PutScalingPolicy creates or replaces a policy of a registered target;
// a target tracking policy gets its two CloudWatch alarms.
func (s *Service) PutScalingPolicy(ctx context.Context, in *api.PutScalingPolicyRequest) (*api.PutScalingPolicyResponse, error) {
	id := newTargetID(in.ServiceNamespace, in.ResourceId, in.ScalableDimension)
	if err := id.check(); err != nil {
		return nil, err
	}
	p := policy{targetID: id, Name: *in.PolicyName, Type: service.DerefOr(in.PolicyType, api.PolicyTypeStepScaling),
		Step: in.StepScalingPolicyConfiguration, TargetTracking: in.TargetTrackingScalingPolicyConfiguration}
	if err := checkPolicy(&p); err != nil {
		return nil, err
	}
	sc := overcast.ScopeOf(ctx)
	var old []string
	err := store.UpdateRetry(ctx, s.Store, 3, func(tx store.Tx) error {
		if _, _, err := getTarget(tx, sc, id); err != nil {
			return err
		}
		var prev policy
		ver, err := store.GetJSON(tx, policiesTable, p.key(sc), &prev)
		switch {
		case errors.Is(err, store.ErrNotFound):
			p.ARN = id.arn(sc, "scalingPolicy", s.IDs.UUID(), p.Name)
			p.Created = s.Now()
		case err != nil:
			return err
		default:
			p.ARN, p.Created, old = prev.ARN, prev.Created, prev.alarmNames()
		}
		p.Alarms = nil
		if p.TargetTracking != nil {
			p.Alarms = trackingAlarmRefs(sc, &p, s.IDs.UUID())
		}
		_, err = store.PutJSON(tx, policiesTable, p.key(sc), p, ver)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := s.deleteAlarms(ctx, old); err != nil {
		return nil, err
	}
	for _, a := range trackingAlarms(&p) {
		if err := s.alarms.PutAlarm(ctx, a); err != nil {
			return nil, err
		}
	}
	out := &api.PutScalingPolicyResponse{PolicyARN: new(p.ARN)}
	if p.TargetTracking != nil {
		out.Alarms = p.toAPI().Alarms
	}
	return out, nil
}

// checkPolicy is AWS's validation of a policy's configuration beyond the
// model.
func checkPolicy(p *policy) error {
	switch p.Type {
	case api.PolicyTypeStepScaling:
		if p.Step == nil {
			return api.NewValidationException("StepScalingPolicyConfiguration is required for a policy of type StepScaling")
		}
		p.TargetTracking = nil
		return checkSteps(p.Step)
	case api.PolicyTypeTargetTrackingScaling:
		if p.TargetTracking == nil {
			return api.NewValidationException("TargetTrackingScalingPolicyConfiguration is required for a policy of type TargetTrackingScaling")
		}
		p.Step = nil
		return checkTracking(p.TargetTracking)
	}
	return api.NewValidationException("Unsupported policy type %s for service namespace ecs.", p.Type)
}

func checkTracking(tt *api.TargetTrackingScalingPolicyConfiguration) error {
	predefined, custom := tt.PredefinedMetricSpecification, tt.CustomizedMetricSpecification
	if (predefined == nil) == (custom == nil) {
		return api.NewValidationException("Exactly one of PredefinedMetricSpecification or CustomizedMetricSpecification must be specified.")
	}
	if predefined != nil && *predefined.PredefinedMetricType == api.MetricTypeALBRequestCountPerTarget {
		if !resourceLabel.MatchString(service.Deref(predefined.ResourceLabel)) {
			return api.NewValidationException("ResourceLabel must be specified for ALBRequestCountPerTarget, as app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/<target-group-id>.")
		}
	} else if predefined != nil {
		if _, ok := predefinedMetrics[*predefined.PredefinedMetricType]; !ok {
			return api.NewValidationException("Unsupported predefined metric type %s for service namespace ecs.", *predefined.PredefinedMetricType)
		}
	}
	if custom != nil {
		if len(custom.Metrics) > 0 {
			return api.NewValidationException("overcast's alarms watch a single metric: Metrics (metric math) is not supported.")
		}
		if custom.MetricName == nil || custom.Namespace == nil || custom.Statistic == nil {
			return api.NewValidationException("CustomizedMetricSpecification requires MetricName, Namespace and Statistic.")
		}
	}
	if *tt.TargetValue <= 0 {
		return api.NewValidationException("TargetValue must be greater than 0.")
	}
	return nil
}

// resourceLabel is the ResourceLabel of ALBRequestCountPerTarget: the load
// balancer and the target group, each as its ARN ends.
var resourceLabel = regexp.MustCompile(`^app/[^/]+/[^/]+/targetgroup/[^/]+/[^/]+$`)

// checkSteps is AWS's check of step adjustments: bounds are offsets from
// the alarm threshold, at most one step open on each side, none overlap.
func checkSteps(c *api.StepScalingPolicyConfiguration) error {
	if len(c.StepAdjustments) == 0 {
		return api.NewValidationException("StepAdjustments are required for a StepScaling policy.")
	}
	if c.AdjustmentType == nil {
		return api.NewValidationException("AdjustmentType is required for a StepScaling policy.")
	}
	steps := slices.Clone(c.StepAdjustments)
	slices.SortFunc(steps, func(a, b api.StepAdjustment) int {
		return compareBound(a.MetricIntervalLowerBound, b.MetricIntervalLowerBound)
	})
	for i, st := range steps {
		if st.MetricIntervalLowerBound == nil && st.MetricIntervalUpperBound == nil {
			return api.NewValidationException("A step adjustment cannot have both a null lower bound and a null upper bound.")
		}
		if st.MetricIntervalLowerBound != nil && st.MetricIntervalUpperBound != nil && *st.MetricIntervalLowerBound >= *st.MetricIntervalUpperBound {
			return api.NewValidationException("A step adjustment's upper bound must be greater than its lower bound.")
		}
		if i > 0 && (steps[i-1].MetricIntervalUpperBound == nil || st.MetricIntervalLowerBound == nil ||
			*steps[i-1].MetricIntervalUpperBound != *st.MetricIntervalLowerBound) {
			return api.NewValidationException("Step adjustments must not overlap or leave gaps between them.")
		}
	}
	return nil
}

// compareBound orders lower bounds, a null one (-infinity) first.
func compareBound(a, b *float64) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch {
	case *a < *b:
		return -1
	case *a > *b:
		return 1
	}
	return 0
}

// DescribeScalingPolicies lists the namespace's policies, filtered by
// names, resource and dimension.
func (s *Service) DescribeScalingPolicies(ctx context.Context, in *api.DescribeScalingPoliciesRequest) (*api.DescribeScalingPoliciesResponse, error) {
	q := query{namespace: in.ServiceNamespace, dimension: in.ScalableDimension, resourceIDs: listOf(in.ResourceId),
		max: service.Deref(in.MaxResults), limit: 10, token: in.NextToken}
	views, next, err := describe(ctx, s.Store, policiesTable, q, func(p policy) bool {
		return len(in.PolicyNames) == 0 || slices.Contains(in.PolicyNames, p.Name)
	}, policy.toAPI)
	if err != nil {
		return nil, err
	}
	return &api.DescribeScalingPoliciesResponse{ScalingPolicies: views, NextToken: next}, nil
}

// DeleteScalingPolicy deletes a policy and its alarms.
func (s *Service) DeleteScalingPolicy(ctx context.Context, in *api.DeleteScalingPolicyRequest) (*api.DeleteScalingPolicyResponse, error) {
	p := policy{targetID: newTargetID(in.ServiceNamespace, in.ResourceId, in.ScalableDimension), Name: *in.PolicyName}
	sc := overcast.ScopeOf(ctx)
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, policiesTable, p.key(sc), &p)
		if errors.Is(err, store.ErrNotFound) {
			return api.NewObjectNotFoundException("No scaling policy found for %s, policy name: %s", p.targetID, p.Name)
		}
		if err != nil {
			return err
		}
		return tx.Delete(policiesTable, p.key(sc), store.AnyVersion)
	})
	if err != nil {
		return nil, err
	}
	if err := s.deleteAlarms(ctx, p.alarmNames()); err != nil {
		return nil, err
	}
	return &api.DeleteScalingPolicyResponse{}, nil
}
