package ecs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

const arnPrefix = "arn:aws:ecs:us-east-1:000000000000:"

func start(t *testing.T, opts ...awstest.Option) (*awstest.Server, *ecs.Client) {
	t.Helper()
	srv := awstest.Start(t, opts...)
	return srv, ecs.NewFromConfig(srv.Config())
}

// web is a valid task definition for EC2 and Fargate.
func web(family string) *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), NetworkMode: types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		Cpu:                     aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String("nginx"),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80)}},
		}},
	}
}

func TestClusterLifecycle(t *testing.T) {
	_, c := start(t)
	created := awstest.Call(t, c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("prod"),
		Tags:              []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
		Settings:          []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("enabled")}},
		CapacityProviders: []string{"FARGATE", "FARGATE_SPOT"},
		DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{
			{CapacityProvider: aws.String("FARGATE"), Base: 1, Weight: 1}, {CapacityProvider: aws.String("FARGATE_SPOT"), Weight: 3}},
	}).Cluster
	if got, want := aws.ToString(created.ClusterArn), arnPrefix+"cluster/prod"; got != want {
		t.Errorf("ARN: got %s, want %s", got, want)
	}
	if aws.ToString(created.Status) != "ACTIVE" || len(created.Tags) != 1 || aws.ToString(created.Settings[0].Value) != "enabled" {
		t.Errorf("CreateCluster: got status %s tags %v settings %v", aws.ToString(created.Status), created.Tags, created.Settings)
	}
	again := awstest.Call(t, c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}).Cluster
	if aws.ToString(again.Settings[0].Value) != "enabled" {
		t.Errorf("CreateCluster of an existing cluster changed it: %v", again.Settings)
	}

	d := awstest.Call(t, c.DescribeClusters, &ecs.DescribeClustersInput{Clusters: []string{"prod", arnPrefix + "cluster/prod", "nope"}})
	if len(d.Clusters) != 2 || len(d.Failures) != 1 || aws.ToString(d.Failures[0].Reason) != "MISSING" ||
		aws.ToString(d.Failures[0].Arn) != arnPrefix+"cluster/nope" {
		t.Fatalf("DescribeClusters: got %d clusters, failures %+v", len(d.Clusters), d.Failures)
	}
	if d.Clusters[0].Tags != nil || d.Clusters[0].Settings != nil {
		t.Errorf("DescribeClusters without include: got tags %v settings %v, want none", d.Clusters[0].Tags, d.Clusters[0].Settings)
	}
	d = awstest.Call(t, c.DescribeClusters, &ecs.DescribeClustersInput{Clusters: []string{"prod"},
		Include: []types.ClusterField{types.ClusterFieldTags, types.ClusterFieldSettings, types.ClusterFieldStatistics}})
	if len(d.Clusters[0].Tags) != 1 || len(d.Clusters[0].Settings) != 1 || len(d.Clusters[0].Statistics) == 0 {
		t.Errorf("DescribeClusters with include: got %+v", d.Clusters[0])
	}

	upd := awstest.Call(t, c.UpdateClusterSettings, &ecs.UpdateClusterSettingsInput{Cluster: aws.String("prod"),
		Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("disabled")}}}).Cluster
	if aws.ToString(upd.Settings[0].Value) != "disabled" {
		t.Errorf("UpdateClusterSettings: got %v", upd.Settings)
	}
	put := awstest.Call(t, c.PutClusterCapacityProviders, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("prod"),
		CapacityProviders: []string{"FARGATE"}, DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE"), Weight: 1}}}).Cluster
	if diff := cmp.Diff([]string{"FARGATE"}, put.CapacityProviders); diff != "" {
		t.Errorf("PutClusterCapacityProviders (-want +got):\n%s", diff)
	}

	for _, name := range []string{"b", "c", "d"} {
		awstest.Call(t, c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String(name)})
	}
	var all []string
	p := ecs.NewListClustersPaginator(c, &ecs.ListClustersInput{MaxResults: aws.Int32(3)})
	for p.HasMorePages() {
		all = append(all, awstest.NextPage(t, p).ClusterArns...)
	}
	if diff := cmp.Diff([]string{arnPrefix + "cluster/b", arnPrefix + "cluster/c", arnPrefix + "cluster/d", arnPrefix + "cluster/prod"}, all); diff != "" {
		t.Errorf("ListClusters pages (-want +got):\n%s", diff)
	}

	del := awstest.Call(t, c.DeleteCluster, &ecs.DeleteClusterInput{Cluster: aws.String("b")}).Cluster
	if aws.ToString(del.Status) != "INACTIVE" {
		t.Errorf("DeleteCluster: got status %s, want INACTIVE", aws.ToString(del.Status))
	}
	d = awstest.Call(t, c.DescribeClusters, &ecs.DescribeClustersInput{Clusters: []string{"b"}})
	if len(d.Clusters) != 1 || aws.ToString(d.Clusters[0].Status) != "INACTIVE" {
		t.Errorf("DescribeClusters after delete: got %+v, want it INACTIVE", d.Clusters)
	}
	list := awstest.Call(t, c.ListClusters, &ecs.ListClustersInput{})
	if len(list.ClusterArns) != 3 {
		t.Errorf("ListClusters after delete: got %v", list.ClusterArns)
	}
}

func TestDeletedClusterDisappears(t *testing.T) {
	fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	_, c := start(t, awstest.Clock(fake))
	awstest.Call(t, c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("gone")})
	awstest.Call(t, c.DeleteCluster, &ecs.DeleteClusterInput{Cluster: aws.String("gone")})
	fake.Advance(2 * time.Hour)
	d := awstest.Call(t, c.DescribeClusters, &ecs.DescribeClustersInput{Clusters: []string{"gone"}})
	if len(d.Clusters) != 0 || len(d.Failures) != 1 {
		t.Errorf("2h after delete: got clusters %+v failures %+v, want MISSING", d.Clusters, d.Failures)
	}
}

