package ecs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

// ecsTags is a tag list as a map, for comparing.
func ecsTags(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func tagList(kv ...string) []types.Tag {
	var tags []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		tags = append(tags, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return tags
}

// wantTagging tags, retags and untags the resource arn, which was created
// with team=web, and checks after each step what ListTagsForResource and
// describe (a Describe call with TAGS included) show.
func wantTagging(t *testing.T, c *ecs.Client, arn string, describe func() []types.Tag) {
	t.Helper()
	tag := func(kv ...string) func() {
		return func() {
			awstest.Call(t, c.TagResource, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tagList(kv...)})
		}
	}
	untag := func(keys ...string) func() {
		return func() {
			awstest.Call(t, c.UntagResource, &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: keys})
		}
	}
	for _, step := range []struct {
		name string
		do   func()
		want map[string]string
	}{
		{"as created", func() {}, map[string]string{"team": "web"}},
		{"tag", tag("env", "dev", "owner", "ann"), map[string]string{"team": "web", "env": "dev", "owner": "ann"}},
		{"tag again: replaces and adds", tag("env", "prod", "tier", "1"), map[string]string{"team": "web", "env": "prod", "owner": "ann", "tier": "1"}},
		{"untag, with a key it does not have", untag("owner", "team", "nope"), map[string]string{"env": "prod", "tier": "1"}},
		{"untag the rest", untag("env", "tier"), map[string]string{}},
	} {
		step.do()
		listed := awstest.Call(t, c.ListTagsForResource, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)}).Tags
		if diff := cmp.Diff(step.want, ecsTags(listed)); diff != "" {
			t.Errorf("%s: ListTagsForResource (-want +got):\n%s", step.name, diff)
		}
		if diff := cmp.Diff(step.want, ecsTags(describe())); diff != "" {
			t.Errorf("%s: described with TAGS (-want +got):\n%s", step.name, diff)
		}
	}
}

// registerBatch registers an EC2 task definition no test here runs.
func registerBatch(t *testing.T, c *ecs.Client) {
	t.Helper()
	awstest.Call(t, c.RegisterTaskDefinition, &ecs.RegisterTaskDefinitionInput{Family: aws.String("batch"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("batch"), Memory: aws.Int32(64)}}})
}

// createService creates a service of no task in cluster: one that needs no
// Docker engine.
func createService(t *testing.T, c *ecs.Client, cluster, name string, tags ...types.Tag) types.Service {
	t.Helper()
	return *awstest.Call(t, c.CreateService, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String(name),
		TaskDefinition: aws.String("batch"), DesiredCount: aws.Int32(0), Tags: tags}).Service
}

func TestServiceTags(t *testing.T) {
	_, c := start(t)
	awstest.Call(t, c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("t")})
	registerBatch(t, c)
	arn := aws.ToString(createService(t, c, "t", "web", tagList("team", "web")...).ServiceArn)
	describe := func(include ...types.ServiceField) types.Service {
		t.Helper()
		out := awstest.Call(t, c.DescribeServices, &ecs.DescribeServicesInput{Cluster: aws.String("t"), Services: []string{"web"}, Include: include})
		if len(out.Services) != 1 {
			t.Fatalf("DescribeServices: got %+v", out)
		}
		return out.Services[0]
	}
	wantTagging(t, c, arn, func() []types.Tag { return describe(types.ServiceFieldTags).Tags })

	// The service controller writes the service once the new deployment
	// completes: from the record as it is then, tags and all.
	awstest.Call(t, c.TagResource, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tagList("env", "dev")})
	awstest.Call(t, c.UpdateService, &ecs.UpdateServiceInput{Cluster: aws.String("t"), Service: aws.String("web"), ForceNewDeployment: true})
	awstest.WaitFor(t, "the new deployment to complete", func() bool {
		ds := describe().Deployments
		return len(ds) == 1 && ds[0].RolloutState == types.DeploymentRolloutStateCompleted
	})
	if diff := cmp.Diff(map[string]string{"env": "dev"}, ecsTags(describe(types.ServiceFieldTags).Tags)); diff != "" {
		t.Errorf("tags after the controller's writes (-want +got):\n%s", diff)
	}
	if got := describe().Tags; got != nil {
		t.Errorf("DescribeServices without TAGS: got tags %+v", got)
	}
}

