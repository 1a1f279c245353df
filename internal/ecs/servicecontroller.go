package ecs

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/ecs"
	"overcast/internal/bus"
	"overcast/internal/controller"
	"overcast/internal/ecs/agent"
	"overcast/internal/store"
)

// taskStateChanges are the events the task controller publishes; those of
// a service's tasks wake the service controller.
var taskStateChanges = bus.Pattern{Source: "aws.ecs", Types: []string{"ECS Task State Change"}}

// serviceKeysOfTask turns a task's state change into its service's key.
func serviceKeysOfTask(ev bus.Event) []string {
	var detail struct {
		Group      string `json:"group"`
		ClusterArn string `json:"clusterArn"`
	}
	if json.Unmarshal(ev.Detail, &detail) != nil || !strings.HasPrefix(detail.Group, "service:") {
		return nil
	}
	cluster := resourceName(detail.ClusterArn, "cluster")
	return []string{serviceKey(scope{Account: ev.Account, Region: ev.Region}, cluster, strings.TrimPrefix(detail.Group, "service:"))}
}

// instanceChanges are the events of container instances joining, leaving
// and draining: the services of their cluster look again (DAEMON ones run
// one task per instance; others leave draining ones).
var instanceChanges = bus.Pattern{Source: "aws.ecs", Types: []string{"ECS Container Instance State Change"}}

