package ecs

import (
	"context"
	"testing"

	"overcast"
	api "overcast/internal/api/ecs"
	"overcast/internal/authz/authztest"
	"overcast/internal/service/servicetest"
)

func TestAuthzTable(t *testing.T) {
	s := New(servicetest.Env(t), Options{})
	ctx := overcast.WithCaller(context.Background(), overcast.RootCaller(authztest.Scope.AccountID, authztest.Scope.Region))
	for range 2 {
		if _, err := s.RegisterTaskDefinition(ctx, &api.RegisterTaskDefinitionRequest{Family: new("web"),
			ContainerDefinitions: []api.ContainerDefinition{{Name: new("app"), Image: new("busybox"), Memory: new(int32(64))}}}); err != nil {
			t.Fatal(err)
		}
	}
	const arn = "arn:aws:ecs:us-east-1:123456789012:"
	inWeb := map[string][]string{"ecs:cluster": {arn + "cluster/web"}}
	authztest.Run(t, s.authzTable(), []authztest.Case{
		{Op: "CreateCluster", In: &api.CreateClusterRequest{ClusterName: new("web")}, Resources: []string{arn + "cluster/web"}},
		{Op: "ListContainerInstances", In: &api.ListContainerInstancesRequest{}, Resources: []string{arn + "cluster/default"}},
		{Op: "DescribeServices", In: &api.DescribeServicesRequest{Cluster: new("web"), Services: []string{"api", arn + "service/web/db"}},
			Resources: []string{arn + "service/web/api", arn + "service/web/db"}, Context: inWeb},
		{Op: "StopTask", In: &api.StopTaskRequest{Cluster: new(arn + "cluster/web"), Task: new("0123")},
			Resources: []string{arn + "task/web/0123"}, Context: inWeb},
		{Op: "DescribeContainerInstances", In: &api.DescribeContainerInstancesRequest{ContainerInstances: []string{"abc"}},
			Resources: []string{arn + "container-instance/default/abc"}},
		{Name: "latest revision", Op: "RunTask", In: &api.RunTaskRequest{Cluster: new("web"), TaskDefinition: new("web")},
			Resources: []string{arn + "task-definition/web:2"}, Context: inWeb},
		{Name: "given revision", Op: "RunTask", In: &api.RunTaskRequest{TaskDefinition: new("web:1")},
			Resources: []string{arn + "task-definition/web:1"}, Context: map[string][]string{"ecs:cluster": {arn + "cluster/default"}}},
		{Op: "CreateService", In: &api.CreateServiceRequest{Cluster: new("web"), ServiceName: new("api"), TaskDefinition: new("web:1")},
			Resources: []string{arn + "service/web/api"},
			Context:   map[string][]string{"ecs:cluster": {arn + "cluster/web"}, "ecs:task-definition": {arn + "task-definition/web:1"}}},
		{Op: "ListClusters", In: &api.ListClustersRequest{}, Resources: []string{"*"}},
	})
}