func TestTaskDefinitionRevisions(t *testing.T) {
	_, c := start(t)
	in := web("app")
	in.Tags = []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}
	first := awstest.Call(t, c.RegisterTaskDefinition, in).TaskDefinition
	second := awstest.Call(t, c.RegisterTaskDefinition, web("app")).TaskDefinition
	awstest.Call(t, c.RegisterTaskDefinition, web("other"))
	if got, want := aws.ToString(second.TaskDefinitionArn), arnPrefix+"task-definition/app:2"; got != want {
		t.Errorf("second revision: got %s, want %s", got, want)
	}
	if diff := cmp.Diff([]types.Compatibility{"EC2", "FARGATE"}, first.Compatibilities); diff != "" {
		t.Errorf("compatibilities (-want +got):\n%s", diff)
	}
	if first.Status != types.TaskDefinitionStatusActive || first.RegisteredAt == nil || aws.ToString(first.RegisteredBy) == "" {
		t.Errorf("registration: got status %s at %v by %q", first.Status, first.RegisteredAt, aws.ToString(first.RegisteredBy))
	}
	if pm := first.ContainerDefinitions[0].PortMappings[0]; aws.ToInt32(pm.HostPort) != 80 || pm.Protocol != types.TransportProtocolTcp {
		t.Errorf("awsvpc port mapping: got host port %d protocol %s, want 80 tcp", aws.ToInt32(pm.HostPort), pm.Protocol)
	}
	if !aws.ToBool(first.ContainerDefinitions[0].Essential) {
		t.Errorf("essential: got false, want the default true")
	}

	for _, ref := range []string{"app", "app:2", arnPrefix + "task-definition/app:2"} {
		got := awstest.Call(t, c.DescribeTaskDefinition, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)}).TaskDefinition
		if aws.ToInt32(&got.Revision) != 2 {
			t.Errorf("DescribeTaskDefinition(%s): got revision %d, want 2", ref, got.Revision)
		}
	}
	tagged := awstest.Call(t, c.DescribeTaskDefinition, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("app:1"),
		Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
	if len(tagged.Tags) != 1 {
		t.Errorf("DescribeTaskDefinition with TAGS: got %v", tagged.Tags)
	}

	dereg := awstest.Call(t, c.DeregisterTaskDefinition, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("app:2")}).TaskDefinition
	if dereg.Status != types.TaskDefinitionStatusInactive || dereg.DeregisteredAt == nil {
		t.Errorf("DeregisterTaskDefinition: got %s at %v", dereg.Status, dereg.DeregisteredAt)
	}
	latest := awstest.Call(t, c.DescribeTaskDefinition, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("app")}).TaskDefinition
	if latest.Revision != 1 {
		t.Errorf("family after deregistering rev 2: got revision %d, want 1", latest.Revision)
	}

	list := func(in *ecs.ListTaskDefinitionsInput) []string {
		var out []string
		p := ecs.NewListTaskDefinitionsPaginator(c, in)
		for p.HasMorePages() {
			out = append(out, awstest.NextPage(t, p).TaskDefinitionArns...)
		}
		return out
	}
	td := func(s string) string { return arnPrefix + "task-definition/" + s }
	if diff := cmp.Diff([]string{td("app:1"), td("other:1")}, list(&ecs.ListTaskDefinitionsInput{MaxResults: aws.Int32(1)})); diff != "" {
		t.Errorf("ListTaskDefinitions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{td("other:1"), td("app:1")}, list(&ecs.ListTaskDefinitionsInput{Sort: types.SortOrderDesc})); diff != "" {
		t.Errorf("ListTaskDefinitions DESC (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{td("app:2")}, list(&ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("ap"), Status: types.TaskDefinitionStatusInactive})); diff != "" {
		t.Errorf("ListTaskDefinitions INACTIVE (-want +got):\n%s", diff)
	}
	fams := awstest.Call(t, c.ListTaskDefinitionFamilies, &ecs.ListTaskDefinitionFamiliesInput{})
	if diff := cmp.Diff([]string{"app", "other"}, fams.Families); diff != "" {
		t.Errorf("ListTaskDefinitionFamilies (-want +got):\n%s", diff)
	}

	del := awstest.Call(t, c.DeleteTaskDefinitions, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"app:2", "app:1", "app:9"}})
	if len(del.TaskDefinitions) != 1 || del.TaskDefinitions[0].Status != types.TaskDefinitionStatusDeleteInProgress || len(del.Failures) != 2 {
		t.Errorf("DeleteTaskDefinitions: got %+v failures %+v", del.TaskDefinitions, del.Failures)
	}
	third := awstest.Call(t, c.RegisterTaskDefinition, web("app")).TaskDefinition
	if third.Revision != 3 {
		t.Errorf("revision after a delete: got %d, want 3 (never reused)", third.Revision)
	}
}

