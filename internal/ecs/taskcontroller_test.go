package ecs

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/ecs"
	"overcast/internal/ecs/agent"
	"overcast/internal/service"
	"overcast/internal/service/servicetest"
	"overcast/internal/store"
)

// fakeENIs hands out loopback addresses, and remembers what it was asked.
type fakeENIs struct {
	mu       sync.Mutex
	attached []string // subnet and security groups of each attach
	released []string
}

func (f *fakeENIs) AttachTaskInterface(_ context.Context, account, region, subnetID string, groups []string, _ string) (NetworkInterfaceInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attached = append(f.attached, fmt.Sprint(subnetID, groups))
	n := len(f.attached)
	return NetworkInterfaceInfo{ID: fmt.Sprintf("eni-%d", n), SubnetID: subnetID, VPCID: "vpc-1", AvailabilityZone: region + "b",
		PrivateIP: fmt.Sprintf("127.0.9.%d", n), PrivateDNSName: "ip", MAC: "02:00:00:00:00:01"}, nil
}

func (f *fakeENIs) ReleaseInterface(_ context.Context, account, region, eniID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released = append(f.released, eniID)
	return nil
}

// An EC2 task publishes its ports on its EC2 instance's address, one on a
// directly registered instance on 127.0.0.1, an awsvpc task on its ENI's.
func TestTaskHostAddress(t *testing.T) {
	ec2 := &fakeEC2{all: map[string]Instance{"i-1": {ID: "i-1", PrivateIP: "127.0.3.7"}}}
	s := New(servicetest.Env(t), Options{Instances: ec2})
	ctx := context.Background()
	sc := overcast.ScopeOf(ctx)
	for _, tt := range []struct {
		name string
		t    task
		want string
	}{
		{"EC2 instance", task{EC2InstanceID: "i-1"}, "127.0.3.7"},
		{"registered directly", task{}, "127.0.0.1"},
		{"an instance EC2 does not know", task{EC2InstanceID: "i-404"}, "127.0.0.1"},
		{"awsvpc", task{Interface: &NetworkInterfaceInfo{PrivateIP: "127.100.0.9"}}, "127.100.0.9"},
	} {
		spec, err := s.taskSpec(ctx, sc, tt.t)
		if err != nil || spec.HostIP != tt.want {
			t.Errorf("%s: got %q (%v), want %q", tt.name, spec.HostIP, err, tt.want)
		}
	}
}

// withCluster is the service on a fresh environment, with one cluster.
func withCluster(t *testing.T, cluster string) (*service.Env, *Service) {
	t.Helper()
	env := servicetest.Env(t)
	s := New(env, Options{})
	if _, err := s.CreateCluster(context.Background(), &api.CreateClusterRequest{ClusterName: &cluster}); err != nil {
		t.Fatal(err)
	}
	return env, s
}

