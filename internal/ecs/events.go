package ecs

import (
	"context"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"overcast/internal/awsproto"
	"overcast/internal/bus"
	"overcast/internal/store"
)

// instanceChangeMembers are the members of a container instance, as the
// API shows it, that the detail of ECS's "ECS Container Instance State
// Change" event carries, with clusterArn and updatedAt.
var instanceChangeMembers = []string{"agentConnected", "attributes", "containerInstanceArn", "ec2InstanceId",
	"registeredResources", "remainingResources", "status", "version", "versionInfo"}

// publishInstanceChange publishes a container instance's state, in the
// transaction that changed it.
func (s *Service) publishInstanceChange(tx store.Tx, sc scope, ci containerInstance) error {
	view, err := s.instanceView(tx, sc, ci, false)
	if err != nil {
		return err
	}
	return s.publishChange(tx, sc, "ECS Container Instance State Change", ci.ARN, view, func(detail map[string]any) {
		maps.DeleteFunc(detail, func(member string, _ any) bool { return !slices.Contains(instanceChangeMembers, member) })
		detail["clusterArn"] = clusterARN(sc, ci.Cluster)
		// The event's resources leave out the values they do not have,
		// which the API shows as zeros.
		for _, member := range []string{"registeredResources", "remainingResources"} {
			resources, _ := detail[member].([]any)
			for _, r := range resources {
				if r, ok := r.(map[string]any); ok {
					maps.DeleteFunc(r, func(_ string, v any) bool { return isZero(v) })
				}
			}
		}
	})
}

// publishTaskChange publishes an "ECS Task State Change" event whose
// detail is the task as DescribeTasks shows it, in the transaction that
// changed it.
func (s *Service) publishTaskChange(tx store.Tx, sc scope, t *task) error {
	view := t.view(sc, false)
	return s.publishChange(tx, sc, "ECS Task State Change", t.ARN, &view, nil)
}

// publishChange publishes an event of the detail type about the resource
// arn, in the transaction tx. Its detail is view, a generated shape, as the
// API shows it, with edit's changes (when edit is set), timestamps in ISO
// 8601 and updatedAt.
func (s *Service) publishChange(tx store.Tx, sc scope, detailType, arn string, view any, edit func(detail map[string]any)) error {
	var detail map[string]any
	if err := json.Unmarshal(awsproto.EncodeJSON(view), &detail); err != nil {
		return err
	}
	if edit != nil {
		edit(detail)
	}
	isoTimes(detail)
	detail["updatedAt"] = s.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	// The transaction carries the event: Publish needs no context of its own.
	return s.Bus.Publish(context.Background(), tx, bus.Event{Source: "aws.ecs", Type: detailType,
		Account: sc.Account, Region: sc.Region, Resources: []string{arn}, Detail: b})
}

// isZero says whether v, a decoded JSON value, is 0 or an empty list.
func isZero(v any) bool {
	switch v := v.(type) {
	case float64:
		return v == 0
	case []any:
		return len(v) == 0
	}
	return false
}

// isoTimes rewrites the API's epoch-second timestamps (the members named
// "...At") as the ISO 8601 strings events carry.
func isoTimes(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if f, ok := x.(float64); ok && strings.HasSuffix(k, "At") {
				sec, frac := math.Modf(f)
				v[k] = time.Unix(int64(sec), int64(frac*1e9)).UTC().Format("2006-01-02T15:04:05.000Z")
				continue
			}
			isoTimes(x)
		}
	case []any:
		for _, x := range v {
			isoTimes(x)
		}
	}
}
