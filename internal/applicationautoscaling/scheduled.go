package applicationautoscaling

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/applicationautoscaling"
	"overcast/internal/controller"
	"overcast/internal/service"
	"overcast/internal/store"
)

// scheduledTable holds the scheduled actions, keyed by scope, targetID
// and action name.
const scheduledTable = "applicationautoscaling.scheduled"

// scheduledAction is the record of a scheduled action. Next is the
// controller's desired state: when the action runs next, zero once it
// never will again (a one-time action that ran, a schedule past its end).
type scheduledAction struct {
	targetID
	Name     string     `json:"name"`
	ARN      string     `json:"arn"`
	Schedule string     `json:"schedule"`
	Timezone string     `json:"timezone,omitempty"`
	Start    *time.Time `json:"start,omitempty"`
	End      *time.Time `json:"end,omitempty"`
	Min      *int32     `json:"min,omitempty"`
	Max      *int32     `json:"max,omitempty"`
	Created  time.Time  `json:"created"`
	Next     time.Time  `json:"next"`
}

// arn is the ARN of a scaling policy or scheduled action of the target,
// of the kind "scalingPolicy" or "scheduledAction".
func (id targetID) arn(sc overcast.Scope, kind, uuid, name string) string {
	nameKind := map[string]string{"scalingPolicy": "policyName", "scheduledAction": "scheduledActionName"}[kind]
	return sc.ARN("autoscaling", fmt.Sprintf("%s:%s:resource/%s/%s:%s/%s", kind, uuid, id.Namespace, id.ResourceID, nameKind, name))
}

func (a *scheduledAction) key(sc overcast.Scope) string { return a.targetID.key(sc) + a.Name }

func (a scheduledAction) toAPI() api.ScheduledAction {
	out := api.ScheduledAction{ScheduledActionName: new(a.Name), ScheduledActionARN: new(a.ARN), ServiceNamespace: new(a.Namespace),
		Schedule: new(a.Schedule), ResourceId: new(a.ResourceID), ScalableDimension: new(a.Dimension),
		StartTime: a.Start, EndTime: a.End, CreationTime: new(a.Created),
		ScalableTargetAction: &api.ScalableTargetAction{MinCapacity: a.Min, MaxCapacity: a.Max}}
	if a.Timezone != "" {
		out.Timezone = new(a.Timezone)
	}
	return out
}

// parsed is the action's schedule, in its time zone.
func (a *scheduledAction) parsed() (schedule, error) {
	loc := time.UTC
	if a.Timezone != "" {
		var err error
		if loc, err = time.LoadLocation(a.Timezone); err != nil {
			return nil, api.NewValidationException("Unrecognized timezone: %s. Use an IANA time zone name such as America/New_York.", a.Timezone)
		}
	}
	sched, err := parseSchedule(a.Schedule, loc)
	if err != nil {
		return nil, api.NewValidationException("Invalid schedule expression. Details: %s", err)
	}
	return sched, nil
}

// nextRun is when the action runs after t: a rate counts from the
// action's StartTime, else from its creation; nothing runs before either.
func (a *scheduledAction) nextRun(sched schedule, t time.Time) time.Time {
	from, end := a.Created, time.Time{}
	if a.Start != nil {
		from = *a.Start
	}
	if a.End != nil {
		end = *a.End
	}
	next, ok := sched.next(t, from, end)
	if !ok {
		return time.Time{}
	}
	return next
}

