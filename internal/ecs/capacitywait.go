package ecs

import (
	"context"
	"encoding/json"
	"time"

	api "overcast/internal/api/ecs"
	"overcast/internal/bus"
	"overcast/internal/controller"
	"overcast/internal/ecs/agent"
	"overcast/internal/store"
)

const (
	// capacityWait is how long a task of an Auto Scaling group provider
	// with managed scaling waits in PROVISIONING for an instance to run
	// on; then it stops, as ECS's do.
	capacityWait = 30 * time.Minute
	// capacityRecheck is how often a waiting task looks again when no
	// container instance change has woken it first.
	capacityRecheck = 10 * time.Second
	// reasonNoCapacity is the stopped reason of a task that waited
	// capacityWait in vain.
	reasonNoCapacity = "Task stopped because its capacity provider had no container instance with room for it"
)

// awaitingCapacity reports whether a task waits for its Auto Scaling group
// provider to have an instance to run on.
func (t *task) awaitingCapacity() bool {
	return t.LastStatus == taskProvisioning && t.LaunchType == launchEC2 && t.ContainerInstance == "" && t.CapacityProvider != ""
}

// placeAwaiting tries again to place a task waiting for capacity; it
// wakes its provider's managed scaling while it cannot, and stops after
// capacityWait.
func (s *Service) placeAwaiting(ctx context.Context, sc scope, key string, t task, v int64) (controller.Result, error) {
	if s.Now().Sub(t.CreatedAt) >= capacityWait {
		t.DesiredStatus, t.StopCode, t.StoppedReason = taskStopped, agent.StopCodeTaskFailedToStart, reasonNoCapacity
		return controller.Result{Requeue: true}, s.saveTask(ctx, sc, key, &t, &v)
	}
	l := launch{launchType: launchEC2, count: 1,
		capacity: &capacityPlan{strategy: api.CapacityProviderStrategy{{CapacityProvider: new(t.CapacityProvider)}}}}
	if err := s.planCapacity(ctx, sc, &l); err != nil {
		return controller.Result{}, err
	}
	placed := false
	err := s.update(ctx, func(tx store.Tx) error {
		// Its Version, not the record's: a tag write in between changes
		// nothing placement planned for.
		cur, cv, err := s.readTask(tx, key)
		if err != nil || cur.Version != t.Version || !cur.awaitingCapacity() {
			return err
		}
		hosts, _, err := s.placeTasks(tx, sc, cur.Cluster, &cur, l)
		if err != nil || len(hosts) == 0 || hosts[0].key == "" {
			return err
		}
		hosts[0].assign(&cur)
		if !cur.awsvpc() {
			cur.LastStatus = taskPending
		}
		placed = true
		_, err = s.putTask(tx, sc, key, &cur, cv)
		return err
	})
	if err != nil || placed {
		return controller.Result{Requeue: true}, err
	}
	if s.scaling != nil {
		s.scaling.Enqueue(sc.Key(t.CapacityProvider))
	}
	return controller.After(capacityRecheck), nil
}

// awaitingTaskKeys turns a container instance's change into the keys of
// the tasks of its cluster waiting for capacity.
func (s *Service) awaitingTaskKeys(ev bus.Event) []string {
	var detail struct {
		ClusterArn string `json:"clusterArn"`
	}
	if json.Unmarshal(ev.Detail, &detail) != nil || detail.ClusterArn == "" {
		return nil
	}
	sc := scope{Account: ev.Account, Region: ev.Region}
	var keys []string
	_ = s.Store.View(context.Background(), func(tx store.Tx) error {
		return store.ScanJSON(tx, tasksTable, store.ScanOptions{Prefix: sc.Key(resourceName(detail.ClusterArn, "cluster") + "/")},
			func(key string, t task, _ int64) error {
				if t.awaitingCapacity() {
					keys = append(keys, key)
				}
				return nil
			})
	})
	return keys
}
