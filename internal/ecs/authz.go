package ecs

import (
	"context"

	"overcast"
	"overcast/internal/authz"
	"overcast/internal/awsproto"
	"overcast/internal/store"
)

// authzTable is how IAM authorizes ECS's operations (the Service
// Authorization Reference's "Amazon Elastic Container Service"): most act
// on the cluster, service, task, container instance or task definition
// they name, and those inside a cluster carry it as ecs:cluster. It is
// the Service's own because a task definition named by its family alone
// stands for its latest revision, which only the store knows.
func (s *Service) authzTable() *authz.Table {
	onCluster := authz.Rule{Resources: authz.Ref("Cluster", clusterARNOf), Context: clusterKey}
	onDefault := authz.Rule{Resources: clusterOrDefault, Context: clusterKey}
	taskDefinition := authz.Rule{Resources: s.taskDefinitionARN}
	inCluster := func(field string, arn func(sc scope, cluster, id string) string, ref func(*string, string) (string, string)) authz.Rule {
		return authz.Rule{Resources: func(_ context.Context, s authz.Scope, in any) []string {
			cluster := new(authz.Field(in, "Cluster"))
			var out []string
			for _, r := range authz.Fields(in, field) {
				c, id := ref(cluster, r)
				out = append(out, refARN(r, arn(s.Local(), c, id)))
			}
			return out
		}, Context: clusterKey}
	}
	services := inCluster("Service", serviceARN, serviceRef)
	tasks := inCluster("Tasks", taskARN, taskRef)
	instances := inCluster("ContainerInstances", instanceARN, instanceRef)
	return &authz.Table{Prefix: "ecs", Rules: map[string]authz.Rule{
		"CreateCluster":               {Resources: authz.Ref("ClusterName", clusterARNOf)},
		"DescribeClusters":            {Resources: authz.Ref("Clusters", clusterARNOf)},
		"DeleteCluster":               onCluster,
		"UpdateCluster":               onCluster,
		"UpdateClusterSettings":       onCluster,
		"PutClusterCapacityProviders": onCluster,
		"DeleteAttributes":            onDefault,
		"PutAttributes":               onDefault,
		"ListAttributes":              onDefault,
		"ListContainerInstances":      onDefault,
		"RegisterContainerInstance":   onDefault,
		"DeregisterContainerInstance": onDefault,
		"ListServices":                {Context: clusterKey},
		"ListTasks":                   {Resources: inCluster("ContainerInstance", instanceARN, instanceRef).Resources, Context: clusterKey},

		"CreateCapacityProvider":    {Resources: authz.Ref("Name", capacityProviderARN)},
		"UpdateCapacityProvider":    {Resources: authz.Ref("Name", capacityProviderARN)},
		"DeleteCapacityProvider":    {Resources: authz.Ref("CapacityProvider", capacityProviderARN)},
		"DescribeCapacityProviders": {Resources: authz.Ref("CapacityProviders", capacityProviderARN)},

		"CreateService":    {Resources: inCluster("ServiceName", serviceARN, serviceRef).Resources, Context: serviceKeys},
		"UpdateService":    {Resources: services.Resources, Context: serviceKeys},
		"DeleteService":    services,
		"DescribeServices": inCluster("Services", serviceARN, serviceRef),

		"DescribeTasks":        tasks,
		"GetTaskProtection":    tasks,
		"UpdateTaskProtection": tasks,
		"StopTask":             inCluster("Task", taskARN, taskRef),
		"RunTask":              {Resources: s.taskDefinitionARN, Context: clusterKey},
		"StartTask":            {Resources: s.taskDefinitionARN, Context: startTaskKeys},

		"DescribeContainerInstances":    instances,
		"UpdateContainerInstancesState": instances,
		"UpdateContainerAgent":          inCluster("ContainerInstance", instanceARN, instanceRef),

		"DescribeTaskDefinition":   taskDefinition,
		"DeregisterTaskDefinition": taskDefinition,
		"DeleteTaskDefinitions":    {Resources: authz.Ref("TaskDefinitions", taskDefinitionRefARN)},

		"TagResource":         {Resources: authz.ResourceARN},
		"UntagResource":       {Resources: authz.ResourceARN},
		"ListTagsForResource": {Resources: authz.ResourceARN},
	}}
}

