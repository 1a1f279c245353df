package ecs

import (
	"context"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/ecs"
	"overcast/internal/store"
)

// taskProtection is a service task's scale-in protection: while it lasts,
// the service neither scales the task in nor replaces it in a deployment.
type taskProtection struct {
	Expires time.Time `json:"expires"`
}

// protected says whether the task is protected at now.
func (t *task) protected(now time.Time) bool {
	return t.Protection != nil && now.Before(t.Protection.Expires)
}

const (
	// defaultProtection is how long protection lasts when the request
	// does not say; maxProtectionMinutes the longest it may ask for.
	defaultProtection    = 2 * time.Hour
	maxProtectionMinutes = 2880
	maxProtectedTasks    = 10
)

// UpdateTaskProtection protects service tasks from scale-in (or ends it).
func (s *Service) UpdateTaskProtection(ctx context.Context, in *api.UpdateTaskProtectionRequest) (*api.UpdateTaskProtectionResponse, error) {
	if len(in.Tasks) == 0 || len(in.Tasks) > maxProtectedTasks {
		return nil, invalidParameter("Number of tasks must be between 1 and 10.")
	}
	lasts := defaultProtection
	if m := in.ExpiresInMinutes; m != nil {
		if *m < 1 || *m > maxProtectionMinutes {
			return nil, invalidParameter("expiresInMinutes must be between 1 and 2880.")
		}
		lasts = time.Duration(*m) * time.Minute
	}
	enable := deref(in.ProtectionEnabled)
	now := s.Now().UTC()
	sc := overcast.ScopeOf(ctx)
	out := &api.UpdateTaskProtectionResponse{ProtectedTasks: api.ProtectedTasks{}, Failures: api.Failures{}}
	err := s.update(ctx, func(tx store.Tx) error {
		out.ProtectedTasks, out.Failures = api.ProtectedTasks{}, api.Failures{}
		return s.eachProtectable(tx, sc, in.Cluster, in.Tasks, &out.Failures, func(key string, t *task, v int64) error {
			t.Protection = nil
			if enable {
				t.Protection = &taskProtection{Expires: now.Add(lasts)}
			}
			if _, err := s.putTask(tx, sc, key, t, v); err != nil {
				return err
			}
			out.ProtectedTasks = append(out.ProtectedTasks, t.protectionView(now))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetTaskProtection tells the protection of service tasks.
func (s *Service) GetTaskProtection(ctx context.Context, in *api.GetTaskProtectionRequest) (*api.GetTaskProtectionResponse, error) {
	if len(in.Tasks) > maxProtectedTasks {
		return nil, invalidParameter("Number of tasks must be between 1 and 10.")
	}
	now := s.Now().UTC()
	sc := overcast.ScopeOf(ctx)
	out := &api.GetTaskProtectionResponse{ProtectedTasks: api.ProtectedTasks{}, Failures: api.Failures{}}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return s.eachProtectable(tx, sc, in.Cluster, in.Tasks, &out.Failures, func(_ string, t *task, _ int64) error {
			out.ProtectedTasks = append(out.ProtectedTasks, t.protectionView(now))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachProtectable calls fn with each task refs names that protection
// applies to; the others are failures, as ECS words them: MISSING for a
// task that does not exist, TASK_NOT_VALID for one outside a service.
func (s *Service) eachProtectable(tx store.Tx, sc scope, clusterRef *string, refs []string, failures *api.Failures,
	fn func(key string, t *task, v int64) error) error {
	if _, _, err := s.activeCluster(tx, sc, clusterRef); err != nil {
		return err
	}
	for _, ref := range refs {
		cluster, id := taskRef(clusterRef, ref)
		key := taskKey(sc, cluster, id)
		t, v, err := s.readTask(tx, key)
		arn := taskARN(sc, cluster, id)
		switch {
		case isNotFound(err):
			*failures = append(*failures, missing(arn))
			continue
		case err != nil:
			return err
		case !strings.HasPrefix(t.Group, serviceGroup("")):
			*failures = append(*failures, api.Failure{Arn: new(arn), Reason: new("TASK_NOT_VALID"),
				Detail: new("The task is not part of a service.")})
			continue
		}
		if err := fn(key, &t, v); err != nil {
			return err
		}
	}
	return nil
}

func (t *task) protectionView(now time.Time) api.ProtectedTask {
	v := api.ProtectedTask{TaskArn: new(t.ARN), ProtectionEnabled: new(t.protected(now))}
	if t.protected(now) {
		v.ExpirationDate = new(t.Protection.Expires)
	}
	return v
}