// PutScheduledAction creates a scheduled action of a registered target or
// updates one: what the request names changes, StartTime and EndTime are
// replaced (cleared when left out), the rest stays.
func (s *Service) PutScheduledAction(ctx context.Context, in *api.PutScheduledActionRequest) (*api.PutScheduledActionResponse, error) {
	id := newTargetID(in.ServiceNamespace, in.ResourceId, in.ScalableDimension)
	if err := id.check(); err != nil {
		return nil, err
	}
	sc := overcast.ScopeOf(ctx)
	a := scheduledAction{targetID: id, Name: *in.ScheduledActionName}
	err := store.UpdateRetry(ctx, s.Store, 3, func(tx store.Tx) error {
		if _, _, err := getTarget(tx, sc, id); err != nil {
			return err
		}
		a = scheduledAction{targetID: id, Name: *in.ScheduledActionName}
		ver, err := store.GetJSON(tx, scheduledTable, a.key(sc), &a)
		if errors.Is(err, store.ErrNotFound) {
			a.ARN, a.Created = id.arn(sc, "scheduledAction", s.IDs.UUID(), a.Name), s.Now()
		} else if err != nil {
			return err
		}
		if err := a.update(in); err != nil {
			return err
		}
		sched, err := a.parsed()
		if err != nil {
			return err
		}
		a.Next = a.nextRun(sched, s.Now())
		_, err = store.PutJSON(tx, scheduledTable, a.key(sc), a, ver)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.scheduled.Enqueue(a.key(sc))
	return &api.PutScheduledActionResponse{}, nil
}

// update applies a PutScheduledAction request to the action and checks
// the outcome as AWS does.
func (a *scheduledAction) update(in *api.PutScheduledActionRequest) error {
	if in.Schedule != nil {
		a.Schedule = *in.Schedule
	}
	if in.Timezone != nil {
		a.Timezone = *in.Timezone
	}
	a.Start, a.End = in.StartTime, in.EndTime
	if in.ScalableTargetAction != nil {
		if in.ScalableTargetAction.MinCapacity != nil {
			a.Min = in.ScalableTargetAction.MinCapacity
		}
		if in.ScalableTargetAction.MaxCapacity != nil {
			a.Max = in.ScalableTargetAction.MaxCapacity
		}
	}
	switch {
	case a.Schedule == "":
		return api.NewValidationException("Schedule is required to create a scheduled action.")
	case a.Min == nil && a.Max == nil:
		return api.NewValidationException("At least one of minimum capacity and maximum capacity should be provided")
	case a.Min != nil && *a.Min < 0, a.Max != nil && *a.Max < 0:
		return api.NewValidationException("Minimum and maximum capacity must be non-negative.")
	case a.Min != nil && a.Max != nil && *a.Min > *a.Max:
		return api.NewValidationException("Minimum capacity cannot be greater than maximum capacity")
	case a.Start != nil && a.End != nil && !a.Start.Before(*a.End):
		return api.NewValidationException("EndTime must be after StartTime.")
	}
	return nil
}

// DescribeScheduledActions lists the namespace's scheduled actions,
// filtered by names, resource and dimension.
func (s *Service) DescribeScheduledActions(ctx context.Context, in *api.DescribeScheduledActionsRequest) (*api.DescribeScheduledActionsResponse, error) {
	q := query{namespace: in.ServiceNamespace, dimension: in.ScalableDimension, resourceIDs: listOf(in.ResourceId),
		max: service.Deref(in.MaxResults), limit: 50, token: in.NextToken}
	views, next, err := describe(ctx, s.Store, scheduledTable, q, func(a scheduledAction) bool {
		return len(in.ScheduledActionNames) == 0 || slices.Contains(in.ScheduledActionNames, a.Name)
	}, scheduledAction.toAPI)
	if err != nil {
		return nil, err
	}
	return &api.DescribeScheduledActionsResponse{ScheduledActions: views, NextToken: next}, nil
}

// DeleteScheduledAction deletes a scheduled action.
func (s *Service) DeleteScheduledAction(ctx context.Context, in *api.DeleteScheduledActionRequest) (*api.DeleteScheduledActionResponse, error) {
	a := scheduledAction{targetID: newTargetID(in.ServiceNamespace, in.ResourceId, in.ScalableDimension), Name: *in.ScheduledActionName}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		return tx.Delete(scheduledTable, a.key(overcast.ScopeOf(ctx)), store.AnyVersion)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, api.NewObjectNotFoundException("No scheduled action found for %s, scheduled action name: %s", a.targetID, a.Name)
	case err != nil:
		return nil, err
	}
	return &api.DeleteScheduledActionResponse{}, nil
}

// reconcileScheduled runs the scheduled action at key when it is due and
// moves its Next on; the store's Next is how a restart resumes, and a
// one-time action whose Next is cleared never runs again.
func (s *Service) reconcileScheduled(ctx context.Context, key string) (controller.Result, error) {
	account, rest, _ := strings.Cut(key, "/")
	region, _, _ := strings.Cut(rest, "/")
	ctx = overcast.WithCaller(ctx, overcast.RootCaller(account, region))
	var a scheduledAction
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, scheduledTable, key, &a)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.Next.IsZero()) {
		return controller.Result{}, nil // deleted, or done
	}
	if err != nil {
		return controller.Result{}, err
	}
	now := s.Now()
	if now.Before(a.Next) {
		return controller.At(a.Next), nil
	}
	if err := s.runScheduled(ctx, &a); err != nil {
		return controller.Result{}, err
	}
	// Runs missed while overcast was down are not made up: the next one
	// is the first after now.
	var next time.Time
	err = store.UpdateRetry(ctx, s.Store, 3, func(tx store.Tx) error {
		var cur scheduledAction
		ver, err := store.GetJSON(tx, scheduledTable, key, &cur)
		if err != nil || !cur.Next.Equal(a.Next) {
			return err // replaced meanwhile: its own Next stands
		}
		sched, err := cur.parsed()
		if err != nil {
			return err
		}
		cur.Next = cur.nextRun(sched, now)
		next = cur.Next
		_, err = store.PutJSON(tx, scheduledTable, key, cur, ver)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && next.IsZero()) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	return controller.At(next), nil
}

