package ecs

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/ecs"
	"overcast/internal/store"
)

// The task and service controllers write their records in tasksTable and
// servicesTable; clusters and container instances count from them.
func TestCountsDeriveFromTasksAndServices(t *testing.T) {
	env, s := withCluster(t, "c")
	ctx := context.Background()
	sc := overcast.ScopeOf(ctx)
	reg, err := s.RegisterContainerInstance(ctx, &api.RegisterContainerInstanceRequest{Cluster: new("c"),
		TotalResources: api.Resources{{Name: new("CPU"), IntegerValue: new(int32(2048))}, {Name: new("MEMORY"), IntegerValue: new(int32(4096))}}})
	if err != nil {
		t.Fatal(err)
	}
	ciKey := instanceKey(sc, "c", instanceIDOf(deref(reg.ContainerInstance.ContainerInstanceArn)))
	put := func(table, id string, v any) {
		t.Helper()
		err := env.Store.Update(ctx, func(tx store.Tx) error {
			_, err := store.PutJSON(tx, table, sc.Key("c/"+id), v, store.AnyVersion)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	put(tasksTable, "t1", taskStatus{LastStatus: "RUNNING", ContainerInstance: ciKey,
		reservation: reservation{CPU: 512, Memory: 256, Ports: []string{"8080"}}})
	put(tasksTable, "t2", taskStatus{LastStatus: "PENDING"})
	put(servicesTable, "web", serviceStatus{Status: statusActive, LaunchType: "FARGATE"})

	d, err := s.DescribeClusters(ctx, &api.DescribeClustersRequest{Clusters: []string{"c"}, Include: api.ClusterFieldList{"STATISTICS"}})
	if err != nil {
		t.Fatal(err)
	}
	c := d.Clusters[0]
	got := []int32{deref(c.RunningTasksCount), deref(c.PendingTasksCount), deref(c.ActiveServicesCount), deref(c.RegisteredContainerInstancesCount)}
	if diff := cmp.Diff([]int32{1, 1, 1, 1}, got); diff != "" {
		t.Errorf("running, pending, services, instances (-want +got):\n%s", diff)
	}
	stats := map[string]string{}
	for _, kv := range c.Statistics {
		stats[deref(kv.Name)] = deref(kv.Value)
	}
	if stats["runningEC2TasksCount"] != "1" || stats["pendingFargateTasksCount"] != "1" || stats["activeFargateServiceCount"] != "1" {
		t.Errorf("statistics: got %v", stats)
	}

	ci, err := s.DescribeContainerInstances(ctx, &api.DescribeContainerInstancesRequest{Cluster: new("c"),
		ContainerInstances: []string{deref(reg.ContainerInstance.ContainerInstanceArn)}})
	if err != nil {
		t.Fatal(err)
	}
	remaining := map[string]any{}
	for _, r := range ci.ContainerInstances[0].RemainingResources {
		if r.StringSetValue != nil {
			remaining[deref(r.Name)] = len(r.StringSetValue)
		} else {
			remaining[deref(r.Name)] = deref(r.IntegerValue)
		}
	}
	if diff := cmp.Diff(map[string]any{"CPU": int32(1536), "MEMORY": int32(3840), "PORTS": 6, "PORTS_UDP": 0}, remaining); diff != "" {
		t.Errorf("remaining resources (-want +got):\n%s", diff)
	}
	if n := deref(ci.ContainerInstances[0].RunningTasksCount); n != 1 {
		t.Errorf("instance's running tasks: got %d, want 1", n)
	}

	if _, err := s.DeregisterContainerInstance(ctx, &api.DeregisterContainerInstanceRequest{Cluster: new("c"),
		ContainerInstance: reg.ContainerInstance.ContainerInstanceArn}); err == nil {
		t.Errorf("deregistering an instance with a running task without force: got no error")
	}
	if _, err := s.DeregisterContainerInstance(ctx, &api.DeregisterContainerInstanceRequest{Cluster: new("c"),
		ContainerInstance: reg.ContainerInstance.ContainerInstanceArn, Force: new(true)}); err != nil {
		t.Fatal(err)
	}

	deleteErr := func() error {
		_, err := s.DeleteCluster(ctx, &api.DeleteClusterRequest{Cluster: new("c")})
		return err
	}
	var services *api.ClusterContainsServicesException
	if err := deleteErr(); !errors.As(err, &services) {
		t.Errorf("DeleteCluster with an active service: got %v, want ClusterContainsServicesException", err)
	}
	put(servicesTable, "web", serviceStatus{Status: statusInactive, LaunchType: "FARGATE"})
	var tasks *api.ClusterContainsTasksException
	if err := deleteErr(); !errors.As(err, &tasks) {
		t.Errorf("DeleteCluster with active tasks: got %v, want ClusterContainsTasksException", err)
	}
	put(tasksTable, "t1", taskStatus{LastStatus: "STOPPED"})
	put(tasksTable, "t2", taskStatus{LastStatus: "STOPPED"})
	if err := deleteErr(); err != nil {
		t.Errorf("DeleteCluster once everything stopped: %v", err)
	}
}

func instanceIDOf(arn string) string {
	_, id := instanceRef(nil, arn)
	return id
}
