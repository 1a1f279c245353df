package ecs_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"overcast/internal/awstest"
)

func TestTaskErrors(t *testing.T) {
	_, c := start(t)
	awstest.Call(t, c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("e")})
	awstest.Call(t, c.RegisterTaskDefinition, web("fargate"))
	awstest.Call(t, c.RegisterTaskDefinition, &ecs.RegisterTaskDefinitionInput{Family: aws.String("bridge"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("c"), Image: aws.String("nginx"), Memory: aws.Int32(64)}}})
	subnets := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
	invalid := func(message string) awstest.APIError {
		return awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: message}
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "RunTask unknown cluster", Call: awstest.Fails(c.RunTask, &ecs.RunTaskInput{Cluster: aws.String("nope"), TaskDefinition: aws.String("bridge")}),
			Want: awstest.APIError{Code: "ClusterNotFoundException", Message: "Cluster not found."}},
		{Name: "RunTask unknown task definition", Call: awstest.Fails(c.RunTask, &ecs.RunTaskInput{Cluster: aws.String("e"), TaskDefinition: aws.String("nope")}),
			Want: awstest.APIError{Code: "ClientException", Message: "TaskDefinition not found."}},
		{Name: "RunTask count", Call: awstest.Fails(c.RunTask, &ecs.RunTaskInput{Cluster: aws.String("e"), TaskDefinition: aws.String("bridge"), Count: aws.Int32(11)}),
			Want: invalid("Count must be between 1 and 10.")},
		{Name: "RunTask launch type and strategy", Call: awstest.Fails(c.RunTask, &ecs.RunTaskInput{Cluster: aws.String("e"), TaskDefinition: aws.String("fargate"),
			LaunchType: types.LaunchTypeFargate, CapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE")}}}),
			Want: invalid("Specifying both a launch type and capacity provider strategy is not supported.")},
		{Name: "RunTask Fargate of an EC2 definition", Call: awstest.Fails(c.RunTask, &ecs.RunTaskInput{Cluster: aws.String("e"), TaskDefinition: aws.String("bridge"), LaunchType: types.LaunchTypeFargate}),
			Want: invalid("Task definition does not support launch_type FARGATE.")},
		{Name: "RunTask network configuration for bridge", Call: awstest.Fails(c.RunTask, &ecs.RunTaskInput{Cluster: aws.String("e"), TaskDefinition: aws.String("bridge"), NetworkConfiguration: subnets}),
			Want: invalid("Network Configuration is not valid for the given networkMode of this task definition.")},
		{Name: "RunTask Fargate placement strategy", Call: awstest.Fails(c.RunTask, &ecs.RunTaskInput{Cluster: aws.String("e"), TaskDefinition: aws.String("fargate"), LaunchType: types.LaunchTypeFargate,
			NetworkConfiguration: subnets, PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeRandom}}}),
			Want: invalid("Placement strategies are not supported with FARGATE launch type.")},
		{Name: "RunTask unknown subnet", Call: awstest.Fails(c.RunTask, &ecs.RunTaskInput{Cluster: aws.String("e"), TaskDefinition: aws.String("fargate"), LaunchType: types.LaunchTypeFargate,
			NetworkConfiguration: subnets}),
			Want: invalid("Error retrieving subnet information for [subnet-1]: The subnet ID 'subnet-1' does not exist")},
		{Name: "StopTask unknown", Call: awstest.Fails(c.StopTask, &ecs.StopTaskInput{Cluster: aws.String("e"), Task: aws.String("0123")}),
			Want: invalid("The referenced task was not found.")},
		{Name: "ListTasks unknown cluster", Call: awstest.Fails(c.ListTasks, &ecs.ListTasksInput{Cluster: aws.String("nope")}),
			Want: awstest.APIError{Code: "ClusterNotFoundException"}},
	})
	d := awstest.Call(t, c.DescribeTasks, &ecs.DescribeTasksInput{Cluster: aws.String("e"), Tasks: []string{"0123"}})
	if len(d.Failures) != 1 || aws.ToString(d.Failures[0].Reason) != "MISSING" || aws.ToString(d.Failures[0].Arn) != arnPrefix+"task/e/0123" {
		t.Errorf("DescribeTasks unknown: got %+v", d.Failures)
	}
	s := awstest.Call(t, c.StartTask, &ecs.StartTaskInput{Cluster: aws.String("e"), TaskDefinition: aws.String("bridge"), ContainerInstances: []string{"nope"}})
	if len(s.Tasks) != 0 || len(s.Failures) != 1 || aws.ToString(s.Failures[0].Reason) != "MISSING" {
		t.Errorf("StartTask on an unknown instance: got %+v", s)
	}
}
