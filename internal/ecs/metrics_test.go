package ecs

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/ecs"
	"overcast/internal/docker"
	"overcast/internal/store"
)

// fakeStats is an engine whose containers each used cpu of CPU time per
// second and hold mem bytes, sampled at the time now returns.
type fakeStats struct {
	now      time.Time
	cpuPerS  map[string]float64 // vCPUs
	mem      map[string]uint64
	elapsedS float64
}

func (f *fakeStats) ContainerStats(_ context.Context, id string) (docker.Stats, error) {
	return docker.Stats{Read: f.now, CPUNanos: uint64(f.cpuPerS[id] * f.elapsedS * 1e9), MemoryBytes: f.mem[id]}, nil
}

type metricsSink struct{ points []MetricPoint }

func (m *metricsSink) PutECSMetrics(_ context.Context, _, _ string, points []MetricPoint) error {
	m.points = append(m.points, points...)
	return nil
}

// A service's tasks' CPU (over the minute, against their CPU units) and
// memory (against their memory) become its and its cluster's
// utilization; CPU needs two samples.
func TestServiceUtilization(t *testing.T) {
	env, s := withCluster(t, "c")
	ctx := context.Background()
	sc := overcast.ScopeOf(ctx)
	stats := &fakeStats{now: time.Unix(1_800_000_000, 0),
		cpuPerS: map[string]float64{"a": 0.125, "b": 0.5}, mem: map[string]uint64{"a": 128 << 20, "b": 384 << 20}}
	sink := &metricsSink{}
	s.meter, s.metrics = &usageMeter{stats: stats, last: map[string]docker.Stats{}}, sink
	err := env.Store.Update(ctx, func(tx store.Tx) error {
		sv := serviceRecord{serviceStatus: serviceStatus{Status: serviceActive}, Name: "web", Cluster: "c"}
		if _, err := store.PutJSON(tx, servicesTable, serviceKey(sc, "c", "web"), sv, store.AnyVersion); err != nil {
			return err
		}
		for _, id := range []string{"a", "b"} {
			tk := task{ID: id, Cluster: "c", DesiredStatus: taskRunning, StartedBy: "ecs-svc/1",
				Containers: api.Containers{{RuntimeId: new(id)}}}
			tk.LastStatus, tk.Group, tk.CPU, tk.Memory = taskRunning, serviceGroup("web"), 256, 512
			if _, err := store.PutJSON(tx, tasksTable, taskKey(sc, "c", id), tk, store.AnyVersion); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	byName := func() map[string]MetricPoint {
		out := map[string]MetricPoint{}
		for _, p := range sink.points {
			out[p.Name+"/"+p.ServiceName] = p
		}
		sink.points = nil
		return out
	}

	if err := s.publishMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	// Memory: 128 and 384 MiB of 512 each: 25% and 75%.
	want := map[string]MetricPoint{
		"MemoryUtilization/web": {Name: "MemoryUtilization", ClusterName: "c", ServiceName: "web", Average: 50, Minimum: 25, Maximum: 75, Tasks: 2},
		"MemoryUtilization/":    {Name: "MemoryUtilization", ClusterName: "c", Average: 50, Minimum: 25, Maximum: 75, Tasks: 2},
	}
	if diff := cmp.Diff(want, byName()); diff != "" {
		t.Errorf("first minute (-want +got):\n%s", diff)
	}

	stats.now, stats.elapsedS = stats.now.Add(time.Minute), 60
	if err := s.publishMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	// CPU: 0.125 and 0.5 vCPU, 128 and 512 units of 256: 50% and 200%.
	got := byName()
	for _, k := range []string{"CPUUtilization/web", "CPUUtilization/"} {
		p := got[k]
		if p.Average != 125 || p.Minimum != 50 || p.Maximum != 200 || p.Tasks != 2 {
			t.Errorf("%s: got %+v, want average 125, minimum 50, maximum 200 over 2 tasks", k, p)
		}
	}
}
