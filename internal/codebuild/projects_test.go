package codebuild_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

const (
	account = "000000000000"
	region  = "us-east-1"
	role    = "arn:aws:iam::" + account + ":role/codebuild-service"
)

func start(t *testing.T) (*awstest.Server, *codebuild.Client, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC))
	srv := awstest.Start(t, awstest.Clock(clk))
	return srv, codebuild.NewFromConfig(srv.Config()), clk
}

// noSourceProject is the smallest project: an inline buildspec, no
// artifacts.
func noSourceProject(name, buildspec string) *codebuild.CreateProjectInput {
	return &codebuild.CreateProjectInput{
		Name:        aws.String(name),
		Source:      &types.ProjectSource{Type: types.SourceTypeNoSource, Buildspec: aws.String(buildspec)},
		Artifacts:   &types.ProjectArtifacts{Type: types.ArtifactsTypeNoArtifacts},
		Environment: &types.ProjectEnvironment{Type: types.EnvironmentTypeLinuxContainer, ComputeType: types.ComputeTypeBuildGeneral1Small, Image: aws.String("aws/codebuild/standard:7.0")},
		ServiceRole: aws.String(role),
	}
}

func TestProjectLifecycle(t *testing.T) {
	_, c, clk := start(t)
	in := noSourceProject("app", "version: 0.2\nphases:\n  build:\n    commands: [echo hi]\n")
	in.Description = aws.String("the app")
	in.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}}
	in.Environment.EnvironmentVariables = []types.EnvironmentVariable{{Name: aws.String("STAGE"), Value: aws.String("dev")}}
	created := awstest.Call(t, c.CreateProject, in).Project

	arn := "arn:aws:codebuild:" + region + ":" + account + ":project/app"
	if got := aws.ToString(created.Arn); got != arn {
		t.Errorf("arn: got %q, want %q", got, arn)
	}
	if got := aws.ToInt32(created.TimeoutInMinutes); got != 60 {
		t.Errorf("timeoutInMinutes: got %d, want 60", got)
	}
	if got := aws.ToInt32(created.QueuedTimeoutInMinutes); got != 480 {
		t.Errorf("queuedTimeoutInMinutes: got %d, want 480", got)
	}
	if got := created.Cache.Type; got != types.CacheTypeNoCache {
		t.Errorf("cache type: got %q, want NO_CACHE", got)
	}
	if got := created.LogsConfig.CloudWatchLogs.Status; got != types.LogsConfigStatusTypeEnabled {
		t.Errorf("cloudWatchLogs status: got %q, want ENABLED", got)
	}
	if got := created.Environment.EnvironmentVariables[0].Type; got != types.EnvironmentVariableTypePlaintext {
		t.Errorf("variable type: got %q, want PLAINTEXT", got)
	}

	clk.Advance(time.Minute)
	updated := awstest.Call(t, c.UpdateProject, &codebuild.UpdateProjectInput{Name: aws.String("app"), TimeoutInMinutes: aws.Int32(15)}).Project
	if got := aws.ToInt32(updated.TimeoutInMinutes); got != 15 {
		t.Errorf("updated timeout: got %d, want 15", got)
	}
	if got := aws.ToString(updated.Description); got != "the app" {
		t.Errorf("updated description: got %q, want it kept", got)
	}
	if !updated.LastModified.After(*updated.Created) {
		t.Errorf("lastModified %v not after created %v", updated.LastModified, updated.Created)
	}

	got := awstest.Call(t, c.BatchGetProjects, &codebuild.BatchGetProjectsInput{Names: []string{"app", arn, "nope"}})
	if n := len(got.Projects); n != 1 {
		t.Errorf("projects: got %d, want 1 (a name and its ARN are one project)", n)
	}
	if diff := cmp.Diff([]string{"nope"}, got.ProjectsNotFound); diff != "" {
		t.Errorf("projectsNotFound (-want +got):\n%s", diff)
	}

	awstest.Call(t, c.DeleteProject, &codebuild.DeleteProjectInput{Name: aws.String("app")})
	awstest.Call(t, c.DeleteProject, &codebuild.DeleteProjectInput{Name: aws.String("app")}) // gone already: still fine
	list := awstest.Call(t, c.ListProjects, &codebuild.ListProjectsInput{})
	if len(list.Projects) != 0 {
		t.Errorf("after delete: got %v, want no projects", list.Projects)
	}
}

