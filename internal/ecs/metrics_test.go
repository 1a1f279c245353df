package ecs

import (
	"context"
	"errors"
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
	// down is an engine that does not answer; asked counts the calls
	// it got.
	down  bool
	asked int
}

func (f *fakeStats) ContainerStats(_ context.Context, id string) (docker.Stats, error) {
	if f.down {
		f.asked++
		return docker.Stats{}, &docker.Error{Op: "stats " + id, Kind: docker.ErrUnavailable, Err: errors.New("connection refused")}
	}
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
	s.meter, s.metrics = newUsageMeter("", map[string]containerStats{"": stats}), sink
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

// Tasks on several Docker engines are each measured on their own engine,
// and together make their service's and cluster's utilization; the same
// container ID on two engines is two containers. An engine that does not
// answer is asked once a minute, and its tasks are left out rather than
// failing the publish.
func TestUtilizationOverDockerHosts(t *testing.T) {
	env, s := withCluster(t, "c")
	ctx := context.Background()
	sc := overcast.ScopeOf(ctx)
	now := time.Unix(1_800_000_000, 0)
	// One container ID on both live engines, at different use.
	hostA := &fakeStats{now: now, cpuPerS: map[string]float64{"x": 0.125}, mem: map[string]uint64{"x": 128 << 20}}
	hostB := &fakeStats{now: now, cpuPerS: map[string]float64{"x": 0.5}, mem: map[string]uint64{"x": 384 << 20}}
	hostC := &fakeStats{now: now, down: true}
	sink := &metricsSink{}
	s.meter = newUsageMeter("unix:///a.sock", map[string]containerStats{
		"unix:///a.sock": hostA, "unix:///b.sock": hostB, "unix:///c.sock": hostC})
	s.metrics = sink
	put := func(id, engine, status string) {
		t.Helper()
		err := env.Store.Update(ctx, func(tx store.Tx) error {
			tk := task{ID: id, Cluster: "c", DesiredStatus: taskRunning, StartedBy: "ecs-svc/1",
				Containers: api.Containers{{RuntimeId: new("x")}}}
			tk.LastStatus, tk.Group, tk.CPU, tk.Memory, tk.Engine = status, serviceGroup("web"), 256, 512, engine
			_, err := store.PutJSON(tx, tasksTable, taskKey(sc, "c", id), tk, store.AnyVersion)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	err := env.Store.Update(ctx, func(tx store.Tx) error {
		sv := serviceRecord{serviceStatus: serviceStatus{Status: serviceActive}, Name: "web", Cluster: "c"}
		_, err := store.PutJSON(tx, servicesTable, serviceKey(sc, "c", "web"), sv, store.AnyVersion)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	put("on-a", "", taskRunning) // a record naming no engine runs on the first
	put("on-b", "unix:///b.sock", taskRunning)
	put("on-c1", "unix:///c.sock", taskRunning)
	put("on-c2", "unix:///c.sock", taskRunning)
	put("on-gone", "unix:///gone.sock", taskRunning) // an engine overcast no longer runs with

	publish := func() map[string]MetricPoint {
		t.Helper()
		if err := s.publishMetrics(ctx); err != nil {
			t.Fatalf("publishMetrics: %v", err)
		}
		out := map[string]MetricPoint{}
		for _, p := range sink.points {
			out[p.Name+"/"+p.ServiceName] = p
		}
		sink.points = nil
		return out
	}
	point := func(name, service string, avg, min, max float64) MetricPoint {
		return MetricPoint{Name: name, ClusterName: "c", ServiceName: service, Average: avg, Minimum: min, Maximum: max, Tasks: 2}
	}

	// Memory: 128 and 384 MiB of 512: 25% and 75%.
	want := map[string]MetricPoint{
		"MemoryUtilization/web": point("MemoryUtilization", "web", 50, 25, 75),
		"MemoryUtilization/":    point("MemoryUtilization", "", 50, 25, 75),
	}
	if diff := cmp.Diff(want, publish()); diff != "" {
		t.Errorf("first minute (-want +got):\n%s", diff)
	}

	for _, h := range []*fakeStats{hostA, hostB} {
		h.now, h.elapsedS = now.Add(time.Minute), 60
	}
	// CPU: 0.125 and 0.5 vCPU, 128 and 512 units of 256: 50% and 200%.
	want["CPUUtilization/web"] = point("CPUUtilization", "web", 125, 50, 200)
	want["CPUUtilization/"] = point("CPUUtilization", "", 125, 50, 200)
	if diff := cmp.Diff(want, publish()); diff != "" {
		t.Errorf("second minute (-want +got):\n%s", diff)
	}
	if hostC.asked != 2 {
		t.Errorf("the engine that does not answer was asked %d times over two minutes, want once a minute", hostC.asked)
	}

	// The task on B stops: its container's sample is forgotten, A's kept.
	put("on-b", "unix:///b.sock", taskStopped)
	publish()
	wantLast := []sample{{"unix:///a.sock", "x"}}
	var gotLast []sample
	for k := range s.meter.last {
		gotLast = append(gotLast, k)
	}
	if diff := cmp.Diff(wantLast, gotLast, cmp.AllowUnexported(sample{})); diff != "" {
		t.Errorf("samples kept after B's task stopped (-want +got):\n%s", diff)
	}
}
