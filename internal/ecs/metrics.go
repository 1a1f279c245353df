package ecs

import (
	"context"
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

// containerStats reads a container's usage; docker.Engine does.
type containerStats interface {
	ContainerStats(ctx context.Context, id string) (docker.Stats, error)
}

// usageMeter turns containers' cumulative CPU time into use over the
// minute, remembering each container's last sample.
type usageMeter struct {
	stats containerStats
	last  map[string]docker.Stats // by container ID
}

// taskUsage is a task's use of what it reserves, in percent.
type taskUsage struct{ cpu, memory float64 }

// measure reads a running task's containers: CPU over the time since the
// last sample against the task's CPU units, memory against its memory;
// ok is false until there is a previous sample or without a reservation.
func (m *usageMeter) measure(ctx context.Context, t task) (u taskUsage, cpuOK, memOK bool) {
	var cpuUnits, memBytes float64
	sampled := true
	for _, c := range t.Containers {
		id := deref(c.RuntimeId)
		if id == "" {
			continue
		}
		cur, err := m.stats.ContainerStats(ctx, id)
		if err != nil {
			sampled = false
			continue
		}
		prev, seen := m.last[id]
		m.last[id] = cur
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
	seen := map[string]bool{}
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
				for _, c := range t.Containers {
					seen[deref(c.RuntimeId)] = true
				}
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
	for id := range s.meter.last {
		if !seen[id] {
			delete(s.meter.last, id) // a container that is gone
		}
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