func TestListProjectsSortsAndPages(t *testing.T) {
	_, c, clk := start(t)
	for _, name := range []string{"bb", "aa", "cc"} {
		clk.Advance(time.Second)
		awstest.Call(t, c.CreateProject, noSourceProject(name, "version: 0.2"))
	}
	tests := []struct {
		by    types.ProjectSortByType
		order types.SortOrderType
		want  []string
	}{
		{"", "", []string{"aa", "bb", "cc"}},
		{types.ProjectSortByTypeName, types.SortOrderTypeDescending, []string{"cc", "bb", "aa"}},
		{types.ProjectSortByTypeCreatedTime, types.SortOrderTypeAscending, []string{"bb", "aa", "cc"}},
		{types.ProjectSortByTypeLastModifiedTime, types.SortOrderTypeDescending, []string{"cc", "aa", "bb"}},
	}
	for _, tt := range tests {
		var got []string
		p := codebuild.NewListProjectsPaginator(c, &codebuild.ListProjectsInput{SortBy: tt.by, SortOrder: tt.order})
		for p.HasMorePages() {
			got = append(got, awstest.NextPage(t, p).Projects...)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("sort %q %q (-want +got):\n%s", tt.by, tt.order, diff)
		}
	}
}

func TestProjectErrors(t *testing.T) {
	_, c, _ := start(t)
	awstest.Call(t, c.CreateProject, noSourceProject("taken", "version: 0.2"))
	invalid := func(msg string) awstest.APIError { return awstest.BadRequest("InvalidInputException", msg) }
	with := func(change func(*codebuild.CreateProjectInput)) *codebuild.CreateProjectInput {
		in := noSourceProject("p1", "version: 0.2")
		change(in)
		return in
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "CreateProject: the name is taken",
			Want: awstest.BadRequest("ResourceAlreadyExistsException", "Project already exists: arn:aws:codebuild:"+region+":"+account+":project/taken"),
			Call: awstest.Fails(c.CreateProject, noSourceProject("taken", "version: 0.2"))},
		{Name: "CreateProject: a name starting with a dash", Want: awstest.APIError{Code: "ValidationException", Status: 400},
			Call: awstest.Fails(c.CreateProject, noSourceProject("-bad", "version: 0.2"))},
		{Name: "CreateProject: CODECOMMIT without a location", Want: invalid("Project source location is required"),
			Call: awstest.Fails(c.CreateProject, with(func(in *codebuild.CreateProjectInput) {
				in.Source = &types.ProjectSource{Type: types.SourceTypeCodecommit}
			}))},
		{Name: "CreateProject: NO_SOURCE without a buildspec", Want: invalid("Invalid input: buildspec must be specified for source type NO_SOURCE"),
			Call: awstest.Fails(c.CreateProject, noSourceProject("p1", ""))},
		{Name: "CreateProject: a CODEPIPELINE source with S3 artifacts",
			Want: invalid("Invalid input: when using CodePipeline both sourceType, and artifactType must be set to: CODEPIPELINE"),
			Call: awstest.Fails(c.CreateProject, with(func(in *codebuild.CreateProjectInput) {
				in.Source = &types.ProjectSource{Type: types.SourceTypeCodepipeline}
				in.Artifacts = &types.ProjectArtifacts{Type: types.ArtifactsTypeS3, Location: aws.String("bucket")}
			}))},
		{Name: "CreateProject: S3 artifacts without a location", Want: invalid("Invalid input: artifact location is required for artifact type S3"),
			Call: awstest.Fails(c.CreateProject, with(func(in *codebuild.CreateProjectInput) {
				in.Artifacts = &types.ProjectArtifacts{Type: types.ArtifactsTypeS3}
			}))},
		{Name: "CreateProject: a timeout over the limit", Want: awstest.APIError{Code: "ValidationException", Status: 400},
			Call: awstest.Fails(c.CreateProject, with(func(in *codebuild.CreateProjectInput) { in.TimeoutInMinutes = aws.Int32(5000) }))},
		{Name: "CreateProject: a secondary source without an identifier",
			Want: invalid("Invalid input: identifier must contain only alphanumeric characters and underscores and be less than 128 characters in length"),
			Call: awstest.Fails(c.CreateProject, with(func(in *codebuild.CreateProjectInput) {
				in.SecondarySources = []types.ProjectSource{{Type: types.SourceTypeS3, Location: aws.String("bucket/src.zip")}}
			}))},
		{Name: "UpdateProject: no such project",
			Want: awstest.BadRequest("ResourceNotFoundException", "Failed to call UpdateProject, reason: Project cannot be found: arn:aws:codebuild:"+region+":"+account+":project/nope"),
			Call: awstest.Fails(c.UpdateProject, &codebuild.UpdateProjectInput{Name: aws.String("nope")})},
	})
}