// An awsvpc task gets its ENI while PROVISIONING, and gives it back
// while DEPROVISIONING.
func TestTaskInterfaceLifecycle(t *testing.T) {
	enis := &fakeENIs{}
	env := servicetest.Env(t)
	s := New(env, Options{Interfaces: enis})
	ctx := context.Background()
	sc := overcast.ScopeOf(ctx)
	key := taskKey(sc, "c", "0123")
	tk := task{ID: "0123", ARN: taskARN(sc, "c", "0123"), Cluster: "c", DesiredStatus: taskRunning,
		Definition: api.TaskDefinition{NetworkMode: new("awsvpc")},
		Network:    &api.AwsVpcConfiguration{Subnets: []string{"subnet-1", "subnet-2"}, SecurityGroups: []string{"sg-1"}}}
	tk.LastStatus = taskProvisioning
	v := storeNewTask(t, env, s, key, &tk)
	if _, err := s.provisionTask(ctx, sc, key, tk, v); err != nil {
		t.Fatal(err)
	}
	read := func() (task, int64) {
		var got task
		var v int64
		err := env.Store.View(ctx, func(tx store.Tx) error {
			var err error
			got, v, err = s.readTask(tx, key)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return got, v
	}
	tk, v = read()
	if tk.LastStatus != taskPending || tk.Interface == nil || tk.Interface.PrivateIP != "127.0.9.1" {
		t.Fatalf("provisioned: got %s %+v", tk.LastStatus, tk.Interface)
	}
	view := tk.view(sc, false)
	details := map[string]string{}
	for _, d := range view.Attachments[0].Details {
		details[deref(d.Name)] = deref(d.Value)
	}
	want := map[string]string{"subnetId": "subnet-1", "networkInterfaceId": "eni-1", "macAddress": "02:00:00:00:00:01",
		"privateDnsName": "ip", "privateIPv4Address": "127.0.9.1"}
	if diff := cmp.Diff(want, details); diff != "" || deref(view.Attachments[0].Status) != "ATTACHED" || deref(view.AvailabilityZone) != "us-east-1b" {
		t.Errorf("attachment (-want +got):\n%s\nstatus %s, zone %s", diff, deref(view.Attachments[0].Status), deref(view.AvailabilityZone))
	}

	tk.DesiredStatus = taskStopped
	if _, err := s.stopTask(ctx, sc, key, tk, v); err != nil {
		t.Fatal(err)
	}
	tk, _ = read()
	if tk.LastStatus != taskStopped || tk.StoppedAt == nil {
		t.Errorf("stopped: got %s at %v", tk.LastStatus, tk.StoppedAt)
	}
	if diff := cmp.Diff([]string{"subnet-1[sg-1]"}, enis.attached); diff != "" {
		t.Errorf("attached (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"eni-1"}, enis.released); diff != "" {
		t.Errorf("released (-want +got):\n%s", diff)
	}
}

func TestListTasksFiltersAndPages(t *testing.T) {
	env, s := withCluster(t, "c")
	ctx := context.Background()
	sc := overcast.ScopeOf(ctx)
	put := func(id, family, startedBy, desired, launch string) string {
		tk := task{ID: id, ARN: taskARN(sc, "c", id), Cluster: "c", DesiredStatus: desired, LaunchType: launch, StartedBy: startedBy,
			Definition: api.TaskDefinition{Family: new(family)}}
		tk.LastStatus = desired
		err := env.Store.Update(ctx, func(tx store.Tx) error {
			_, err := s.putTask(tx, sc, taskKey(sc, "c", id), &tk, 0)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return tk.ARN
	}
	a := put("a", "web", "me", taskRunning, launchFargate)
	b := put("b", "web", "", taskRunning, launchEC2)
	c := put("c", "db", "me", taskRunning, launchEC2)
	d := put("d", "web", "me", taskStopped, launchEC2)
	list := func(in *api.ListTasksRequest) []string {
		t.Helper()
		in.Cluster = new("c")
		var all []string
		for {
			out, err := s.ListTasks(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, out.TaskArns...)
			if out.NextToken == nil {
				return all
			}
			in.NextToken = out.NextToken
		}
	}
	for _, tt := range []struct {
		name string
		in   *api.ListTasksRequest
		want []string
	}{
		{"running, a page at a time", &api.ListTasksRequest{MaxResults: new(int32(1))}, []string{a, b, c}},
		{"family", &api.ListTasksRequest{Family: new("web")}, []string{a, b}},
		{"startedBy", &api.ListTasksRequest{StartedBy: new("me")}, []string{a, c}},
		{"launch type", &api.ListTasksRequest{LaunchType: new(launchEC2)}, []string{b, c}},
		{"stopped", &api.ListTasksRequest{DesiredStatus: new(taskStopped)}, []string{d}},
	} {
		if diff := cmp.Diff(tt.want, list(tt.in)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// A bridge task's target is its instance and the host port its container
// published; once the container stops, its bindings go, but the target is
// still known so that the service can deregister it.
func TestTargetOfStoppedBridgeTask(t *testing.T) {
	lb := api.LoadBalancer{ContainerName: new("web"), ContainerPort: new(int32(8080))}
	var tk task
	tk.EC2InstanceID = "i-0123456789abcdef0"
	running := agent.Observed{LastStatus: agent.StatusRunning, Containers: []agent.ContainerState{{Name: "web", LastStatus: agent.StatusRunning,
		NetworkBindings: []api.NetworkBinding{{ContainerPort: new(int32(8080)), HostPort: new(int32(32768)), BindIP: new("0.0.0.0")}}}}}
	stopped := agent.Observed{LastStatus: agent.StatusStopped, Containers: []agent.ContainerState{{Name: "web", LastStatus: agent.StatusStopped}}}
	want := Target{ID: "i-0123456789abcdef0", Port: 32768}
	for _, o := range []agent.Observed{running, stopped} {
		(&Service{}).observed(&tk, o)
		if got, ok := targetOf(tk, lb); !ok || got != want {
			t.Errorf("%s: got target %v, %v, want %v", o.LastStatus, got, ok, want)
		}
	}
}

// storeNewTask writes tk as a new task under key, as RunTask would, and
// returns its version.
func storeNewTask(t *testing.T, env *service.Env, s *Service, key string, tk *task) int64 {
	t.Helper()
	var v int64
	err := env.Store.Update(context.Background(), func(tx store.Tx) error {
		var err error
		v, err = s.putTask(tx, overcast.ScopeOf(context.Background()), key, tk, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}
