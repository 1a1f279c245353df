package applicationautoscaling

import (
	"context"
	"errors"
	"maps"
	"time"

	"overcast"
	api "overcast/internal/api/applicationautoscaling"
	"overcast/internal/service"
	"overcast/internal/store"
)

// targetsTable holds the scalable targets, keyed by scope and
// targetID.
const targetsTable = "applicationautoscaling.targets"

// target is the record of a scalable target, with the cooldown state its
// policies share.
type target struct {
	targetID
	ARN       string            `json:"arn"`
	RoleARN   string            `json:"roleArn"`
	Min       int32             `json:"min"`
	Max       int32             `json:"max"`
	Suspended suspended         `json:"suspended"`
	Created   time.Time         `json:"created"`
	Tags      map[string]string `json:"tags,omitempty"`
	// ScaledOut is when the last scale-out happened and ScaledOutFrom the
	// capacity it started from: during the scale-out cooldown the metric
	// still reflects that capacity, so only a larger scale-out proceeds.
	ScaledOut     time.Time `json:"scaledOut"`
	ScaledOutFrom int32     `json:"scaledOutFrom"`
	// ScaledIn is when the last scale-in happened; a scale-out clears it.
	ScaledIn time.Time `json:"scaledIn"`
}

type suspended struct {
	In        bool `json:"in,omitempty"`
	Out       bool `json:"out,omitempty"`
	Scheduled bool `json:"scheduled,omitempty"`
}

func (t target) toAPI() api.ScalableTarget {
	return api.ScalableTarget{ServiceNamespace: new(t.Namespace), ResourceId: new(t.ResourceID), ScalableDimension: new(t.Dimension),
		MinCapacity: new(t.Min), MaxCapacity: new(t.Max), RoleARN: new(t.RoleARN), CreationTime: new(t.Created),
		ScalableTargetARN: new(t.ARN),
		SuspendedState: &api.SuspendedState{DynamicScalingInSuspended: new(t.Suspended.In),
			DynamicScalingOutSuspended: new(t.Suspended.Out), ScheduledScalingSuspended: new(t.Suspended.Scheduled)}}
}

func notRegistered(id targetID) error {
	return api.NewObjectNotFoundException("No scalable target registered for %s", id)
}

func getTarget(tx store.Tx, sc overcast.Scope, id targetID) (target, int64, error) {
	var t target
	ver, err := store.GetJSON(tx, targetsTable, id.key(sc), &t)
	if errors.Is(err, store.ErrNotFound) {
		return t, 0, notRegistered(id)
	}
	return t, ver, err
}

// RegisterScalableTarget registers a target or updates its capacity
// bounds and suspended state.
func (s *Service) RegisterScalableTarget(ctx context.Context, in *api.RegisterScalableTargetRequest) (*api.RegisterScalableTargetResponse, error) {
	id := newTargetID(in.ServiceNamespace, in.ResourceId, in.ScalableDimension)
	if err := id.check(); err != nil {
		return nil, err
	}
	cluster, name, _ := id.ecsService()
	if _, found, err := s.services.DesiredCount(ctx, cluster, name); err != nil {
		return nil, err
	} else if !found {
		return nil, api.NewValidationException("ECS service doesn't exist: %s", id.ResourceID)
	}
	sc := overcast.ScopeOf(ctx)
	var arn string
	err := store.UpdateRetry(ctx, s.Store, 3, func(tx store.Tx) error {
		t, ver, err := getTarget(tx, sc, id)
		var notFound *api.ObjectNotFoundException
		switch {
		case errors.As(err, &notFound):
			if in.MinCapacity == nil || in.MaxCapacity == nil {
				return api.NewValidationException("MinCapacity and MaxCapacity are required for registering a new scalable target.")
			}
			t = target{targetID: id, ARN: sc.ARN("application-autoscaling", "scalable-target/"+s.IDs.String("0123456789abcdef", 36)),
				RoleARN: "arn:aws:iam::" + sc.Account + ":role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService",
				Created: s.Now(), Tags: maps.Clone(in.Tags)} // later registrations leave tags to TagResource
		case err != nil:
			return err
		}
		t.Min, t.Max = service.DerefOr(in.MinCapacity, t.Min), service.DerefOr(in.MaxCapacity, t.Max)
		if t.Min < 0 || t.Max < 0 {
			return api.NewValidationException("Minimum and maximum capacity must be non-negative.")
		}
		if t.Min > t.Max {
			return api.NewValidationException("Minimum capacity cannot be greater than maximum capacity")
		}
		if st := in.SuspendedState; st != nil {
			t.Suspended = suspended{In: service.Deref(st.DynamicScalingInSuspended), Out: service.Deref(st.DynamicScalingOutSuspended),
				Scheduled: service.Deref(st.ScheduledScalingSuspended)}
		}
		t.RoleARN = service.DerefOr(in.RoleARN, t.RoleARN)
		arn = t.ARN
		_, err = store.PutJSON(tx, targetsTable, id.key(sc), t, ver)
		return err
	})
	if err != nil {
		return nil, err
	}
	// ECS keeps the desired count within the new bounds right away.
	if _, _, err := s.clampDesiredCount(ctx, id); err != nil {
		return nil, err
	}
	return &api.RegisterScalableTargetResponse{ScalableTargetARN: &arn}, nil
}