func TestBuildErrors(t *testing.T) {
	_, c, _ := start(t)
	awstest.Call(t, c.CreateProject, noSourceProject("app", "version: 0.2"))
	noProject := awstest.BadRequest("ResourceNotFoundException", "Project cannot be found: arn:aws:codebuild:"+region+":"+account+":project/nope")
	noBuild := awstest.BadRequest("ResourceNotFoundException", "Build cannot be found: app:00000000-0000-0000-0000-000000000000")
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "StartBuild: no such project", Want: noProject,
			Call: awstest.Fails(c.StartBuild, &codebuild.StartBuildInput{ProjectName: aws.String("nope")})},
		{Name: "StartBuild: an S3 source override without a location", Want: awstest.BadRequest("InvalidInputException", "Project source location is required"),
			Call: awstest.Fails(c.StartBuild, &codebuild.StartBuildInput{ProjectName: aws.String("app"), SourceTypeOverride: types.SourceTypeS3})},
		{Name: "StartBuild: a reserved variable name", Want: awstest.APIError{Code: "InvalidInputException", Status: 400},
			Call: awstest.Fails(c.StartBuild, &codebuild.StartBuildInput{ProjectName: aws.String("app"),
				EnvironmentVariablesOverride: []types.EnvironmentVariable{{Name: aws.String("CODEBUILD_BUILD_ID"), Value: aws.String("x")}}})},
		{Name: "StopBuild: no such build", Want: noBuild,
			Call: awstest.Fails(c.StopBuild, &codebuild.StopBuildInput{Id: aws.String("app:00000000-0000-0000-0000-000000000000")})},
		{Name: "RetryBuild: no such build", Want: noBuild,
			Call: awstest.Fails(c.RetryBuild, &codebuild.RetryBuildInput{Id: aws.String("app:00000000-0000-0000-0000-000000000000")})},
		{Name: "ListBuildsForProject: no such project", Want: noProject,
			Call: awstest.Fails(c.ListBuildsForProject, &codebuild.ListBuildsForProjectInput{ProjectName: aws.String("nope")})},
		{Name: "ListBuilds: a token overcast did not issue", Want: awstest.BadRequest("InvalidInputException", "Invalid next token"),
			Call: awstest.Fails(c.ListBuilds, &codebuild.ListBuildsInput{NextToken: aws.String("bogus")})},
	})
}

// TestStartBuildIsIdempotent: a retried StartBuild with the same token
// gets the build the first one started, not a second build.
func TestStartBuildIsIdempotent(t *testing.T) {
	_, c, _ := start(t)
	awstest.Call(t, c.CreateProject, noSourceProject("app", "version: 0.2"))
	in := &codebuild.StartBuildInput{ProjectName: aws.String("app"), IdempotencyToken: aws.String("once")}
	first := awstest.Call(t, c.StartBuild, in).Build
	again := awstest.Call(t, c.StartBuild, in).Build
	if aws.ToString(first.Id) != aws.ToString(again.Id) {
		t.Errorf("a retried StartBuild: got build %s, want %s", aws.ToString(again.Id), aws.ToString(first.Id))
	}
	other := awstest.Call(t, c.StartBuild, &codebuild.StartBuildInput{ProjectName: aws.String("app")}).Build
	if aws.ToInt64(other.BuildNumber) != 2 {
		t.Errorf("the next build's number: got %d, want 2", aws.ToInt64(other.BuildNumber))
	}
	got := awstest.Call(t, c.BatchGetBuilds, &codebuild.BatchGetBuildsInput{Ids: []string{aws.ToString(first.Id), "app:nope"}})
	if len(got.Builds) != 1 || len(got.BuildsNotFound) != 1 {
		t.Errorf("BatchGetBuilds: got %d builds and not found %v", len(got.Builds), got.BuildsNotFound)
	}
}
