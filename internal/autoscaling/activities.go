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

// activity is a scaling activity, kept under its group's name so that a
// group's history reads in one scan.
type activity struct {
	ID, Group, GroupARN string
	Description, Cause  string
	Status              string
	Start, End          time.Time
	Instance            string
}

func (a activity) view() api.Activity {
	v := api.Activity{ActivityId: new(a.ID), AutoScalingGroupName: new(a.Group), AutoScalingGroupARN: new(a.GroupARN),
		Description: new(a.Description), Cause: new(a.Cause), StartTime: new(a.Start), StatusCode: new(a.Status),
		Progress: new(int32(0)), Details: new("{}")}
	if a.Status == "Successful" {
		v.EndTime, v.Progress = new(a.End), new(int32(100))
	}
	return v
}

// awsTime is how activity causes write times: 2016-05-05T17:47:52Z.
func awsTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// activityKey orders a group's activities by the group's creation (a
// name can be reused) and their sequence in it.
func activityKey(sc overcast.Scope, g *group) string {
	return sc.Key(fmt.Sprintf("%s/%020d/%010d", g.Name, g.Created.UnixNano(), g.Activities))
}

// recordActivity writes an activity of g about the instance its
// description ends with.
func (s *Service) recordActivity(tx store.Tx, sc overcast.Scope, g *group, description, cause, status string) (activity, error) {
	now := s.Now().UTC()
	a := activity{ID: s.IDs.UUID(), Group: g.Name, GroupARN: g.ARN, Description: description, Cause: cause, Status: status, Start: now,
		Instance: description[strings.LastIndex(description, " ")+1:]}
	if status == "Successful" {
		a.End = now
	}
	g.Activities++
	_, err := store.PutJSON(tx, activitiesTable, activityKey(sc, g), a, 0)
	return a, err
}

// finishActivities marks the group's activities about instance that are
// still in progress successful.
func (s *Service) finishActivities(tx store.Tx, sc overcast.Scope, groupName, instance string) error {
	return store.ScanJSON(tx, activitiesTable, store.ScanOptions{Prefix: sc.Key(groupName + "/")}, func(key string, a activity, version int64) error {
		if a.Instance != instance || a.Status != "InProgress" {
			return nil
		}
		a.Status, a.End = "Successful", s.Now().UTC()
		_, err := store.PutJSON(tx, activitiesTable, key, a, version)
		return err
	})
}

// DescribeScalingActivities lists a group's activities, newest first.
func (s *Service) DescribeScalingActivities(ctx context.Context, in *api.DescribeScalingActivitiesType) (*api.ActivitiesType, error) {
	sc := scopeOf(ctx)
	prefix := sc.Prefix()
	if in.AutoScalingGroupName != nil {
		prefix = sc.Key(*in.AutoScalingGroupName + "/")
		err := s.Store.View(ctx, func(tx store.Tx) error {
			_, err := tx.Get(groupsTable, sc.Key(*in.AutoScalingGroupName))
			return err
		})
		if errors.Is(err, store.ErrNotFound) && !service.Deref(in.IncludeDeletedGroups) {
			return nil, groupNotFound(*in.AutoScalingGroupName)
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	var list []activity
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		list, err = store.FilterJSON(tx, activitiesTable, store.ScanOptions{Prefix: prefix}, func(a activity) bool {
			return len(in.ActivityIds) == 0 || slices.Contains(in.ActivityIds, a.ID)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.Reverse(list)
	slices.SortStableFunc(list, func(a, b activity) int { return b.Start.Compare(a.Start) })
	if n := int(service.Deref(in.MaxRecords)); n > 0 && len(list) > n {
		list = list[:n]
	}
	out := &api.ActivitiesType{Activities: api.Activities{}}
	for _, a := range list {
		out.Activities = append(out.Activities, a.view())
	}
	return out, nil
}
