package codebuild_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"overcast/internal/awstest"
	"overcast/internal/codebuild/buildtest"
	"overcast/internal/codebuild/images"
	"overcast/internal/docker/dockertest"
)

// curatedBuild starts a server serving builds their credentials and makes
// sure the stand-in for AWS's curated images exists (building it once per
// engine takes minutes, longer than a build may wait in PROVISIONING), and
// returns a CodeBuild client.
func curatedBuild(t *testing.T) (*awstest.Server, *codebuild.Client) {
	t.Helper()
	e := dockertest.Engine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if _, _, err := images.New(e, images.Options{}).Resolve(ctx, "aws/codebuild/standard:7.0"); err != nil {
		t.Fatal(err)
	}
	srv := awstest.Start(t, awstest.TaskEndpoint())
	awstest.Call(t, iam.NewFromConfig(srv.Config()).CreateRole, &iam.CreateRoleInput{RoleName: aws.String("codebuild-service"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	return srv, codebuild.NewFromConfig(srv.Config())
}

// runProject starts a build of the project and waits for its end.
func runProject(t *testing.T, c *codebuild.Client, project string) types.Build {
	t.Helper()
	id := aws.ToString(awstest.Call(t, c.StartBuild, &codebuild.StartBuildInput{ProjectName: aws.String(project)}).Build.Id)
	return waitForBuild(t, c, id)
}

// TestPrivilegedBuildPushesToECRThroughTheAPI is the issue's "a build that
// builds and pushes an image to overcast's ECR from inside": a privileged
// project on AWS's curated image logs in with the aws CLI as its service
// role, builds an image and pushes it; the repository has it. The same
// buildspec without privileged mode finds no Docker engine.
func TestPrivilegedBuildPushesToECRThroughTheAPI(t *testing.T) {
	srv, c := curatedBuild(t)
	repos := ecr.NewFromConfig(srv.Config())
	uri := aws.ToString(awstest.Call(t, repos.CreateRepository, &ecr.CreateRepositoryInput{RepositoryName: aws.String("from-codebuild")}).Repository.RepositoryUri)
	t.Cleanup(func() { dockertest.Engine(t).RemoveImage(context.Background(), uri+":v1", true) })

	for _, privileged := range []bool{true, false} {
		name := map[bool]string{true: "privileged", false: "unprivileged"}[privileged]
		in := noSourceProject(name, buildtest.ECRPushBuildspec)
		in.Environment.PrivilegedMode = aws.Bool(privileged)
		in.Environment.EnvironmentVariables = []types.EnvironmentVariable{{Name: aws.String("REPOSITORY_URI"), Value: aws.String(uri)}}
		awstest.Call(t, c.CreateProject, in)
	}

	if b := runProject(t, c, "privileged"); b.BuildStatus != types.StatusTypeSucceeded {
		t.Fatalf("privileged build: got %s, want SUCCEEDED; log:\n%s", b.BuildStatus, logOf(t, srv, b))
	}
	pushed := awstest.Call(t, repos.DescribeImages, &ecr.DescribeImagesInput{RepositoryName: aws.String("from-codebuild"),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	if len(pushed.ImageDetails) != 1 {
		t.Errorf("images tagged v1: got %d, want 1", len(pushed.ImageDetails))
	}

	b := runProject(t, c, "unprivileged")
	if b.BuildStatus != types.StatusTypeFailed || failedPhase(b) != "PRE_BUILD" {
		t.Errorf("unprivileged build: got %s failing in %s, want FAILED in PRE_BUILD (no engine to log in to); phases %+v", b.BuildStatus, failedPhase(b), b.Phases)
	}
}

// TestVPCBuildReachesInternalALBThroughTheAPI: a project in the default VPC
// curls an internal load balancer's listener at its address in the VPC and
// succeeds; the same project without its vpcConfig cannot connect.
func TestVPCBuildReachesInternalALBThroughTheAPI(t *testing.T) {
	srv, c := curatedBuild(t)
	ec2c, elbc := ec2.NewFromConfig(srv.Config()), elb.NewFromConfig(srv.Config())
	vpcID := aws.ToString(awstest.Call(t, ec2c.DescribeVpcs, &ec2.DescribeVpcsInput{}).Vpcs[0].VpcId)
	var subnets []string
	for _, sn := range awstest.Call(t, ec2c.DescribeSubnets, &ec2.DescribeSubnetsInput{}).Subnets {
		subnets = append(subnets, aws.ToString(sn.SubnetId))
	}
	groupID := aws.ToString(awstest.Call(t, ec2c.DescribeSecurityGroups, &ec2.DescribeSecurityGroupsInput{}).SecurityGroups[0].GroupId)
	lb := awstest.Call(t, elbc.CreateLoadBalancer, &elb.CreateLoadBalancerInput{Name: aws.String("private-api"),
		Scheme: elbtypes.LoadBalancerSchemeEnumInternal, Subnets: subnets}).LoadBalancers[0]
	awstest.Call(t, elbc.CreateListener, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn,
		Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{
			StatusCode: aws.String("200"), MessageBody: aws.String("private answer")}}}})
	_, lbName, _ := strings.Cut(aws.ToString(lb.LoadBalancerArn), ":loadbalancer/")
	enis := awstest.Call(t, ec2c.DescribeNetworkInterfaces, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{
		{Name: aws.String("description"), Values: []string{"ELB " + lbName}}}}).NetworkInterfaces
	if len(enis) == 0 {
		t.Fatalf("the load balancer %s has no network interfaces", lbName)
	}

	buildspec := "version: 0.2\nphases:\n  build:\n    commands:\n      - curl -sSf --max-time 10 http://" + aws.ToString(enis[0].PrivateIpAddress) + ":8080/\n"
	in := noSourceProject("in-vpc", buildspec)
	in.VpcConfig = &types.VpcConfig{VpcId: &vpcID, Subnets: subnets[:1], SecurityGroupIds: []string{groupID}}
	awstest.Call(t, c.CreateProject, in)
	awstest.Call(t, c.CreateProject, noSourceProject("outside", buildspec))

	if b := runProject(t, c, "in-vpc"); b.BuildStatus != types.StatusTypeSucceeded {
		t.Errorf("build in the VPC: got %s, want SUCCEEDED; log:\n%s", b.BuildStatus, logOf(t, srv, b))
	}
	if b := runProject(t, c, "outside"); b.BuildStatus != types.StatusTypeFailed || failedPhase(b) != "BUILD" {
		t.Errorf("build outside the VPC: got %s failing in %s, want FAILED in BUILD; phases %+v", b.BuildStatus, failedPhase(b), b.Phases)
	}
}

// TestCredentialHelperBuildPushesToCodeCommit is the buildspec's
// env.git-credential-helper and env.shell on AWS's curated image: the
// build runs its commands in bash, clones a repository at the clone URL
// CodeCommit reports, commits and pushes as its service role through the
// aws CLI's credential helper, and the commit is on the branch. The
// working directory carries from command to command, as on AWS.
func TestCredentialHelperBuildPushesToCodeCommit(t *testing.T) {
	srv, c := curatedBuild(t)
	cc := codecommit.NewFromConfig(srv.Config())
	repo := awstest.Call(t, cc.CreateRepository, &codecommit.CreateRepositoryInput{RepositoryName: aws.String("built-here")}).RepositoryMetadata
	awstest.Call(t, cc.PutFile, &codecommit.PutFileInput{RepositoryName: repo.RepositoryName, BranchName: aws.String("main"),
		FilePath: aws.String("README.md"), FileContent: []byte("hello\n")})

	buildspec := `version: 0.2
env:
  shell: bash
  git-credential-helper: yes
phases:
  build:
    commands:
      - '[[ -n "$BASH_VERSION" ]]'
      - git clone "$REPO_URL" repo
      - cd repo && grep -q hello README.md
      - echo "built by $CODEBUILD_BUILD_NUMBER" > built.txt && git add built.txt
      - git -c user.name=build -c user.email=build@example.com commit -q -m "from the build" && git push -q origin HEAD:main
`
	in := noSourceProject("pusher", buildspec)
	in.Environment.EnvironmentVariables = []types.EnvironmentVariable{{Name: aws.String("REPO_URL"), Value: repo.CloneUrlHttp}}
	awstest.Call(t, c.CreateProject, in)

	if b := runProject(t, c, "pusher"); b.BuildStatus != types.StatusTypeSucceeded {
		t.Fatalf("build: got %s, want SUCCEEDED; log:\n%s", b.BuildStatus, logOf(t, srv, b))
	}
	got := awstest.Call(t, cc.GetFile, &codecommit.GetFileInput{RepositoryName: repo.RepositoryName,
		CommitSpecifier: aws.String("main"), FilePath: aws.String("built.txt")})
	if string(got.FileContent) != "built by 1\n" {
		t.Errorf("built.txt on main: got %q, want %q", got.FileContent, "built by 1\n")
	}
}

// logOf is the build's log, from CloudWatch Logs.
func logOf(t *testing.T, srv *awstest.Server, b types.Build) string {
	t.Helper()
	out, err := cloudwatchlogs.NewFromConfig(srv.Config()).GetLogEvents(context.Background(), &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: b.Logs.GroupName, LogStreamName: b.Logs.StreamName, StartFromHead: aws.Bool(true)})
	if err != nil {
		return err.Error()
	}
	var log strings.Builder
	for _, e := range out.Events {
		log.WriteString(aws.ToString(e.Message) + "\n")
	}
	return log.String()
}

// failedPhase is the first phase that did not succeed.
func failedPhase(b types.Build) string {
	for _, p := range b.Phases {
		if p.PhaseStatus != "" && p.PhaseStatus != types.StatusTypeSucceeded {
			return string(p.PhaseType)
		}
	}
	return ""
}