func TestTaskDefinitionComputedFields(t *testing.T) {
	_, c := start(t)
	in := &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("ec2only"), TaskRoleArn: aws.String("arn:aws:iam::000000000000:role/task"),
		ExecutionRoleArn: aws.String("arn:aws:iam::000000000000:role/exec"),
		Cpu:              aws.String("1 vCPU"), Memory: aws.String("2 GB"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("000000000000.dkr.ecr.us-east-1.amazonaws.com/app:1"),
			MemoryReservation: aws.Int32(128),
			PortMappings:      []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
			LogConfiguration: &types.LogConfiguration{LogDriver: types.LogDriverAwslogs,
				Options: map[string]string{"awslogs-group": "g", "awslogs-region": "us-east-1"}},
		}},
	}
	got := awstest.Call(t, c.RegisterTaskDefinition, in).TaskDefinition
	if aws.ToString(got.Cpu) != "1024" || aws.ToString(got.Memory) != "2048" {
		t.Errorf("cpu/memory: got %s/%s, want 1024/2048", aws.ToString(got.Cpu), aws.ToString(got.Memory))
	}
	if diff := cmp.Diff([]types.Compatibility{"EC2"}, got.Compatibilities); diff != "" {
		t.Errorf("bridge mode is not Fargate's (-want +got):\n%s", diff)
	}
	if hp := got.ContainerDefinitions[0].PortMappings[0].HostPort; aws.ToInt32(hp) != 0 {
		t.Errorf("bridge host port: got %d, want 0 (dynamic)", aws.ToInt32(hp))
	}
	var names []string
	for _, a := range got.RequiresAttributes {
		names = append(names, aws.ToString(a.Name))
	}
	want := []string{
		"com.amazonaws.ecs.capability.docker-remote-api.1.19",
		"com.amazonaws.ecs.capability.docker-remote-api.1.21",
		"com.amazonaws.ecs.capability.ecr-auth",
		"com.amazonaws.ecs.capability.logging-driver.awslogs",
		"com.amazonaws.ecs.capability.task-iam-role",
		"ecs.capability.execution-role-awslogs",
		"ecs.capability.execution-role-ecr-pull",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("requiresAttributes (-want +got):\n%s", diff)
	}
}

// container is a container definition with what every rule needs.
func container(name string, mutate ...func(*types.ContainerDefinition)) types.ContainerDefinition {
	c := types.ContainerDefinition{Name: aws.String(name), Image: aws.String("busybox"), Memory: aws.Int32(128)}
	for _, m := range mutate {
		m(&c)
	}
	return c
}