// serviceKeysOfInstance turns a container instance's change into the keys
// of its cluster's services.
func (s *Service) serviceKeysOfInstance(ev bus.Event) []string {
	var detail struct {
		ClusterArn string `json:"clusterArn"`
	}
	if json.Unmarshal(ev.Detail, &detail) != nil || detail.ClusterArn == "" {
		return nil
	}
	prefix := scope{Account: ev.Account, Region: ev.Region}.Key(resourceName(detail.ClusterArn, "cluster") + "/")
	keys, err := store.TableKeys(context.Background(), s.Store, servicesTable)
	if err != nil {
		return nil
	}
	var out []string
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

func (s *Service) serviceKeys(ctx context.Context) ([]string, error) {
	return store.TableKeys(ctx, s.Store, servicesTable)
}

// serviceTasks are a service's tasks that have not stopped, and what the
// circuit breaker counts: by deployment ID, the tasks that stopped before
// they ever ran or whose essential container exited.
type serviceTasks struct {
	active map[string][]task // by deployment ID, oldest first
	failed map[string]int
	// gone are the tasks that stopped in the last hour, whose targets the
	// service deregisters.
	gone []task
	// draining are the container instances being drained, by ARN.
	draining map[string]bool
}

func (s *Service) readServiceTasks(tx store.Tx, sc scope, sv *serviceRecord) (serviceTasks, error) {
	st := serviceTasks{active: map[string][]task{}, failed: map[string]int{}, draining: map[string]bool{}}
	group := serviceGroup(sv.Name)
	err := store.ScanJSON(tx, instancesTable, store.ScanOptions{Prefix: sc.Key(sv.Cluster + "/")}, func(_ string, ci containerInstance, _ int64) error {
		if ci.Status == statusDraining {
			st.draining[ci.ARN] = true
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	err = store.ScanJSON(tx, tasksTable, store.ScanOptions{Prefix: sc.Key(sv.Cluster + "/")}, func(_ string, t task, _ int64) error {
		if t.Group != group {
			return nil
		}
		if t.DesiredStatus != taskStopped {
			st.active[t.StartedBy] = append(st.active[t.StartedBy], t)
			return nil
		}
		st.gone = append(st.gone, t)
		if t.StopCode == agent.StopCodeTaskFailedToStart || t.StopCode == agent.StopCodeEssentialContainerExited {
			st.failed[t.StartedBy]++
		}
		return nil
	})
	for _, ts := range st.active {
		slices.SortFunc(ts, func(a, b task) int { return a.CreatedAt.Compare(b.CreatedAt) })
	}
	return st, err
}

// unprovenFor is how long ECS waits after a task without container health
// checks reaches RUNNING before it counts the task as healthy.
const unprovenFor = 40 * time.Second

// healthy says whether a service's task counts toward its healthy
// minimum: HEALTHY by its essential containers' health checks and healthy
// in its target groups; with neither kind of check, RUNNING for
// unprovenFor.
func healthy(t task, b *balancing, now time.Time) bool {
	if t.LastStatus != taskRunning {
		return false
	}
	for _, c := range t.Definition.ContainerDefinitions {
		if c.HealthCheck != nil && (c.Essential == nil || *c.Essential) && t.HealthStatus != "HEALTHY" {
			return false
		}
	}
	if len(b.lbs) > 0 {
		return b.healthy(t)
	}
	for _, c := range t.Definition.ContainerDefinitions {
		if c.HealthCheck != nil && (c.Essential == nil || *c.Essential) {
			return true
		}
	}
	return t.StartedAt != nil && now.Sub(*t.StartedAt) >= unprovenFor
}

// reconcileService keeps a service's tasks at its desired count and rolls
// its deployments: it starts tasks of the PRIMARY deployment up to the
// maximum percent, stops older deployments' tasks down to the minimum
// healthy percent, replaces tasks that stop, trips the circuit breaker and
// writes the service's events.
func (s *Service) reconcileService(ctx context.Context, key string) (controller.Result, error) {
	sc := taskScope(key)
	ctx = overcast.WithCaller(ctx, overcast.Caller{AccountID: sc.Account, Region: sc.Region})
	var sv serviceRecord
	var st serviceTasks
	var v int64
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if v, err = store.GetJSON(tx, servicesTable, key, &sv); err != nil {
			return err
		}
		st, err = s.readServiceTasks(tx, sc, &sv)
		return err
	})
	if isNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil || sv.Status == serviceInactive || len(sv.View.Deployments) == 0 {
		return controller.Result{}, err
	}
	now := s.Now().UTC()
	b, err := s.readBalancing(ctx, &sv)
	if err != nil {
		return controller.Result{}, err
	}
	stillDraining := false
	for _, t := range st.gone {
		done, err := s.drained(ctx, b, t)
		if err != nil {
			return controller.Result{}, err
		}
		if t.Draining && done {
			// Its targets are gone: the task goes on to STOPPING.
			err = s.changeTask(ctx, sc, t, func(cur *task) bool {
				was := cur.Draining
				cur.Draining = false
				return was
			})
			if err != nil {
				return controller.Result{}, err
			}
		}
		stillDraining = stillDraining || (t.Draining && !done)
	}
	primary := &sv.View.Deployments[0]
	desired := int(deref(sv.View.DesiredCount))
	if sv.Status == serviceDraining {
		desired = 0
	}
	daemon := deref(sv.View.SchedulingStrategy) == schedulingDaemon
	var daemonHosts []string
	if daemon && sv.Status == serviceActive {
		if daemonHosts, err = s.daemonHosts(ctx, sc, &sv); err != nil {
			return controller.Result{}, err
		}
		desired = len(daemonHosts)
		sv.View.DesiredCount, primary.DesiredCount = new(int32(desired)), new(int32(desired))
	}
	cfg := sv.View.DeploymentConfiguration
	maxTotal := desired * int(deref(cfg.MaximumPercent)) / 100
	minHealthy := int(math.Ceil(float64(desired) * float64(deref(cfg.MinimumHealthyPercent)) / 100))

	// The circuit breaker: enough of the PRIMARY deployment's tasks failed.
	if cb := cfg.DeploymentCircuitBreaker; cb != nil && deref(cb.Enable) && deref(primary.RolloutState) == rolloutInProgress {
		failed := st.failed[deref(primary.Id)]
		primary.FailedTasks = new(int32(failed))
		threshold := min(max(int(math.Ceil(0.5*float64(desired))), 10), 200)
		if failed >= threshold {
			primary.RolloutState = new(rolloutFailed)
			primary.RolloutStateReason = new("ECS deployment circuit breaker: tasks failed to start.")
			s.addEvent(&sv, "deployment %s deployment failed: tasks failed to start.", deref(primary.Id))
			if deref(cb.Rollback) {
				if last := lastCompleted(sv.View.Deployments[1:]); last != nil {
					sv.View.TaskDefinition = last.TaskDefinition
					primary.Status = new(deploymentActive)
					d := s.newDeployment(&sv, now)
					d.RolloutStateReason = new("ECS deployment circuit breaker: rolling back to deploymentId " + deref(last.Id) + ".")
					sv.View.Deployments = append(api.Deployments{d}, sv.View.Deployments...)
					s.addEvent(&sv, "rolling back to deployment %s.", deref(last.Id))
					primary = &sv.View.Deployments[0]
				}
			}
		}
	}

	active := 0
	healthyCount := 0
	for _, ts := range st.active {
		active += len(ts)
		for _, t := range ts {
			if healthy(t, b, now) {
				healthyCount++
			}
		}
	}
	// The PRIMARY's tasks on DRAINING instances leave as an older
	// deployment's do, replaced within the minimum and maximum.
	var primaryTasks, leaving []task
	for _, t := range st.active[deref(primary.Id)] {
		if st.draining[t.ContainerInstanceARN] {
			leaving = append(leaving, t)
		} else {
			primaryTasks = append(primaryTasks, t)
		}
	}
	var stops []task
	// retired are the tasks asked to stop in this pass; a task whose
	// targets are still draining is not, and still counts.
	retired := map[string]bool{}
	var stopReason string
	// Older deployments give way, down to the minimum healthy.
	giving := [][]task{leaving}
	for _, d := range sv.View.Deployments[1:] {
		giving = append(giving, st.active[deref(d.Id)])
	}
	protected := 0 // tasks that would stop but for their scale-in protection
	for _, ts := range giving {
		for _, t := range ts {
			if t.protected(now) {
				protected++
				continue
			}
			if healthy(t, b, now) {
				if healthyCount-1 < minHealthy {
					continue
				}
				healthyCount--
			}
			stops = append(stops, t)
		}
	}
	stopReason = "Scaling activity initiated by (deployment " + deref(primary.Id) + ")"
	// Too many of the PRIMARY's: stop the newest, unhealthy ones first.
	if extra := len(primaryTasks) - desired; extra > 0 && !daemon {
		byPreference := slices.DeleteFunc(slices.Clone(primaryTasks), func(t task) bool { return t.protected(now) })
		if len(byPreference) < extra {
			protected += extra - len(byPreference)
			extra = len(byPreference)
		}
		slices.SortStableFunc(byPreference, func(x, y task) int {
			if healthy(x, b, now) == healthy(y, b, now) {
				return 0
			}
			if healthy(y, b, now) {
				return -1
			}
			return 1
		})
		stops = append(stops, byPreference[:extra]...)
	}
	if protected > 0 {
		s.addEvent(&sv, "was unable to scale in due to (reason: %d tasks under protection).", protected)
	}
	// A task its container health checks or its target groups find
	// unhealthy (after the grace period) is replaced.
	grace := time.Duration(deref(sv.View.HealthCheckGracePeriodSeconds)) * time.Second
	for _, t := range primaryTasks {
		if t.LastStatus != taskRunning || slices.ContainsFunc(stops, func(x task) bool { return x.ARN == t.ARN }) {
			continue
		}
		reason := ""
		if t.HealthStatus == "UNHEALTHY" {
			reason = "Task failed container health checks"
		} else if tg := b.failedELB(t, grace, now); tg != "" {
			reason = "Task failed ELB health checks in (target-group " + tg + ")"
		}
		if reason == "" {
			continue
		}
		if done, err := s.retire(ctx, sc, b, t, reason); err != nil {
			return controller.Result{}, err
		} else if done {
			s.addEvent(&sv, "has stopped 1 running tasks: (task %s).", t.ID)
			retired[t.ARN] = true
			active--
		}
	}
	if daemon {
		for _, t := range primaryTasks {
			if !slices.Contains(daemonHosts, t.ContainerInstanceARN) {
				stops = append(stops, t)
			}
		}
	}
	for _, t := range stops {
		done, err := s.retire(ctx, sc, b, t, stopReason)
		if err != nil {
			return controller.Result{}, err
		}
		if done {
			retired[t.ARN] = true
			active--
		}
	}
	for _, ts := range st.active {
		for _, t := range ts {
			if retired[t.ARN] || (t.LastStatus != taskRunning && t.LastStatus != taskActivating) {
				continue
			}
			if err := s.registerTargets(ctx, b, t); err != nil {
				s.addEvent(&sv, "was unable to register targets: %s", err.Error())
				continue
			}
			if t.LastStatus == taskActivating {
				// Registered: the task is RUNNING.
				err := s.changeTask(ctx, sc, t, func(cur *task) bool {
					if cur.Activated || cur.LastStatus != taskActivating {
						return false
					}
					cur.Activated, cur.LastStatus = true, taskRunning
					return true
				})
				if err != nil {
					return controller.Result{}, err
				}
			}
		}
	}

	// The PRIMARY's missing tasks start, within the maximum.
	if sv.Status == serviceActive {
		if daemon {
			have := map[string]bool{}
			for _, t := range primaryTasks {
				have[t.ContainerInstanceARN] = true
			}
			var missing []string
			for _, h := range daemonHosts {
				if !have[h] {
					missing = append(missing, h)
				}
			}
			for len(missing) > 0 {
				n := min(len(missing), maxRunCount)
				s.startServiceTasks(ctx, sc, &sv, primary, launch{launchType: sv.LaunchType, count: n, instances: missing[:n]})
				missing = missing[n:]
			}
		} else if n := min(desired-len(primaryTasks), maxTotal-active, maxRunCount); n > 0 && deref(primary.RolloutState) != rolloutFailed {
			l := launch{launchType: sv.LaunchType, count: n, constraints: sv.View.PlacementConstraints, strategies: serviceStrategies(&sv)}
			if len(sv.View.CapacityProviderStrategy) > 0 {
				l.capacity = &capacityPlan{strategy: sv.View.CapacityProviderStrategy}
			}
			s.startServiceTasks(ctx, sc, &sv, primary, l)
		}
	}

	// Counts, and the end of deployments whose tasks are all gone.
	running, pending := 0, 0
	kept := sv.View.Deployments[:1]
	for i := range sv.View.Deployments {
		d := &sv.View.Deployments[i]
		r, p := 0, 0
		for _, t := range st.active[deref(d.Id)] {
			if retired[t.ARN] {
				continue
			}
			if t.LastStatus == taskRunning {
				r++
			} else {
				p++
			}
		}
		d.RunningCount, d.PendingCount = new(int32(r)), new(int32(p))
		running, pending = running+r, pending+p
		if i > 0 && r+p > 0 {
			kept = append(kept, *d)
		}
	}
	sv.View.Deployments = kept
	primary = &sv.View.Deployments[0]
	sv.View.RunningCount, sv.View.PendingCount = new(int32(running)), new(int32(pending))

	primaryHealthy := 0
	for _, t := range st.active[deref(primary.Id)] {
		if healthy(t, b, now) {
			primaryHealthy++
		}
	}
	steady := len(sv.View.Deployments) == 1 && running == desired && pending == 0 && primaryHealthy == desired
	if steady && deref(primary.RolloutState) == rolloutInProgress {
		primary.RolloutState = new(rolloutCompleted)
		primary.RolloutStateReason = new("ECS deployment " + deref(primary.Id) + " completed.")
		s.addEvent(&sv, "deployment %s deployment completed.", deref(primary.Id))
	}
	if steady && !sv.Steady {
		s.addEvent(&sv, "has reached a steady state.")
	}
	sv.Steady = steady
	if sv.Status == serviceDraining && running+pending == 0 && !stillDraining {
		sv.Status, sv.View.Status = serviceInactive, new(serviceInactive)
	}
	primary.UpdatedAt = new(now)
	err = s.update(ctx, func(tx store.Tx) error {
		var cur serviceRecord
		cv, err := store.GetJSON(tx, servicesTable, key, &cur)
		if err != nil {
			return err
		}
		if cv != v {
			return errServiceChanged
		}
		_, err = store.PutJSON(tx, servicesTable, key, sv, v)
		return err
	})
	if err == errServiceChanged {
		return controller.Result{Requeue: true}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if steady || sv.Status == serviceInactive {
		return controller.Result{RequeueAfter: 30 * time.Second}, nil
	}
	return controller.Result{RequeueAfter: time.Second}, nil
}

// errServiceChanged: the record changed while the controller worked (an
// UpdateService); it looks again.
var errServiceChanged = errors.New("ecs: the service changed")

// lastCompleted is the newest deployment that completed, for a rollback.
func lastCompleted(ds api.Deployments) *api.Deployment {
	for i := range ds {
		if deref(ds[i].RolloutState) == rolloutCompleted {
			return &ds[i]
		}
	}
	return nil
}

// serviceStrategies are the service's placement strategies; a REPLICA
// service on EC2 without any spreads its tasks over Availability Zones
// (Fargate spreads them over its subnets instead).
func serviceStrategies(sv *serviceRecord) api.PlacementStrategies {
	if len(sv.View.PlacementStrategy) > 0 || sv.LaunchType == launchFargate {
		return sv.View.PlacementStrategy
	}
	return api.PlacementStrategies{{Type: new("spread"), Field: new("attribute:ecs.availability-zone")}}
}

// startServiceTasks runs tasks of a deployment; what cannot be placed is
// a service event.
func (s *Service) startServiceTasks(ctx context.Context, sc scope, sv *serviceRecord, d *api.Deployment, l launch) {
	network := d.NetworkConfiguration
	if network != nil && network.AwsvpcConfiguration != nil && len(network.AwsvpcConfiguration.Subnets) > 1 && l.count > 1 {
		// An awsvpc task takes the first subnet: one at a time, each in
		// the next subnet, the tasks spread over the subnets' zones.
		count := l.count
		l.count = 1
		for range count {
			s.startServiceTasks(ctx, sc, sv, d, l)
		}
		return
	}
	if network != nil && network.AwsvpcConfiguration != nil && len(network.AwsvpcConfiguration.Subnets) > 1 {
		n, vpc := *network, *network.AwsvpcConfiguration
		sv.Launched++
		i := sv.Launched % len(vpc.Subnets)
		vpc.Subnets = append(slices.Clone(vpc.Subnets[i:]), vpc.Subnets[:i]...)
		n.AwsvpcConfiguration = &vpc
		network = &n
	}
	propagate := deref(sv.View.PropagateTags)
	var tags api.Tags
	if propagate == "SERVICE" {
		tags = sv.View.Tags
	}
	out, err := s.run(ctx, runRequest{cluster: new(sv.Cluster), definition: deref(d.TaskDefinition), group: new(serviceGroup(sv.Name)),
		startedBy: d.Id, network: network, tags: tags, propagate: &propagate, execCommand: sv.View.EnableExecuteCommand,
		balanced: len(sv.View.LoadBalancers) > 0 && s.loadBalancers != nil}, l)
	if err != nil {
		s.addEvent(sv, "was unable to place a task: %s", err.Error())
		return
	}
	if len(out.Failures) > 0 {
		reasons := make([]string, 0, len(out.Failures))
		for _, f := range out.Failures {
			reasons = append(reasons, deref(f.Reason))
		}
		s.addEvent(sv, "was unable to place a task because no container instance met all of its requirements. Reasons: %s.",
			strings.Join(slices.Compact(reasons), ", "))
	}
	for _, t := range out.Tasks {
		arn := deref(t.TaskArn)
		s.addEvent(sv, "has started 1 tasks: (task %s).", arn[strings.LastIndex(arn, "/")+1:])
	}
}

// retire stops one of the service's tasks: one behind load balancers is
// DEACTIVATING (Draining) while its targets deregister, then stops.
func (s *Service) retire(ctx context.Context, sc scope, b *balancing, t task, reason string) (bool, error) {
	done, err := s.drained(ctx, b, t)
	if err != nil {
		return false, err
	}
	return true, s.stopServiceTask(ctx, sc, t, reason, !done)
}

// stopServiceTask asks one of the service's tasks to stop, after its
// targets have drained when draining.
func (s *Service) stopServiceTask(ctx context.Context, sc scope, t task, reason string, draining bool) error {
	return s.changeTask(ctx, sc, t, func(cur *task) bool {
		if cur.DesiredStatus == taskStopped {
			return false
		}
		cur.DesiredStatus, cur.StopCode, cur.StoppedReason, cur.Draining = taskStopped, "ServiceSchedulerInitiated", reason, draining
		return true
	})
}

// changeTask applies change to a task's record, saves it if change says
// so, and wakes the task controller.
func (s *Service) changeTask(ctx context.Context, sc scope, t task, change func(*task) bool) error {
	key := taskKey(sc, t.Cluster, t.ID)
	err := s.update(ctx, func(tx store.Tx) error {
		cur, v, err := s.readTask(tx, key)
		if err != nil || !change(&cur) {
			return err
		}
		_, err = s.putTask(tx, sc, key, &cur, v)
		return err
	})
	if isNotFound(err) {
		return nil
	}
	if err == nil {
		enqueue(s.tasks, key)
	}
	return err
}

// daemonHosts are the container instance ARNs a DAEMON service runs one
// task on: the cluster's ACTIVE instances that meet its constraints.
func (s *Service) daemonHosts(ctx context.Context, sc scope, sv *serviceRecord) ([]string, error) {
	var hosts []string
	err := s.Store.View(ctx, func(tx store.Tx) error {
		// Every memberOf constraint must hold, as in placement.
		var matches []func(store.Tx, scope, containerInstance) bool
		for _, c := range sv.View.PlacementConstraints {
			if deref(c.Type) == "memberOf" {
				m, err := compileInstanceFilter(deref(c.Expression))
				if err != nil {
					return err
				}
				matches = append(matches, m)
			}
		}
		return store.ScanJSON(tx, instancesTable, store.ScanOptions{Prefix: sc.Key(sv.Cluster + "/")}, func(_ string, ci containerInstance, _ int64) error {
			if ci.Status == statusActive && !slices.ContainsFunc(matches, func(m func(store.Tx, scope, containerInstance) bool) bool { return !m(tx, sc, ci) }) {
				hosts = append(hosts, ci.ARN)
			}
			return nil
		})
	})
	return hosts, err
}