// runScheduled sets the target's bounds as the action says, then moves
// the service's desired count into them, recording both activities as
// AWS words them. Scheduled actions ignore cooldowns; a target whose
// scheduled scaling is suspended is left alone.
func (s *Service) runScheduled(ctx context.Context, a *scheduledAction) error {
	sc := overcast.ScopeOf(ctx)
	now := s.Now()
	var t target
	suspended := false
	err := store.UpdateRetry(ctx, s.Store, 3, func(tx store.Tx) error {
		var ver int64
		var err error
		if t, ver, err = getTarget(tx, sc, a.targetID); err != nil {
			return err
		}
		if suspended = t.Suspended.Scheduled; suspended {
			return nil
		}
		var set []string
		if a.Min != nil {
			t.Min, t.Max = *a.Min, max(t.Max, *a.Min)
			set = append(set, fmt.Sprintf("min capacity to %d", t.Min))
		}
		if a.Max != nil {
			t.Max, t.Min = *a.Max, min(t.Min, *a.Max)
			set = append(set, fmt.Sprintf("max capacity to %d", t.Max))
		}
		if _, err := store.PutJSON(tx, targetsTable, a.targetID.key(sc), t, ver); err != nil {
			return err
		}
		what := strings.Join(set, " and ")
		return putActivity(tx, sc, activity{targetID: a.targetID, ID: s.IDs.UUID(), Start: now, End: now,
			Description: "Setting " + what, Cause: fmt.Sprintf("scheduled action name %s was triggered", a.Name),
			StatusCode: api.ScalingActivityStatusCodeSuccessful, StatusMessage: "Successfully set " + what})
	})
	if errors.As(err, new(*api.ObjectNotFoundException)) || (err == nil && suspended) {
		return nil // the target is gone (its actions go with it) or suspended
	}
	if err != nil {
		return err
	}
	current, bounded, err := s.clampDesiredCount(ctx, a.targetID)
	if err != nil || bounded == current {
		return err
	}
	cause := fmt.Sprintf("minimum capacity was set to %d", t.Min)
	if bounded < current {
		cause = fmt.Sprintf("maximum capacity was set to %d", t.Max)
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		return putActivity(tx, sc, activity{targetID: a.targetID, ID: s.IDs.UUID(), Start: now, End: s.Now(),
			Description: fmt.Sprintf("Setting desired count to %d.", bounded), Cause: cause,
			StatusCode:    api.ScalingActivityStatusCodeSuccessful,
			StatusMessage: fmt.Sprintf("Successfully set desired count to %d. Change successfully fulfilled by ecs.", bounded)})
	})
}

// putActivity saves an activity after the target's newest: activities
// recorded in the same instant (a scheduled action's and the capacity
// change it causes; any two under a fake clock) keep their order.
func putActivity(tx store.Tx, sc overcast.Scope, a activity) error {
	prefix := a.targetID.key(sc)
	at := timeKey(a.Start)
	newest, err := store.Keys(tx, activitiesTable, store.ScanOptions{Prefix: prefix, Reverse: true, Limit: 1})
	if err != nil {
		return err
	}
	if len(newest) == 1 {
		if last, err := strconv.ParseInt(strings.TrimPrefix(newest[0], prefix)[:len(at)], 10, 64); err == nil && timeKey(time.Unix(0, last)) >= at {
			at = timeKey(time.Unix(0, last+1))
		}
	}
	_, err = store.PutJSON(tx, activitiesTable, prefix+at+a.ID, a, 0)
	return err
}