func TestTaskDefinitionValidation(t *testing.T) {
	_, c := start(t)
	ec2 := func(cs ...types.ContainerDefinition) *ecs.RegisterTaskDefinitionInput {
		return &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), ContainerDefinitions: append([]types.ContainerDefinition{}, cs...)}
	}
	fargate := func(cpu, mem string, mutate ...func(*ecs.RegisterTaskDefinitionInput)) *ecs.RegisterTaskDefinitionInput {
		in := web("f")
		in.Cpu, in.Memory = aws.String(cpu), aws.String(mem)
		for _, m := range mutate {
			m(in)
		}
		return in
	}
	with := func(in *ecs.RegisterTaskDefinitionInput, m func(*ecs.RegisterTaskDefinitionInput)) *ecs.RegisterTaskDefinitionInput {
		m(in)
		return in
	}
	client := func(msg string) awstest.APIError {
		return awstest.APIError{Code: "ClientException", Status: 400, Message: msg}
	}
	tests := []struct {
		name string
		in   *ecs.RegisterTaskDefinitionInput
		want awstest.APIError
	}{
		{"bad family", &ecs.RegisterTaskDefinitionInput{Family: aws.String("a b"), ContainerDefinitions: []types.ContainerDefinition{container("x")}},
			client("Family contains invalid characters.")},
		{"no containers", ec2(), client("Container list cannot be empty.")},
		{"no name", ec2(container("")), client("Container.name should not be null or empty.")},
		{"no image", ec2(container("x", func(c *types.ContainerDefinition) { c.Image = aws.String("") })),
			client("Container.image should not be null or empty.")},
		{"duplicate names", ec2(container("x"), container("x")), client("Container names must be unique within a Task Definition.")},
		{"bad container name", ec2(container("a.b")), client("Container.name contains invalid characters.")},
		{"no essential container", ec2(container("x", func(c *types.ContainerDefinition) { c.Essential = aws.Bool(false) })),
			client("Task definition doesn't have any essential container.")},
		{"no memory", ec2(container("x", func(c *types.ContainerDefinition) { c.Memory = nil })),
			client("Invalid setting for container 'x'. At least one of 'memory' or 'memoryReservation' must be specified.")},
		{"reservation above memory", ec2(container("x", func(c *types.ContainerDefinition) { c.MemoryReservation = aws.Int32(256) })),
			client("Invalid setting for container 'x'.")},
		{"container memory above task", with(ec2(container("x", func(c *types.ContainerDefinition) { c.Memory = aws.Int32(1024) })),
			func(in *ecs.RegisterTaskDefinitionInput) { in.Memory = aws.String("512") }),
			client("The 'memory' setting for container 'x' is greater than for the task.")},
		{"reservations above task memory", with(ec2(
			container("x", func(c *types.ContainerDefinition) { c.Memory, c.MemoryReservation = nil, aws.Int32(300) }),
			container("y", func(c *types.ContainerDefinition) { c.Memory, c.MemoryReservation = nil, aws.Int32(300) })),
			func(in *ecs.RegisterTaskDefinitionInput) { in.Memory = aws.String("512") }),
			client("The sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory'.")},
		{"bad task cpu", with(ec2(container("x")), func(in *ecs.RegisterTaskDefinitionInput) { in.Cpu = aws.String("lots") }),
			client("Invalid 'cpu' setting for task.")},
		{"bad task memory", with(ec2(container("x")), func(in *ecs.RegisterTaskDefinitionInput) { in.Memory = aws.String("1 TB") }),
			client("Invalid 'memory' setting for task.")},
		{"fargate bridge", fargate("256", "512", func(in *ecs.RegisterTaskDefinitionInput) { in.NetworkMode = types.NetworkModeBridge }),
			client("Fargate only supports network mode \u2018awsvpc\u2019.")},
		{"fargate without cpu", fargate("256", "512", func(in *ecs.RegisterTaskDefinitionInput) { in.Cpu = nil }),
			client("Fargate requires that 'cpu' be defined at the task level.")},
		{"fargate without memory", fargate("256", "512", func(in *ecs.RegisterTaskDefinitionInput) { in.Memory = nil }),
			client("Fargate requires that 'memory' be defined at the task level.")},
		{"fargate pair", fargate("256", "4096"),
			client("No Fargate configuration exists for given values: 256 CPU, 4096 memory. See the Amazon ECS documentation for the valid values.")},
		{"fargate pair in GB", fargate("1 vCPU", "1 GB"),
			client("No Fargate configuration exists for given values: 1024 CPU, 1024 memory.")},
		{"fargate ipcMode", fargate("256", "512", func(in *ecs.RegisterTaskDefinitionInput) { in.IpcMode = types.IpcModeHost }),
			client("Tasks using the Fargate launch type do not support ipcMode.")},
		{"fargate awslogs without prefix", fargate("256", "512", func(in *ecs.RegisterTaskDefinitionInput) {
			in.ExecutionRoleArn = aws.String("arn:aws:iam::000000000000:role/x")
			in.ContainerDefinitions[0].LogConfiguration = &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{"awslogs-group": "g"}}
		}), client("Log driver awslogs option 'awslogs-stream-prefix' should not be null or empty.")},
		{"fargate awslogs without execution role", fargate("256", "512", func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions[0].LogConfiguration = &types.LogConfiguration{LogDriver: types.LogDriverAwslogs,
				Options: map[string]string{"awslogs-group": "g", "awslogs-stream-prefix": "p"}}
		}), client("Fargate requires task definition to have execution role ARN to support log driver awslogs.")},
		{"fargate ECR image without execution role", fargate("256", "512", func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions[0].Image = aws.String("000000000000.dkr.ecr.us-east-1.amazonaws.com/app:1")
		}), client("Fargate requires task definition to have execution role ARN to support ECR images.")},
		{"awslogs without group", ec2(container("x", func(c *types.ContainerDefinition) {
			c.LogConfiguration = &types.LogConfiguration{LogDriver: types.LogDriverAwslogs}
		})), client("Log driver awslogs option 'awslogs-group' should not be null or empty.")},
		{"awsvpc host port", with(ec2(container("x", func(c *types.ContainerDefinition) {
			c.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(8080)}}
		})), func(in *ecs.RegisterTaskDefinitionInput) { in.NetworkMode = types.NetworkModeAwsvpc }),
			client("When networkMode=awsvpc, the host ports and container ports in port mappings must match.")},
		{"host host port", with(ec2(container("x", func(c *types.ContainerDefinition) {
			c.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(0)}}
		})), func(in *ecs.RegisterTaskDefinitionInput) { in.NetworkMode = types.NetworkModeHost }),
			client("When networkMode=host, the host ports and container ports in port mappings must match.")},
		{"no container port", ec2(container("x", func(c *types.ContainerDefinition) {
			c.PortMappings = []types.PortMapping{{HostPort: aws.Int32(80)}}
		})), client("Invalid 'containerPort' setting for container 'x'.")},
		{"links outside bridge", with(ec2(container("x", func(c *types.ContainerDefinition) { c.Links = []string{"y"} }), container("y")),
			func(in *ecs.RegisterTaskDefinitionInput) { in.NetworkMode = types.NetworkModeHost }),
			client("Links are not supported when networkMode=host.")},
		{"link to nothing", ec2(container("x", func(c *types.ContainerDefinition) { c.Links = []string{"db:database"} })),
			client("Invalid 'links' setting. Unknown container: 'db'.")},
		{"mount of no volume", ec2(container("x", func(c *types.ContainerDefinition) {
			c.MountPoints = []types.MountPoint{{SourceVolume: aws.String("data"), ContainerPath: aws.String("/data")}}
		})), client("Unknown volume 'data'.")},
		{"volumesFrom no container", ec2(container("x", func(c *types.ContainerDefinition) {
			c.VolumesFrom = []types.VolumeFrom{{SourceContainer: aws.String("nope")}}
		})), client("Invalid 'volumesFrom' setting. Unknown container: 'nope'.")},
		{"dependsOn no container", ec2(container("x", func(c *types.ContainerDefinition) {
			c.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("nope"), Condition: types.ContainerConditionStart}}
		})), client("Cannot depend on container + 'nope' because it does not exist")},
		{"efs access point without transit encryption", with(ec2(container("x")), func(in *ecs.RegisterTaskDefinitionInput) {
			in.Volumes = []types.Volume{{Name: aws.String("v"), EfsVolumeConfiguration: &types.EFSVolumeConfiguration{FileSystemId: aws.String("fs-12345678"),
				AuthorizationConfig: &types.EFSAuthorizationConfig{AccessPointId: aws.String("fsap-12345678")}}}}
		}), client("transit encryption must be enabled when using an EFS access point.")},
		{"efs IAM without transit encryption", with(ec2(container("x")), func(in *ecs.RegisterTaskDefinitionInput) {
			in.Volumes = []types.Volume{{Name: aws.String("v"), EfsVolumeConfiguration: &types.EFSVolumeConfiguration{FileSystemId: aws.String("fs-12345678"),
				TransitEncryption: types.EFSTransitEncryptionDisabled, AuthorizationConfig: &types.EFSAuthorizationConfig{Iam: types.EFSAuthorizationConfigIAMEnabled}}}}
		}), client("transit encryption must be enabled when using EFS IAM authorization.")},
		{"efs access point with a root directory", with(ec2(container("x")), func(in *ecs.RegisterTaskDefinitionInput) {
			in.Volumes = []types.Volume{{Name: aws.String("v"), EfsVolumeConfiguration: &types.EFSVolumeConfiguration{FileSystemId: aws.String("fs-12345678"),
				RootDirectory: aws.String("/data"), TransitEncryption: types.EFSTransitEncryptionEnabled,
				AuthorizationConfig: &types.EFSAuthorizationConfig{AccessPointId: aws.String("fsap-12345678")}}}}
		}), client(`When using an EFS access point, the root directory must either be set to "/" or be omitted.`)},
		{"two kinds of volume", with(ec2(container("x")), func(in *ecs.RegisterTaskDefinitionInput) {
			in.Volumes = []types.Volume{{Name: aws.String("v"), Host: &types.HostVolumeProperties{},
				EfsVolumeConfiguration: &types.EFSVolumeConfiguration{FileSystemId: aws.String("fs-12345678")}}}
		}), client("Volume 'v' can specify only one of host")},
		{"duplicate volume names", with(ec2(container("x")), func(in *ecs.RegisterTaskDefinitionInput) {
			in.Volumes = []types.Volume{{Name: aws.String("v")}, {Name: aws.String("v")}}
		}), client("Volume names must be unique within a Task Definition: 'v'.")},
		{"fargate host volume", fargate("256", "512", func(in *ecs.RegisterTaskDefinitionInput) {
			in.Volumes = []types.Volume{{Name: aws.String("v"), Host: &types.HostVolumeProperties{SourcePath: aws.String("/data")}}}
		}), client("Fargate compatible task definitions do not support sourcePath")},
		{"dependsOn SUCCESS on essential", ec2(container("x", func(c *types.ContainerDefinition) {
			c.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("init"), Condition: types.ContainerConditionSuccess}}
		}), container("init")), client("A dependency container with SUCCESS or COMPLETE condition cannot be an essential container")},
		{"environment file not on S3", ec2(container("x", func(c *types.ContainerDefinition) {
			c.EnvironmentFiles = []types.EnvironmentFile{{Type: types.EnvironmentFileTypeS3, Value: aws.String("file.env")}}
		})), client("Invalid environment file")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.RegisterTaskDefinition(context.Background(), tt.in)
			awstest.WantAPIError(t, err, tt.want)
		})
	}

	valid := []*ecs.RegisterTaskDefinitionInput{
		fargate("512", "2 GB"), fargate("0.25 vCPU", "0.5GB"), fargate("4096", "30720"), fargate("16384", "122880"),
		ec2(container("x", func(c *types.ContainerDefinition) { c.Memory, c.MemoryReservation = nil, aws.Int32(64) })),
		ec2(container("x", func(c *types.ContainerDefinition) {
			c.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("init"), Condition: types.ContainerConditionComplete}}
			c.Links = []string{"init:i"}
			c.VolumesFrom = []types.VolumeFrom{{SourceContainer: aws.String("init")}}
		}), container("init", func(c *types.ContainerDefinition) { c.Essential = aws.Bool(false) })),
	}
	for i, in := range valid {
		if _, err := c.RegisterTaskDefinition(context.Background(), in); err != nil {
			t.Errorf("valid definition %d: %v", i, err)
		}
	}
}

