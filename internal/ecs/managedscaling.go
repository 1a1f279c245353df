package ecs

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	api "overcast/internal/api/ecs"
	"overcast/internal/controller"
	"overcast/internal/store"
)

// ScalingMetrics receives the AWS/ECS/ManagedScaling metric managed
// scaling computes for each capacity provider; the Metrics the app hands
// ECS implements it too.
type ScalingMetrics interface {
	PutCapacityProviderReservation(ctx context.Context, account, region, cluster, provider string, percent float64) error
}

// scalingEvery is how often managed scaling looks at a provider when
// nothing wakes it first: ECS's metric is per minute.
const scalingEvery = time.Minute

// providerReservation is ECS's CapacityProviderReservation, in percent: M, the
// instances the provider's tasks need (the running ones' and the waiting
// ones'), over N, the instances its group has. With no instance it is 100
// when nothing is needed either, and 200 when something is: scale out from
// zero.
func providerReservation(m, n int) float64 {
	switch {
	case n == 0 && m == 0:
		return 100
	case n == 0:
		return 200
	}
	return 100 * float64(m) / float64(n)
}

// scaledCapacity is the desired capacity managed scaling sets: enough
// instances that the needed ones make targetCapacity percent of them.
// Scale out moves by at least minimumScalingStepSize and at most
// maximumScalingStepSize; scale in (which the step sizes do not bound)
// goes to the target at once. The group's min and max bound both.
func scaledCapacity(m, desired, groupMin, groupMax int, ms api.ManagedScaling) int {
	target := max(1, int(deref(ms.TargetCapacity)))
	want := (m*100 + target - 1) / target
	switch {
	case want > desired:
		step := min(max(want-desired, int(deref(ms.MinimumScalingStepSize))), int(deref(ms.MaximumScalingStepSize)))
		return min(desired+step, groupMax)
	case want < desired:
		return max(want, groupMin)
	}
	return desired
}

// groupUsage is what managed scaling reads of a provider's cluster: the
// group's container instances, which of them run tasks, and what the
// tasks waiting for the provider ask.
type groupUsage struct {
	// idle are the EC2 IDs of the group's container instances that run
	// no task: the ones scale in may terminate.
	idle []string
	busy int
	// size is the largest CPU and memory a group instance registered:
	// how many waiting tasks a new instance will take.
	size    reservation
	waiting []reservation
	// waitingKeys are the waiting tasks' keys.
	waitingKeys []string
}

// needed is M: the busy instances, plus the new ones the waiting tasks
// fill, first fit, each the size of the group's (one task each before
// any instance has registered).
func (u groupUsage) needed() int {
	var bins []reservation
	for _, w := range u.waiting {
		i := slices.IndexFunc(bins, func(b reservation) bool { return b.CPU >= w.CPU && b.Memory >= w.Memory })
		if i < 0 || u.size.CPU == 0 {
			bins = append(bins, u.size)
			i = len(bins) - 1
		}
		bins[i].CPU -= w.CPU
		bins[i].Memory -= w.Memory
	}
	return u.busy + len(bins)
}

func readGroupUsage(tx store.Tx, sc scope, cluster, provider string, members []string) (groupUsage, error) {
	var u groupUsage
	byKey := map[string]string{} // container instance key → EC2 ID
	err := store.ScanJSON(tx, instancesTable, store.ScanOptions{Prefix: sc.Key(cluster + "/")}, func(_ string, ci containerInstance, _ int64) error {
		if ci.Status != statusInactive && slices.Contains(members, ci.EC2InstanceID) {
			byKey[instanceKey(sc, ci.Cluster, ci.ID)] = ci.EC2InstanceID
			u.size.CPU, u.size.Memory = max(u.size.CPU, ci.CPU), max(u.size.Memory, ci.Memory)
		}
		return nil
	})
	if err != nil {
		return u, err
	}
	busy := map[string]bool{}
	err = store.ScanJSON(tx, tasksTable, store.ScanOptions{Prefix: sc.Key(cluster + "/")}, func(key string, t task, _ int64) error {
		switch {
		case t.LastStatus == taskStopped:
		case t.awaitingCapacity() && t.CapacityProvider == provider:
			u.waiting = append(u.waiting, t.reservation)
			u.waitingKeys = append(u.waitingKeys, key)
		case byKey[t.ContainerInstance] != "":
			busy[t.ContainerInstance] = true
		}
		return nil
	})
	u.busy = len(busy)
	for key, id := range byKey {
		if !busy[key] {
			u.idle = append(u.idle, id)
		}
	}
	slices.Sort(u.idle)
	return u, err
}

// reconcileScaling is managed scaling for one provider: it computes and
// publishes its CapacityProviderReservation and moves its group's desired
// capacity toward targetCapacity. ECS does this through a target tracking
// policy on the group; overcast sets the group's desired capacity itself,
// within the group's min and max, which comes to the same. Scale in
// terminates only instances that run no task, so instances with tasks are
// protected whatever managedTerminationProtection says.
func (s *Service) reconcileScaling(ctx context.Context, key string) (controller.Result, error) {
	sc := taskScope(key)
	name := strings.TrimPrefix(key, sc.Prefix())
	var p capacityProvider
	var cluster string
	err := s.Store.View(ctx, func(tx store.Tx) error {
		if _, err := store.GetJSON(tx, capacityProvidersTable, key, &p); err != nil {
			return err
		}
		clusterOf, err := providerClusters(tx, sc)
		cluster = clusterOf[name]
		return err
	})
	if isNotFound(err) || (err == nil && (p.Deleted != nil || !p.managed())) {
		return controller.Result{}, nil
	}
	if err != nil || cluster == "" || s.groups == nil {
		return controller.After(scalingEvery), err
	}
	g, err := s.groups.Group(ctx, sc.Account, sc.Region, p.GroupARN)
	if errors.Is(err, ErrGroupNotFound) {
		return controller.After(scalingEvery), nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	var u groupUsage
	err = s.Store.View(ctx, func(tx store.Tx) (err error) {
		u, err = readGroupUsage(tx, sc, cluster, name, g.Instances)
		return err
	})
	if err != nil {
		return controller.Result{}, err
	}
	if len(u.idle) > 0 && s.tasks != nil {
		// Instances without tasks while tasks wait: they look again.
		s.tasks.Enqueue(u.waitingKeys...)
	}
	m := u.needed()
	if pub, ok := s.metrics.(ScalingMetrics); ok {
		if err := pub.PutCapacityProviderReservation(ctx, sc.Account, sc.Region, cluster, name, providerReservation(m, len(g.Instances))); err != nil {
			s.Logger.Warn("publishing CapacityProviderReservation", "provider", name, "err", err)
		}
	}
	switch desired := scaledCapacity(m, g.Desired, g.Min, g.Max, p.Scaling); {
	case desired > g.Desired:
		err = s.groups.SetDesiredCapacity(ctx, sc.Account, sc.Region, g.Name, desired)
	case desired < g.Desired:
		for _, id := range u.idle[:min(len(u.idle), g.Desired-desired)] {
			if err = s.groups.TerminateInstance(ctx, sc.Account, sc.Region, id); err != nil {
				break
			}
		}
	}
	return controller.After(scalingEvery), err
}
