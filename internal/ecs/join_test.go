package ecs

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	api "overcast/internal/api/ecs"
	"overcast/internal/bus"
	"overcast/internal/service"
	"overcast/internal/service/servicetest"
	"overcast/internal/store"
)

// fakeEC2 is EC2 as ECS reads it: instances tests put there, and the
// state changes EC2 would publish on the bus.
type fakeEC2 struct {
	bus *bus.Bus
	mu  sync.Mutex
	all map[string]Instance
}

func (f *fakeEC2) Instance(_ context.Context, account, region, id string) (Instance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inst, ok := f.all[id]
	if !ok {
		return Instance{}, fmt.Errorf("instance %s: %w", id, ErrInstanceNotFound)
	}
	return inst, nil
}

// set records an instance's state and publishes the change, as EC2 does.
func (f *fakeEC2) set(t *testing.T, inst Instance) {
	t.Helper()
	f.mu.Lock()
	f.all[inst.ID] = inst
	f.mu.Unlock()
	detail, _ := json.Marshal(map[string]string{"instance-id": inst.ID, "state": inst.State})
	err := f.bus.Publish(context.Background(), nil, bus.Event{Source: "aws.ec2", Type: "EC2 Instance State-change Notification",
		Account: "000000000000", Region: "us-east-1",
		Resources: []string{"arn:aws:ec2:us-east-1:000000000000:instance/" + inst.ID}, Detail: detail})
	if err != nil {
		t.Fatal(err)
	}
}

func startJoins(t *testing.T, opts ...servicetest.Option) (*Service, *fakeEC2, *service.Env) {
	env := servicetest.Env(t, opts...)
	ec2 := &fakeEC2{bus: env.Bus, all: map[string]Instance{}}
	s := New(env, Options{Instances: ec2})
	env.Controllers.Start()
	waitWatching(t, env)
	return s, ec2, env
}

// waitWatching waits for the join controller's bus subscription: a first
// subscription sees only the events published after it.
func waitWatching(t *testing.T, env *service.Env) {
	servicetest.WaitFor(t, "the join controller to subscribe", func() bool {
		return env.Store.View(context.Background(), func(tx store.Tx) error {
			_, err := tx.Get("events.cursor", "controller/ecs-instance-joins/0")
			return err
		}) == nil
	})
}

func instance(id, state, userData string) Instance {
	return Instance{ID: id, Type: "t3.medium", ImageID: "ami-ecs", State: state, AvailabilityZone: "us-east-1b",
		SubnetID: "subnet-1", VPCID: "vpc-1", PrivateIP: "127.0.10.4", Architecture: "arm64", VCPUs: 2, MemoryMiB: 4096,
		UserData: []byte(userData), LaunchTime: servicetest.Epoch}
}