func identity(instanceID, az string) string {
	return `{"instanceId":"` + instanceID + `","instanceType":"t3.medium","availabilityZone":"` + az +
		`","region":"us-east-1","imageId":"ami-123","architecture":"x86_64"}`
}

func TestContainerInstances(t *testing.T) {
	_, c := start(t)
	reg := awstest.Call(t, c.RegisterContainerInstance, &ecs.RegisterContainerInstanceInput{
		InstanceIdentityDocument: aws.String(identity("i-0123", "us-east-1a")),
		TotalResources: []types.Resource{
			{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 2048},
			{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: 3904},
		},
		Attributes: []types.Attribute{{Name: aws.String("com.amazonaws.ecs.capability.task-iam-role")}},
		Tags:       []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
	}).ContainerInstance
	// No cluster named: the default cluster is made for it.
	d := awstest.Call(t, c.DescribeClusters, &ecs.DescribeClustersInput{})
	if len(d.Clusters) != 1 || d.Clusters[0].RegisteredContainerInstancesCount != 1 {
		t.Fatalf("default cluster: got %+v", d.Clusters)
	}
	arn := aws.ToString(reg.ContainerInstanceArn)
	if len(arn) <= len(arnPrefix+"container-instance/default/") || arn[:len(arnPrefix+"container-instance/default/")] != arnPrefix+"container-instance/default/" {
		t.Errorf("ARN: got %s", arn)
	}
	if !reg.AgentConnected || aws.ToString(reg.Status) != "ACTIVE" || aws.ToString(reg.Ec2InstanceId) != "i-0123" {
		t.Errorf("registered: got %+v", reg)
	}
	res := map[string]types.Resource{}
	for _, r := range reg.RegisteredResources {
		res[aws.ToString(r.Name)] = r
	}
	if res["CPU"].IntegerValue != 2048 || res["MEMORY"].IntegerValue != 3904 {
		t.Errorf("registered CPU/memory: got %d/%d", res["CPU"].IntegerValue, res["MEMORY"].IntegerValue)
	}
	if diff := cmp.Diff([]string{"22", "2375", "2376", "51678", "51679"}, res["PORTS"].StringSetValue); diff != "" {
		t.Errorf("reserved ports (-want +got):\n%s", diff)
	}
	attrs := map[string]string{}
	for _, a := range reg.Attributes {
		attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	for name, want := range map[string]string{"ecs.availability-zone": "us-east-1a", "ecs.instance-type": "t3.medium",
		"ecs.os-type": "linux", "ecs.ami-id": "ami-123", "ecs.cpu-architecture": "x86_64", "com.amazonaws.ecs.capability.task-iam-role": ""} {
		if got, ok := attrs[name]; !ok || got != want {
			t.Errorf("attribute %s: got %q (present %v), want %q", name, got, ok, want)
		}
	}

	put := awstest.Call(t, c.PutAttributes, &ecs.PutAttributesInput{Attributes: []types.Attribute{
		{Name: aws.String("stack"), Value: aws.String("prod"), TargetId: aws.String(arn)}}})
	if len(put.Attributes) != 1 || aws.ToString(put.Attributes[0].TargetId) != arn {
		t.Errorf("PutAttributes: got %+v", put.Attributes)
	}
	la := awstest.Call(t, c.ListAttributes, &ecs.ListAttributesInput{TargetType: types.TargetTypeContainerInstance,
		AttributeName: aws.String("stack"), AttributeValue: aws.String("prod")})
	if len(la.Attributes) != 1 || aws.ToString(la.Attributes[0].TargetId) != arn {
		t.Errorf("ListAttributes: got %+v", la.Attributes)
	}
	awstest.Call(t, c.DeleteAttributes, &ecs.DeleteAttributesInput{Attributes: []types.Attribute{{Name: aws.String("stack"), TargetId: aws.String(arn)}}})
	la = awstest.Call(t, c.ListAttributes, &ecs.ListAttributesInput{TargetType: types.TargetTypeContainerInstance, AttributeName: aws.String("stack")})
	if len(la.Attributes) != 0 {
		t.Errorf("ListAttributes after delete: got %+v", la.Attributes)
	}

	drain := awstest.Call(t, c.UpdateContainerInstancesState, &ecs.UpdateContainerInstancesStateInput{
		ContainerInstances: []string{arn, "nope"}, Status: types.ContainerInstanceStatusDraining})
	if len(drain.ContainerInstances) != 1 || aws.ToString(drain.ContainerInstances[0].Status) != "DRAINING" || len(drain.Failures) != 1 {
		t.Errorf("UpdateContainerInstancesState: got %+v failures %+v", drain.ContainerInstances, drain.Failures)
	}
	lst := awstest.Call(t, c.ListContainerInstances, &ecs.ListContainerInstancesInput{Status: types.ContainerInstanceStatusActive})
	if len(lst.ContainerInstanceArns) != 0 {
		t.Errorf("ListContainerInstances ACTIVE: got %v", lst.ContainerInstanceArns)
	}
	lst = awstest.Call(t, c.ListContainerInstances, &ecs.ListContainerInstancesInput{})
	if diff := cmp.Diff([]string{arn}, lst.ContainerInstanceArns); diff != "" {
		t.Errorf("ListContainerInstances (-want +got):\n%s", diff)
	}
	// filter is an expression of the cluster query language.
	for _, tt := range []struct {
		filter string
		want   []string
	}{
		{"attribute:ecs.availability-zone == us-east-1a", []string{arn}},
		{"attribute:ecs.instance-type =~ t3.*", []string{arn}},
		{"attribute:ecs.instance-type =~ t2.*", nil},
		{"ec2InstanceId in ['i-0123', 'i-9'] and runningTasksCount == 0", []string{arn}},
		{"not(attribute:ecs.availability-zone in [us-east-1a, us-east-1b])", nil},
		{"attribute:com.amazonaws.ecs.capability.task-iam-role exists", []string{arn}},
	} {
		got := awstest.Call(t, c.ListContainerInstances, &ecs.ListContainerInstancesInput{Filter: aws.String(tt.filter)})
		if diff := cmp.Diff(tt.want, got.ContainerInstanceArns, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ListContainerInstances filter %q (-want +got):\n%s", tt.filter, diff)
		}
	}
	desc := awstest.Call(t, c.DescribeContainerInstances, &ecs.DescribeContainerInstancesInput{ContainerInstances: []string{arn},
		Include: []types.ContainerInstanceField{types.ContainerInstanceFieldTags}})
	if len(desc.ContainerInstances) != 1 || len(desc.ContainerInstances[0].Tags) != 1 {
		t.Errorf("DescribeContainerInstances with TAGS: got %+v", desc.ContainerInstances)
	}

	_, err := c.DeleteCluster(context.Background(), &ecs.DeleteClusterInput{Cluster: aws.String("default")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ClusterContainsContainerInstancesException",
		Message: "The Cluster cannot be deleted while Container Instances are active or draining."})
	dereg := awstest.Call(t, c.DeregisterContainerInstance, &ecs.DeregisterContainerInstanceInput{ContainerInstance: aws.String(arn)}).ContainerInstance
	if aws.ToString(dereg.Status) != "INACTIVE" || dereg.AgentConnected {
		t.Errorf("DeregisterContainerInstance: got %s connected %v", aws.ToString(dereg.Status), dereg.AgentConnected)
	}
	awstest.Call(t, c.DeleteCluster, &ecs.DeleteClusterInput{Cluster: aws.String("default")})
}

func TestTags(t *testing.T) {
	_, c := start(t)
	cl := aws.ToString(awstest.Call(t, c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("t")}).Cluster.ClusterArn)
	td := aws.ToString(awstest.Call(t, c.RegisterTaskDefinition, web("t")).TaskDefinition.TaskDefinitionArn)
	ci := aws.ToString(awstest.Call(t, c.RegisterContainerInstance, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("t"),
		InstanceIdentityDocument: aws.String(identity("i-1", "us-east-1b"))}).ContainerInstance.ContainerInstanceArn)
	for _, arn := range []string{cl, td, ci} {
		awstest.Call(t, c.TagResource, &ecs.TagResourceInput{ResourceArn: aws.String(arn),
			Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}})
		awstest.Call(t, c.UntagResource, &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"a"}})
		got := awstest.Call(t, c.ListTagsForResource, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)}).Tags
		if len(got) != 1 || aws.ToString(got[0].Key) != "b" {
			t.Errorf("tags of %s: got %+v, want b=2", arn, got)
		}
	}
}