func TestTagErrors(t *testing.T) {
	_, c := start(t)
	awstest.Call(t, c.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("e")})
	registerBatch(t, c)
	service := aws.ToString(createService(t, c, "e", "web").ServiceArn)
	createService(t, c, "e", "gone")
	awstest.Call(t, c.DeleteService, &ecs.DeleteServiceInput{Cluster: aws.String("e"), Service: aws.String("gone")})
	awstest.WaitFor(t, "the deleted service to be INACTIVE", func() bool {
		out := awstest.Call(t, c.DescribeServices, &ecs.DescribeServicesInput{Cluster: aws.String("e"), Services: []string{"gone"}})
		return len(out.Services) == 1 && aws.ToString(out.Services[0].Status) == "INACTIVE"
	})
	var fifty []types.Tag
	for i := range 50 {
		fifty = append(fifty, tagList(fmt.Sprintf("k%d", i), "v")...)
	}
	awstest.Call(t, c.TagResource, &ecs.TagResourceInput{ResourceArn: aws.String(service), Tags: fifty})

	tag := func(arn string, kv ...string) func(context.Context) error {
		return awstest.Fails(c.TagResource, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tagList(kv...)})
	}
	list := func(arn string) func(context.Context) error {
		return awstest.Fails(c.ListTagsForResource, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	}
	untag := func(arn string) func(context.Context) error {
		return awstest.Fails(c.UntagResource, &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"a"}})
	}
	shortARN := awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "Long arn format must be used for tagging operations"}
	notFound := awstest.APIError{Code: "ResourceNotFoundException", Status: 400, Message: "The specified resource could not be found."}
	invalid := awstest.APIError{Code: "InvalidParameterException", Status: 400}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "TagResource short service ARN", Call: tag(arnPrefix+"service/web", "a", "b"), Want: shortARN},
		{Name: "ListTagsForResource short service ARN", Call: list(arnPrefix + "service/web"), Want: shortARN},
		{Name: "UntagResource short service ARN", Call: untag(arnPrefix + "service/web"), Want: shortARN},
		{Name: "TagResource short task ARN", Call: tag(arnPrefix+"task/0123456789abcdef0123456789abcdef", "a", "b"), Want: shortARN},
		{Name: "TagResource unknown service", Call: tag(arnPrefix+"service/e/nope", "a", "b"), Want: notFound},
		{Name: "TagResource service of an unknown cluster", Call: tag(arnPrefix+"service/nope/web", "a", "b"), Want: notFound},
		{Name: "TagResource deleted service", Call: tag(arnPrefix+"service/e/gone", "a", "b"), Want: notFound},
		{Name: "ListTagsForResource unknown service", Call: list(arnPrefix + "service/e/nope"), Want: notFound},
		{Name: "UntagResource unknown service", Call: untag(arnPrefix + "service/e/nope"), Want: notFound},
		{Name: "TagResource unknown task", Call: tag(arnPrefix+"task/e/0123456789abcdef0123456789abcdef", "a", "b"), Want: notFound},
		{Name: "ListTagsForResource unknown task", Call: list(arnPrefix + "task/e/0123456789abcdef0123456789abcdef"), Want: notFound},
		{Name: "UntagResource unknown task", Call: untag(arnPrefix + "task/e/0123456789abcdef0123456789abcdef"), Want: notFound},
		{Name: "TagResource service ARN of too many parts", Call: tag(arnPrefix+"service/e/web/x", "a", "b"), Want: invalid},
		{Name: "TagResource service aws: prefix", Call: tag(service, "aws:x", "b"), Want: awstest.APIError{Code: "InvalidParameterException",
			Status: 400, Message: "Tag keys with the prefix 'aws:' are reserved for AWS use."}},
		{Name: "TagResource service beyond 50 tags", Call: tag(service, "one", "more"), Want: awstest.APIError{Code: "InvalidParameterException",
			Status: 400, Message: "The number of tags on the resource cannot exceed 50."}},
	})
	// Retagging what it has is within the limit.
	awstest.Call(t, c.TagResource, &ecs.TagResourceInput{ResourceArn: aws.String(service), Tags: tagList("k0", "w")})
}

// A policy that allows acting on services tagged team=blue sees the tags
// TagResource gave them, and no longer allows once UntagResource took
// them away.
func TestServiceResourceTagCondition(t *testing.T) {
	srv := awstest.Start(t, awstest.EnforceIAM())
	root := ecs.NewFromConfig(srv.Config())
	awstest.Call(t, root.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("t")})
	registerBatch(t, root)
	arns := map[string]string{}
	for _, team := range []string{"blue", "red"} {
		arns[team] = aws.ToString(createService(t, root, "t", team).ServiceArn)
		awstest.Call(t, root.TagResource, &ecs.TagResourceInput{ResourceArn: aws.String(arns[team]), Tags: tagList("team", team)})
	}

	users := iam.NewFromConfig(srv.Config())
	awstest.Call(t, users.CreateUser, &iam.CreateUserInput{UserName: aws.String("dev")})
	awstest.Call(t, users.PutUserPolicy, &iam.PutUserPolicyInput{UserName: aws.String("dev"), PolicyName: aws.String("blue"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
			"Action":["ecs:DescribeServices","ecs:UpdateService","ecs:ListTagsForResource"],"Resource":"*",
			"Condition":{"StringEquals":{"aws:ResourceTag/team":"blue"}}}]}`)})
	key := awstest.Call(t, users.CreateAccessKey, &iam.CreateAccessKeyInput{UserName: aws.String("dev")}).AccessKey
	dev := ecs.NewFromConfig(srv.ConfigWith(aws.ToString(key.AccessKeyId), aws.ToString(key.SecretAccessKey), ""))

	ctx := context.Background()
	calls := []struct {
		name string
		call func(team string) error
	}{
		{"DescribeServices", func(team string) error {
			_, err := dev.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("t"), Services: []string{team}})
			return err
		}},
		{"UpdateService", func(team string) error {
			_, err := dev.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("t"), Service: aws.String(team), DesiredCount: aws.Int32(0)})
			return err
		}},
		{"ListTagsForResource", func(team string) error {
			_, err := dev.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arns[team])})
			return err
		}},
	}
	for _, c := range calls {
		if err := c.call("blue"); err != nil {
			t.Errorf("%s on the blue service: %v", c.name, err)
		}
		if err := c.call("red"); !accessDenied(err) {
			t.Errorf("%s on the red service: got %v, want AccessDenied", c.name, err)
		}
	}
	awstest.Call(t, root.UntagResource, &ecs.UntagResourceInput{ResourceArn: aws.String(arns["blue"]), TagKeys: []string{"team"}})
	for _, c := range calls {
		if err := c.call("blue"); !accessDenied(err) {
			t.Errorf("%s on the blue service untagged: got %v, want AccessDenied", c.name, err)
		}
	}
}

// accessDenied reports whether err is IAM's refusal.
func accessDenied(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && strings.HasPrefix(ae.ErrorCode(), "AccessDenied")
}