// clampDesiredCount moves the service's desired count into its target's
// bounds, as registering new bounds does on AWS; it returns the count
// before and after (the same when it was within them).
func (s *Service) clampDesiredCount(ctx context.Context, id targetID) (current, bounded int32, err error) {
	var t target
	err = s.Store.View(ctx, func(tx store.Tx) (err error) {
		t, _, err = getTarget(tx, overcast.ScopeOf(ctx), id)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	cluster, name, _ := id.ecsService()
	current, found, err := s.services.DesiredCount(ctx, cluster, name)
	if err != nil || !found {
		return current, current, err
	}
	if bounded = min(max(current, t.Min), t.Max); bounded != current {
		err = s.services.SetDesiredCount(ctx, cluster, name, bounded)
	}
	return current, bounded, err
}

// DescribeScalableTargets lists the namespace's targets, filtered by
// resource IDs and dimension.
func (s *Service) DescribeScalableTargets(ctx context.Context, in *api.DescribeScalableTargetsRequest) (*api.DescribeScalableTargetsResponse, error) {
	q := query{namespace: in.ServiceNamespace, dimension: in.ScalableDimension, resourceIDs: in.ResourceIds,
		max: service.Deref(in.MaxResults), limit: 50, token: in.NextToken}
	views, next, err := describe(ctx, s.Store, targetsTable, q, func(target) bool { return true }, target.toAPI)
	if err != nil {
		return nil, err
	}
	return &api.DescribeScalableTargetsResponse{ScalableTargets: views, NextToken: next}, nil
}

// DeregisterScalableTarget deletes the target with its policies, their
// alarms and its scheduled actions.
func (s *Service) DeregisterScalableTarget(ctx context.Context, in *api.DeregisterScalableTargetRequest) (*api.DeregisterScalableTargetResponse, error) {
	id := newTargetID(in.ServiceNamespace, in.ResourceId, in.ScalableDimension)
	sc := overcast.ScopeOf(ctx)
	var alarms []string
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		if _, _, err := getTarget(tx, sc, id); err != nil {
			return err
		}
		policies, err := store.FilterJSON[policy](tx, policiesTable, store.ScanOptions{Prefix: id.key(sc)}, nil)
		if err != nil {
			return err
		}
		for _, p := range policies {
			alarms = append(alarms, p.alarmNames()...)
		}
		for _, table := range []string{policiesTable, scheduledTable} {
			if _, err := store.DeleteScanned(tx, table, store.ScanOptions{Prefix: id.key(sc)}); err != nil {
				return err
			}
		}
		return tx.Delete(targetsTable, id.key(sc), store.AnyVersion)
	})
	if err != nil {
		return nil, err
	}
	if err := s.deleteAlarms(ctx, alarms); err != nil {
		return nil, err
	}
	return &api.DeregisterScalableTargetResponse{}, nil
}

func (s *Service) deleteAlarms(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return nil
	}
	return s.alarms.DeleteAlarms(ctx, names)
}