func TestErrors(t *testing.T) {
	_, c := start(t)
	awstest.Call(t, c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("e")})
	awstest.Call(t, c.RegisterTaskDefinition, web("e"))
	notFound := awstest.APIError{Code: "ClusterNotFoundException", Status: 400, Message: "Cluster not found."}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "UpdateCluster unknown", Call: awstest.Fails(c.UpdateCluster, &ecs.UpdateClusterInput{Cluster: aws.String("nope")}), Want: notFound},
		{Name: "DeleteCluster unknown", Call: awstest.Fails(c.DeleteCluster, &ecs.DeleteClusterInput{Cluster: aws.String("nope")}), Want: notFound},
		{Name: "ListContainerInstances unknown cluster", Call: awstest.Fails(c.ListContainerInstances, &ecs.ListContainerInstancesInput{Cluster: aws.String("nope")}), Want: notFound},
		{Name: "RegisterContainerInstance unknown cluster", Call: awstest.Fails(c.RegisterContainerInstance, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("nope")}), Want: notFound},
		{Name: "CreateCluster bad name", Call: awstest.Fails(c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("a b")}),
			Want: awstest.APIError{Code: "InvalidParameterException", Status: 400}},
		{Name: "CreateCluster unknown capacity provider", Call: awstest.Fails(c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("x"), CapacityProviders: []string{"mine"}}),
			Want: awstest.APIError{Code: "InvalidParameterException", Message: "'mine'"}},
		{Name: "strategy names an unattached provider", Call: awstest.Fails(c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("x"),
			DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE")}}}),
			Want: awstest.APIError{Code: "InvalidParameterException", Message: "not associated with the cluster"}},
		{Name: "DescribeTaskDefinition unknown", Call: awstest.Fails(c.DescribeTaskDefinition, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("nope")}),
			Want: awstest.APIError{Code: "ClientException", Status: 400, Message: "Unable to describe task definition."}},
		{Name: "DeregisterTaskDefinition without revision", Call: awstest.Fails(c.DeregisterTaskDefinition, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("e")}),
			Want: awstest.APIError{Code: "ClientException", Message: "Invalid revision number."}},
		{Name: "DeregisterTaskDefinition unknown", Call: awstest.Fails(c.DeregisterTaskDefinition, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("e:7")}),
			Want: awstest.APIError{Code: "ClientException", Message: "The specified task definition does not exist."}},
		{Name: "ListContainerInstances filter", Call: awstest.Fails(c.ListContainerInstances, &ecs.ListContainerInstancesInput{Cluster: aws.String("e"), Filter: aws.String("attribute:x ==")}),
			Want: awstest.APIError{Code: "InvalidParameterException"}},
		{Name: "UpdateContainerInstancesState bad status", Call: awstest.Fails(c.UpdateContainerInstancesState, &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String("e"),
			ContainerInstances: []string{"x"}, Status: types.ContainerInstanceStatusRegistering}), Want: awstest.APIError{Code: "InvalidParameterException"}},
		{Name: "PutAttributes unknown target", Call: awstest.Fails(c.PutAttributes, &ecs.PutAttributesInput{Cluster: aws.String("e"),
			Attributes: []types.Attribute{{Name: aws.String("a"), Value: aws.String("b"), TargetId: aws.String("nope")}}}),
			Want: awstest.APIError{Code: "TargetNotFoundException"}},
		{Name: "PutAttributes reserved name", Call: awstest.Fails(c.PutAttributes, &ecs.PutAttributesInput{Cluster: aws.String("e"),
			Attributes: []types.Attribute{{Name: aws.String("ecs.instance-type"), Value: aws.String("b"), TargetId: aws.String("x")}}}),
			Want: awstest.APIError{Code: "InvalidParameterException"}},
		{Name: "ListAttributes value without name", Call: awstest.Fails(c.ListAttributes, &ecs.ListAttributesInput{Cluster: aws.String("e"),
			TargetType: types.TargetTypeContainerInstance, AttributeValue: aws.String("v")}), Want: awstest.APIError{Code: "InvalidParameterException"}},
		{Name: "DeregisterContainerInstance unknown", Call: awstest.Fails(c.DeregisterContainerInstance, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String("e"),
			ContainerInstance: aws.String("nope")}), Want: awstest.APIError{Code: "InvalidParameterException"}},
		{Name: "TagResource unknown cluster", Call: awstest.Fails(c.TagResource, &ecs.TagResourceInput{ResourceArn: aws.String(arnPrefix + "cluster/nope"),
			Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}), Want: awstest.APIError{Code: "ResourceNotFoundException"}},
		{Name: "TagResource aws: prefix", Call: awstest.Fails(c.TagResource, &ecs.TagResourceInput{ResourceArn: aws.String(arnPrefix + "cluster/e"),
			Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("b")}}}), Want: awstest.APIError{Code: "InvalidParameterException"}},
		{Name: "PutAttributes beyond 10 custom attributes", Call: func(ctx context.Context) error {
			arn := aws.ToString(awstest.Call(t, c.RegisterContainerInstance, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("e"),
				InstanceIdentityDocument: aws.String(identity("i-lim", "us-east-1a"))}).ContainerInstance.ContainerInstanceArn)
			put := func(from, to int) error {
				var attrs []types.Attribute
				for i := from; i < to; i++ {
					attrs = append(attrs, types.Attribute{Name: aws.String(fmt.Sprintf("a%d", i)), TargetId: aws.String(arn)})
				}
				_, err := c.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: aws.String("e"), Attributes: attrs})
				return err
			}
			if err := put(0, 10); err != nil {
				return err
			}
			return put(10, 11)
		}, Want: awstest.APIError{Code: "AttributeLimitExceededException"}},
		{Name: "UpdateContainerAgent", Call: awstest.Fails(c.UpdateContainerAgent, &ecs.UpdateContainerAgentInput{Cluster: aws.String("e"),
			ContainerInstance: aws.String(arnPrefix + "container-instance/e/nope")}), Want: awstest.APIError{Code: "InvalidParameterException"}},
		{Name: "ListClusters bad token", Call: awstest.Fails(c.ListClusters, &ecs.ListClustersInput{NextToken: aws.String("%%%")}),
			Want: awstest.APIError{Code: "InvalidParameterException"}},
	})
}

