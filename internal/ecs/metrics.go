package ecs

import (
	"cmp"
	"context"
	"errors"
	"time"

	"overcast/internal/docker"
	"overcast/internal/store"
)

// Metrics receives the AWS/ECS metrics ECS publishes each minute; the app
// adapts CloudWatch to it.
type Metrics interface {
	PutECSMetrics(ctx context.Context, account, region string, points []MetricPoint) error
}

// MetricPoint is one AWS/ECS datapoint: CPUUtilization or
// MemoryUtilization, in percent, of a service (ClusterName and
// ServiceName) or a cluster (ServiceName empty), with the minimum and
// maximum over its tasks.
type MetricPoint struct {
	Name                      string
	ClusterName, ServiceName  string
	Average, Minimum, Maximum float64
	Tasks                     int
}

// containerStats reads a container's usage; docker.Engine does, and
// dockerHost does for its engine.
type containerStats interface {
	ContainerStats(ctx context.Context, id string) (docker.Stats, error)
}

// statsTimeout bounds one container's stats read: an engine that hangs
// rather than refuses is skipped for the minute like one that is down.
const statsTimeout = 10 * time.Second

// usageMeter turns containers' cumulative CPU time into use over the
// minute, remembering each container's last sample. A task's containers
// are read on the engine the task runs on.
type usageMeter struct {
	// engines reads containers on each engine tasks run on, by the name
	// task records give it (dockerHost.name); first is the engine of
	// records that name none.
	engines map[string]containerStats
	first   string
	last    map[sample]docker.Stats

	// What one minute's measuring (begin to forget) found: the
	// containers of running tasks, and the engines that did not answer,
	// skipped for the rest of the minute.
	seen map[sample]bool
	down map[string]bool
}

// sample names a container by its engine too: IDs are the engines' own.
type sample struct{ engine, container string }

func newUsageMeter(first string, engines map[string]containerStats) *usageMeter {
	return &usageMeter{engines: engines, first: first, last: map[sample]docker.Stats{}}
}

// taskUsage is a task's use of what it reserves, in percent.
type taskUsage struct{ cpu, memory float64 }

// begin starts a minute's measuring.
func (m *usageMeter) begin() {
	m.seen, m.down = map[sample]bool{}, map[string]bool{}
}

// forget drops the samples of containers no running task has any more,
// once a minute's measuring is done.
func (m *usageMeter) forget() {
	for k := range m.last {
		if !m.seen[k] {
			delete(m.last, k)
		}
	}
}

// measure reads a running task's containers on its engine: CPU over the
// time since the last sample against the task's CPU units, memory against
// its memory. cpuOK is false until there is a previous sample, and either
// is false without its reservation; neither is ok when the task's engine
// does not answer, or is not one overcast runs with.
func (m *usageMeter) measure(ctx context.Context, t task) (u taskUsage, cpuOK, memOK bool) {
	engine := cmp.Or(t.Engine, m.first)
	for _, c := range t.Containers {
		if id := deref(c.RuntimeId); id != "" {
			// Seen even when not read: an engine down for a minute keeps
			// its samples, and CPU is then measured over two minutes.
			m.seen[sample{engine, id}] = true
		}
	}
	stats := m.engines[engine]
	if stats == nil || m.down[engine] {
		return u, false, false
	}
	var cpuUnits, memBytes float64
	sampled := true
	for _, c := range t.Containers {
		id := deref(c.RuntimeId)
		if id == "" {
			continue
		}
		readCtx, cancel := context.WithTimeout(ctx, statsTimeout)
		cur, err := stats.ContainerStats(readCtx, id)
		cancel()
		if err != nil {
			if errors.Is(err, docker.ErrUnavailable) || (errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil) {
				m.down[engine] = true
				return taskUsage{}, false, false
			}
			sampled = false
			continue
		}
		key := sample{engine, id}
		prev, seen := m.last[key]
		m.last[key] = cur
		memBytes += float64(cur.MemoryBytes)
		if !seen || !cur.Read.After(prev.Read) {
			sampled = false
			continue
		}
		vcpus := float64(cur.CPUNanos-prev.CPUNanos) / float64(cur.Read.Sub(prev.Read).Nanoseconds())
		cpuUnits += vcpus * 1024
	}
	if t.CPU > 0 && sampled {
		u.cpu, cpuOK = 100*cpuUnits/float64(t.CPU), true
	}
	if t.Memory > 0 {
		u.memory, memOK = 100*memBytes/float64(t.Memory<<20), true
	}
	return u, cpuOK, memOK
}

// aggregate is a series' average, minimum and maximum.
type aggregate struct {
	sum, min, max float64
	n             int
}

func (a *aggregate) add(v float64) {
	if a.n == 0 || v < a.min {
		a.min = v
	}
	if a.n == 0 || v > a.max {
		a.max = v
	}
	a.sum += v
	a.n++
}

func (a aggregate) point(name, cluster, service string) MetricPoint {
	return MetricPoint{Name: name, ClusterName: cluster, ServiceName: service, Average: a.sum / float64(a.n), Minimum: a.min, Maximum: a.max, Tasks: a.n}
}

// publishMetrics measures every service's running tasks and publishes
// their CPU and memory utilization, per service and per cluster.
func (s *Service) publishMetrics(ctx context.Context) error {
	type series struct{ cpu, memory aggregate }
	byScope := map[scope]map[[2]string]*series{} // by scope, then cluster and service ("" for the cluster)
	var services []serviceRecord
	var keys []string
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, servicesTable, store.ScanOptions{}, func(key string, sv serviceRecord, _ int64) error {
			if sv.Status == serviceActive {
				services, keys = append(services, sv), append(keys, key)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	s.meter.begin()
	for i, sv := range services {
		sc := taskScope(keys[i])
		var st serviceTasks
		if err := s.Store.View(ctx, func(tx store.Tx) error {
			var err error
			st, err = s.readServiceTasks(tx, sc, &sv)
			return err
		}); err != nil {
			return err
		}
		if byScope[sc] == nil {
			byScope[sc] = map[[2]string]*series{}
		}
		for _, ts := range st.active {
			for _, t := range ts {
				if t.LastStatus != taskRunning {
					continue
				}
				u, cpuOK, memOK := s.meter.measure(ctx, t)
				for _, k := range [][2]string{{sv.Cluster, sv.Name}, {sv.Cluster, ""}} {
					se := byScope[sc][k]
					if se == nil {
						se = &series{}
						byScope[sc][k] = se
					}
					if cpuOK {
						se.cpu.add(u.cpu)
					}
					if memOK {
						se.memory.add(u.memory)
					}
				}
			}
		}
	}
	s.meter.forget()
	for engine := range s.meter.down {
		s.Logger.Warn("ecs: a Docker engine's task stats could not be read; its tasks are left out of this minute's metrics", "host", engine)
	}
	for sc, all := range byScope {
		var points []MetricPoint
		for k, se := range all {
			if se.cpu.n > 0 {
				points = append(points, se.cpu.point("CPUUtilization", k[0], k[1]))
			}
			if se.memory.n > 0 {
				points = append(points, se.memory.point("MemoryUtilization", k[0], k[1]))
			}
		}
		if len(points) == 0 {
			continue
		}
		if err := s.metrics.PutECSMetrics(ctx, sc.Account, sc.Region, points); err != nil {
			return err
		}
	}
	return nil
}

// metricsEvery is how often ECS publishes its metrics, as on AWS.
const metricsEvery = time.Minute
