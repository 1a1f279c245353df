package authz_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"overcast/internal/awstest"
)

// A policy that allows reading only what is tagged team=blue lets a user
// read the blue resource of each service and refuses the red one: the
// services tell the evaluator their resources' tags.
func TestEnforceResourceTags(t *testing.T) {
	srv := awstest.Start(t, awstest.EnforceIAM())
	root := srv.Config()
	ctx := context.Background()
	dev := newUser(t, srv, "dev", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["ssm:GetParameter","logs:DescribeLogStreams","codecommit:GetRepository","ecs:DescribeClusters",
			"codebuild:BatchGetProjects"],"Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"blue"}}},
		{"Effect":"Allow","Action":"iam:GetRole","Resource":"*","Condition":{"StringEquals":{"iam:ResourceTag/team":"blue"}}},
		{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"*","Condition":{"StringEquals":{"ssm:resourceTag/team":"blue"}}}]}`)

	ssmRoot, logsRoot, ccRoot := ssm.NewFromConfig(root), cloudwatchlogs.NewFromConfig(root), codecommit.NewFromConfig(root)
	ecsRoot, cbRoot, iamRoot := ecs.NewFromConfig(root), codebuild.NewFromConfig(root), iam.NewFromConfig(root)
	for _, team := range []string{"blue", "red"} {
		awstest.Call(t, ssmRoot.PutParameter, &ssm.PutParameterInput{Name: aws.String("/" + team), Value: aws.String("v"),
			Type: ssmtypes.ParameterTypeString, Tags: []ssmtypes.Tag{{Key: aws.String("team"), Value: aws.String(team)}}})
		awstest.Call(t, logsRoot.CreateLogGroup, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(team), Tags: map[string]string{"team": team}})
		awstest.Call(t, ccRoot.CreateRepository, &codecommit.CreateRepositoryInput{RepositoryName: aws.String(team), Tags: map[string]string{"team": team}})
		awstest.Call(t, ecsRoot.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String(team),
			Tags: []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String(team)}}})
		awstest.Call(t, cbRoot.CreateProject, &codebuild.CreateProjectInput{Name: aws.String(team),
			Source:      &cbtypes.ProjectSource{Type: cbtypes.SourceTypeNoSource, Buildspec: aws.String("version: 0.2")},
			Artifacts:   &cbtypes.ProjectArtifacts{Type: cbtypes.ArtifactsTypeNoArtifacts},
			Environment: &cbtypes.ProjectEnvironment{Type: cbtypes.EnvironmentTypeLinuxContainer, Image: aws.String("img"), ComputeType: cbtypes.ComputeTypeBuildGeneral1Small},
			ServiceRole: aws.String("arn:aws:iam::" + account + ":role/build"),
			Tags:        []cbtypes.Tag{{Key: aws.String("team"), Value: aws.String(team)}}})
		awstest.Call(t, iamRoot.CreateRole, &iam.CreateRoleInput{RoleName: aws.String(team), AssumeRolePolicyDocument: aws.String(
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
			Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String(team)}}})
	}

	ssmc, logsc, cc := ssm.NewFromConfig(dev), cloudwatchlogs.NewFromConfig(dev), codecommit.NewFromConfig(dev)
	ecsc, cbc, iamc := ecs.NewFromConfig(dev), codebuild.NewFromConfig(dev), iam.NewFromConfig(dev)
	calls := []struct {
		name string
		call func(team string) error
	}{
		{"ssm:GetParameter", func(team string) error {
			_, err := ssmc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/" + team)})
			return err
		}},
		{"ssm:GetParameters", func(team string) error {
			_, err := ssmc.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/" + team}})
			return err
		}},
		{"logs:DescribeLogStreams", func(team string) error {
			_, err := logsc.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(team)})
			return err
		}},
		{"codecommit:GetRepository", func(team string) error {
			_, err := cc.GetRepository(ctx, &codecommit.GetRepositoryInput{RepositoryName: aws.String(team)})
			return err
		}},
		{"ecs:DescribeClusters", func(team string) error {
			_, err := ecsc.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{team}})
			return err
		}},
		{"codebuild:BatchGetProjects", func(team string) error {
			_, err := cbc.BatchGetProjects(ctx, &codebuild.BatchGetProjectsInput{Names: []string{team}})
			return err
		}},
		{"iam:GetRole", func(team string) error {
			_, err := iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(team)})
			return err
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			if err := c.call("blue"); err != nil {
				t.Errorf("on the blue resource: %v", err)
			}
			if err := c.call("red"); !accessDenied(err) {
				t.Errorf("on the red resource: got %v, want AccessDenied", err)
			}
		})
	}
}

// accessDenied reports whether err is IAM's refusal, in any protocol's
// envelope.
func accessDenied(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && strings.HasPrefix(ae.ErrorCode(), "AccessDenied")
}