func TestRestartKeepsState(t *testing.T) {
	srv, c := start(t)
	awstest.Call(t, c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("keep")})
	awstest.Call(t, c.RegisterTaskDefinition, web("keep"))
	ci := aws.ToString(awstest.Call(t, c.RegisterContainerInstance, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("keep"),
		InstanceIdentityDocument: aws.String(identity("i-9", "us-east-1c"))}).ContainerInstance.ContainerInstanceArn)
	srv.Restart(t)
	c = ecs.NewFromConfig(srv.Config())
	d := awstest.Call(t, c.DescribeClusters, &ecs.DescribeClustersInput{Clusters: []string{"keep"}})
	if len(d.Clusters) != 1 || d.Clusters[0].RegisteredContainerInstancesCount != 1 {
		t.Errorf("cluster after restart: got %+v", d.Clusters)
	}
	td := awstest.Call(t, c.RegisterTaskDefinition, web("keep")).TaskDefinition
	if td.Revision != 2 {
		t.Errorf("revision after restart: got %d, want 2", td.Revision)
	}
	lst := awstest.Call(t, c.ListContainerInstances, &ecs.ListContainerInstancesInput{Cluster: aws.String("keep")})
	if diff := cmp.Diff([]string{ci}, lst.ContainerInstanceArns); diff != "" {
		t.Errorf("container instances after restart (-want +got):\n%s", diff)
	}
}