// joined is the container instance of an EC2 instance, if it has one.
func joined(t *testing.T, s *Service, cluster, ec2ID string) *api.ContainerInstance {
	t.Helper()
	ctx := context.Background()
	list, err := s.ListContainerInstances(ctx, &api.ListContainerInstancesRequest{Cluster: &cluster,
		Status: nil})
	if err != nil {
		return nil
	}
	if len(list.ContainerInstanceArns) == 0 {
		return nil
	}
	d, err := s.DescribeContainerInstances(ctx, &api.DescribeContainerInstancesRequest{Cluster: &cluster,
		ContainerInstances: list.ContainerInstanceArns, Include: api.ContainerInstanceFieldList{"TAGS"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ci := range d.ContainerInstances {
		if deref(ci.Ec2InstanceId) == ec2ID {
			return &ci
		}
	}
	return nil
}

func TestRunningInstanceJoinsItsCluster(t *testing.T) {
	s, ec2, _ := startJoins(t)
	ctx := context.Background()
	if _, err := s.CreateCluster(ctx, &api.CreateClusterRequest{ClusterName: new("web")}); err != nil {
		t.Fatal(err)
	}
	ec2.set(t, instance("i-1", "pending", ""))
	userData := "#!/bin/bash\ncat <<'EOF' >> /etc/ecs/ecs.config\nECS_CLUSTER=web\nECS_RESERVED_MEMORY=256\n" +
		"ECS_INSTANCE_ATTRIBUTES={\"stack\":\"prod\"}\nECS_CONTAINER_INSTANCE_TAGS={\"team\":\"a\"}\nEOF\n"
	ec2.set(t, instance("i-1", "running", userData))
	var ci *api.ContainerInstance
	servicetest.WaitFor(t, "i-1 to join web", func() bool { ci = joined(t, s, "web", "i-1"); return ci != nil })

	res := map[string]int32{}
	for _, r := range ci.RegisteredResources {
		res[deref(r.Name)] = deref(r.IntegerValue)
	}
	if res["CPU"] != 2048 || res["MEMORY"] != 4096-256 {
		t.Errorf("registered CPU/memory: got %d/%d, want 2048/3840", res["CPU"], res["MEMORY"])
	}
	attrs := map[string]string{}
	for _, a := range ci.Attributes {
		attrs[deref(a.Name)] = deref(a.Value)
	}
	for name, want := range map[string]string{"ecs.availability-zone": "us-east-1b", "ecs.instance-type": "t3.medium",
		"ecs.ami-id": "ami-ecs", "ecs.cpu-architecture": "arm64", "ecs.vpc-id": "vpc-1", "ecs.subnet-id": "subnet-1",
		"ecs.os-type": "linux", "stack": "prod", "ecs.capability.task-eni": "",
		"com.amazonaws.ecs.capability.logging-driver.awslogs": ""} {
		if got, ok := attrs[name]; !ok || got != want {
			t.Errorf("attribute %s: got %q (present %v), want %q", name, got, ok, want)
		}
	}
	if len(ci.Tags) != 1 || deref(ci.Tags[0].Key) != "team" {
		t.Errorf("tags: got %+v, want team=a", ci.Tags)
	}

	ec2.set(t, instance("i-1", "stopped", userData))
	servicetest.WaitFor(t, "i-1's agent to disconnect", func() bool { return !deref(joined(t, s, "web", "i-1").AgentConnected) })
	ec2.set(t, instance("i-1", "running", userData))
	servicetest.WaitFor(t, "i-1's agent to reconnect", func() bool { return deref(joined(t, s, "web", "i-1").AgentConnected) })
	if got := deref(joined(t, s, "web", "i-1").ContainerInstanceArn); got != deref(ci.ContainerInstanceArn) {
		t.Errorf("after a restart: got container instance %s, want the same %s", got, deref(ci.ContainerInstanceArn))
	}

	ec2.set(t, instance("i-1", "terminated", userData))
	servicetest.WaitFor(t, "i-1 to be deregistered", func() bool {
		d, _ := s.DescribeContainerInstances(ctx, &api.DescribeContainerInstancesRequest{Cluster: new("web"),
			ContainerInstances: []string{deref(ci.ContainerInstanceArn)}})
		return len(d.ContainerInstances) == 1 && deref(d.ContainerInstances[0].Status) == statusInactive
	})
}

func TestInstanceWithoutClusterJoinsDefault(t *testing.T) {
	s, ec2, _ := startJoins(t)
	ec2.set(t, instance("i-2", "running", ""))
	servicetest.WaitFor(t, "i-2 to join the default cluster", func() bool { return joined(t, s, "default", "i-2") != nil })
}

func TestInstanceWaitsForItsCluster(t *testing.T) {
	s, ec2, env := startJoins(t)
	ec2.set(t, instance("i-3", "running", "echo ECS_CLUSTER=later >> /etc/ecs/ecs.config"))
	ec2.set(t, instance("i-4", "running", "")) // a marker: events are handled in order
	servicetest.WaitFor(t, "i-4 to join", func() bool { return joined(t, s, "default", "i-4") != nil })
	if _, err := s.CreateCluster(context.Background(), &api.CreateClusterRequest{ClusterName: new("later")}); err != nil {
		t.Fatal(err)
	}
	servicetest.WaitFor(t, "i-3 to join once its agent retries", func() bool {
		servicetest.Fake(env).Advance(joinRetry)
		return joined(t, s, "later", "i-3") != nil
	})
}

func TestJoinsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	s, ec2, env := startJoins(t, servicetest.InDir(dir))
	ec2.set(t, instance("i-5", "running", ""))
	servicetest.WaitFor(t, "i-5 to join", func() bool { return joined(t, s, "default", "i-5") != nil })
	env.Controllers.Stop()
	env.Close()

	// EC2 terminates the instance while ECS is down: the event waits in
	// the outbox, and the restart's resync looks at i-5 again anyway.
	env2 := servicetest.Env(t, servicetest.InDir(dir))
	ec2.bus = env2.Bus
	delete(ec2.all, "i-5")
	s2 := New(env2, Options{Instances: ec2})
	env2.Controllers.Start()
	servicetest.WaitFor(t, "i-5 to be deregistered after the restart", func() bool {
		ci := joined(t, s2, "default", "i-5")
		return ci == nil
	})
}

func TestContainerInstanceChangesArePublished(t *testing.T) {
	s, ec2, env := startJoins(t)
	events := make(chan bus.Event, 16)
	sub, err := env.Bus.Subscribe(context.Background(), "test", bus.Pattern{Source: "aws.ecs", Types: []string{"ECS Container Instance State Change"}},
		func(_ context.Context, ev bus.Event) error { events <- ev; return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ec2.set(t, instance("i-6", "running", ""))
	servicetest.WaitFor(t, "i-6 to join", func() bool { return joined(t, s, "default", "i-6") != nil })
	arn := deref(joined(t, s, "default", "i-6").ContainerInstanceArn)
	if _, err := s.UpdateContainerInstancesState(context.Background(), &api.UpdateContainerInstancesStateRequest{
		ContainerInstances: []string{arn}, Status: new(statusDraining)}); err != nil {
		t.Fatal(err)
	}
	servicetest.WaitFor(t, "two state changes", func() bool { return len(events) == 2 })
	// The detail has the API's names, not registeredAt, and resources
	// without the zeros the API shows.
	var seen [2]struct {
		Status, ContainerInstanceArn, ClusterArn, Ec2InstanceId, UpdatedAt string
		Version                                                            int64
		RegisteredResources                                                []json.RawMessage
		RegisteredAt                                                       any
	}
	for i := range seen {
		if err := json.Unmarshal((<-events).Detail, &seen[i]); err != nil {
			t.Fatal(err)
		}
	}
	cpu := `{"integerValue":2048,"name":"CPU","type":"INTEGER"}`
	if seen[0].Status != statusActive || seen[1].Status != statusDraining || seen[1].Version != seen[0].Version+1 ||
		seen[0].ContainerInstanceArn != arn || seen[0].Ec2InstanceId != "i-6" || !strings.HasSuffix(seen[0].ClusterArn, ":cluster/default") ||
		seen[0].UpdatedAt == "" || seen[0].RegisteredAt != nil ||
		len(seen[0].RegisteredResources) != 4 || string(seen[0].RegisteredResources[0]) != cpu {
		t.Errorf("state changes: got %+v", seen)
	}
}