func clusterARNOf(s authz.Scope, name string) string { return clusterARN(s.Local(), name) }

// clusterOrDefault is the cluster an input names in Cluster: the default
// cluster when none.
func clusterOrDefault(_ context.Context, s authz.Scope, in any) []string {
	return []string{clusterARN(s.Local(), clusterName(new(authz.Field(in, "Cluster"))))}
}

// clusterKey is ecs:cluster, the cluster a call acts in.
func clusterKey(s authz.Scope, in any) map[string][]string {
	return map[string][]string{"ecs:cluster": clusterOrDefault(context.Background(), s, in)}
}

// serviceKeys are a service's ecs:cluster and the ecs:task-definition it
// is given.
func serviceKeys(s authz.Scope, in any) map[string][]string {
	keys := clusterKey(s, in)
	if td := authz.Field(in, "TaskDefinition"); td != "" {
		keys["ecs:task-definition"] = []string{taskDefinitionRefARN(s, td)}
	}
	return keys
}

// startTaskKeys are StartTask's ecs:cluster and the
// ecs:container-instances it places tasks on.
func startTaskKeys(s authz.Scope, in any) map[string][]string {
	keys := clusterKey(s, in)
	cluster := new(authz.Field(in, "Cluster"))
	for _, r := range authz.Fields(in, "ContainerInstances") {
		c, id := instanceRef(cluster, r)
		keys["ecs:container-instances"] = append(keys["ecs:container-instances"], refARN(r, instanceARN(s.Local(), c, id)))
	}
	return keys
}

func capacityProviderARN(s authz.Scope, name string) string { return providerARN(s.Local(), name) }

// serviceRef is the cluster and name a request names a service by, in
// the request's cluster.
func serviceRef(clusterRef *string, ref string) (cluster, name string) {
	return clusterName(clusterRef), ref
}

// taskDefinitionRefARN is the ARN of "family:revision".
func taskDefinitionRefARN(s authz.Scope, ref string) string {
	return refARN(ref, s.ARN("ecs", "task-definition/"+ref))
}

// taskDefinitionARN is the task definition an input names in
// TaskDefinition, with its revision: a bare family stands for its latest
// active revision (its bare ARN when it has none: the call fails anyway).
func (s *Service) taskDefinitionARN(ctx context.Context, as authz.Scope, in any) []string {
	name := authz.Field(in, "TaskDefinition")
	if name == "" {
		return nil
	}
	sc := as.Local()
	ref, ok := parseTaskDefRef(name)
	if !ok || ref.rev > 0 {
		return []string{taskDefinitionRefARN(as, name)}
	}
	var td taskDef
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		td, _, err = readTaskDef(tx, sc, ref)
		return err
	})
	if err != nil || td.Def.Revision == nil {
		return []string{sc.ARN("ecs", "task-definition/"+ref.family)}
	}
	return []string{taskDefARN(sc, ref.family, int(*td.Def.Revision))}
}

var _ authz.Resources = (*Service)(nil)

// ResourceOf describes the ECS resource an ARN names, for authorization:
// its account and, for the taggable ones, its tags (aws:ResourceTag).
func (s *Service) ResourceOf(ctx context.Context, arn string) (authz.Resource, error) {
	a, _ := overcast.ParseARN(arn)
	res := authz.Resource{Owner: a.AccountID}
	sc := scope{Account: a.AccountID, Region: a.Region}
	err := s.withTagsIn(ctx, sc, arn, false, func(tags map[string]string) (map[string]string, error) {
		res.Tags = tags
		return tags, nil
	})
	if _, refused := awsproto.AsAPIError(err); refused {
		return res, nil // none, or not taggable: the operation says so
	}
	return res, err
}