func TestAccountSettings(t *testing.T) {
	_, c := start(t)
	eff := func(name types.SettingName) string {
		out := awstest.Call(t, c.ListAccountSettings, &ecs.ListAccountSettingsInput{Name: name, EffectiveSettings: true})
		if len(out.Settings) != 1 {
			t.Fatalf("ListAccountSettings %s: got %+v", name, out.Settings)
		}
		return aws.ToString(out.Settings[0].Value)
	}
	if got := eff(types.SettingNameContainerInsights); got != "disabled" {
		t.Errorf("containerInsights default: got %s, want disabled", got)
	}
	all := awstest.Call(t, c.ListAccountSettings, &ecs.ListAccountSettingsInput{EffectiveSettings: true})
	if len(all.Settings) < 10 {
		t.Errorf("effective settings: got %d, want every setting", len(all.Settings))
	}
	awstest.Call(t, c.PutAccountSettingDefault, &ecs.PutAccountSettingDefaultInput{Name: types.SettingNameContainerInsights, Value: aws.String("enhanced")})
	if got := eff(types.SettingNameContainerInsights); got != "enhanced" {
		t.Errorf("containerInsights after PutAccountSettingDefault: got %s, want enhanced", got)
	}
	own := awstest.Call(t, c.ListAccountSettings, &ecs.ListAccountSettingsInput{})
	if len(own.Settings) != 1 || own.Settings[0].Type != types.SettingTypeUser {
		t.Errorf("settings chosen: got %+v, want containerInsights", own.Settings)
	}
	// A new cluster takes the account's containerInsights.
	cl := awstest.Call(t, c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("ci")}).Cluster
	if len(cl.Settings) != 1 || aws.ToString(cl.Settings[0].Value) != "enhanced" {
		t.Errorf("new cluster's settings: got %+v, want containerInsights=enhanced", cl.Settings)
	}
	awstest.Call(t, c.DeleteAccountSetting, &ecs.DeleteAccountSettingInput{Name: types.SettingNameContainerInsights})
	if got := eff(types.SettingNameContainerInsights); got != "disabled" {
		t.Errorf("containerInsights after DeleteAccountSetting: got %s, want disabled", got)
	}
	_, err := c.PutAccountSetting(context.Background(), &ecs.PutAccountSettingInput{Name: types.SettingNameFargateTaskRetirementWaitPeriod, Value: aws.String("3")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException"})
}

func TestFargateCapacityProviders(t *testing.T) {
	_, c := start(t)
	out := awstest.Call(t, c.DescribeCapacityProviders, &ecs.DescribeCapacityProvidersInput{CapacityProviders: []string{"FARGATE", "FARGATE_SPOT", "mine"}})
	if len(out.CapacityProviders) != 2 || aws.ToString(out.CapacityProviders[0].CapacityProviderArn) != arnPrefix+"capacity-provider/FARGATE" || len(out.Failures) != 1 {
		t.Errorf("DescribeCapacityProviders: got %+v failures %+v", out.CapacityProviders, out.Failures)
	}
}
