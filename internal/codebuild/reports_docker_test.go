package codebuild_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/service/servicetest"
)

// junitBuildspec runs "tests" that write a JUnit file with a pass and a
// failure, reported to the group unit.
const junitBuildspec = `version: 0.2
phases:
  build:
    commands:
      - mkdir -p results
      - printf '<testsuites><testsuite name="calc"><testcase classname="calc.Math" name="adds" time="0.5"/><testcase classname="calc.Math" name="divides" time="0.25"><failure message="got 1, want 2"/></testcase></testsuite></testsuites>' > results/junit.xml
reports:
  unit:
    files:
      - '**/*.xml'
    base-directory: results
    file-format: JUNITXML
`

func TestReportGroupFromJUnitBuild(t *testing.T) {
	srv := awstest.Start(t)
	c := codebuild.NewFromConfig(srv.Config())
	in := shellProject(t, "calc", junitBuildspec)
	awstest.Call(t, c.CreateProject, in)

	b := runProject(t, c, "calc")
	if b.BuildStatus != types.StatusTypeSucceeded {
		t.Fatalf("build status: got %s, want SUCCEEDED; phases %v", b.BuildStatus, phases(b))
	}
	group := "arn:aws:codebuild:" + region + ":" + account + ":report-group/calc-unit"
	reports := awstest.Call(t, c.ListReportsForReportGroup, &codebuild.ListReportsForReportGroupInput{ReportGroupArn: aws.String(group)}).Reports
	if len(reports) != 1 {
		t.Fatalf("reports of calc-unit: got %v, want one", reports)
	}
	if diff := cmp.Diff(reports, b.ReportArns); diff != "" {
		t.Errorf("the build's reportArns (-want +got):\n%s", diff)
	}
	r := awstest.Call(t, c.BatchGetReports, &codebuild.BatchGetReportsInput{ReportArns: reports}).Reports[0]
	if r.Status != types.ReportStatusTypeFailed || aws.ToString(r.ExecutionId) != aws.ToString(b.Arn) {
		t.Errorf("report: got status %s, executionId %s; want FAILED, %s", r.Status, aws.ToString(r.ExecutionId), aws.ToString(b.Arn))
	}
	if s := r.TestSummary; aws.ToInt32(s.Total) != 2 || s.StatusCounts["FAILED"] != 1 || aws.ToInt64(s.DurationInNanoSeconds) != 750_000_000 {
		t.Errorf("test summary: got %d total, %v, %dns", aws.ToInt32(s.Total), s.StatusCounts, aws.ToInt64(s.DurationInNanoSeconds))
	}
	failed := awstest.Call(t, c.DescribeTestCases, &codebuild.DescribeTestCasesInput{ReportArn: aws.String(reports[0]),
		Filter: &types.TestCaseFilter{Status: aws.String("FAILED")}}).TestCases
	if len(failed) != 1 || aws.ToString(failed[0].Name) != "divides" || aws.ToString(failed[0].Prefix) != "calc.Math" ||
		aws.ToString(failed[0].Message) != "got 1, want 2" || aws.ToString(failed[0].TestSuiteName) != "calc" {
		t.Errorf("failed test cases: got %+v", failed)
	}
	trend := awstest.Call(t, c.GetReportGroupTrend, &codebuild.GetReportGroupTrendInput{ReportGroupArn: aws.String(group),
		TrendField: types.ReportGroupTrendFieldTypePassRate})
	if aws.ToString(trend.Stats.Average) != "50" {
		t.Errorf("pass rate: got %s, want 50", aws.ToString(trend.Stats.Average))
	}
}

// batchBuildspec is a build-list whose second build waits for the first.
const batchBuildspec = `version: 0.2
batch:
  fast-fail: true
  build-list:
    - identifier: compile
      env:
        variables:
          STEP: compile
    - identifier: package
      depend-on:
        - compile
      env:
        variables:
          STEP: package
env:
  exported-variables:
    - WHO
phases:
  build:
    commands:
      - export WHO="$CODEBUILD_BATCH_BUILD_IDENTIFIER/$STEP"
`

func TestBuildBatchWithDependency(t *testing.T) {
	srv := awstest.Start(t)
	c := codebuild.NewFromConfig(srv.Config())
	in := shellProject(t, "app", batchBuildspec)
	in.BuildBatchConfig = &types.ProjectBuildBatchConfig{ServiceRole: aws.String(role),
		Restrictions: &types.BatchRestrictions{MaximumBuildsAllowed: aws.Int32(5)}}
	awstest.Call(t, c.CreateProject, in)

	id := aws.ToString(awstest.Call(t, c.StartBuildBatch, &codebuild.StartBuildBatchInput{ProjectName: aws.String("app")}).BuildBatch.Id)
	var batch types.BuildBatch
	servicetest.WaitForEvery(t, "batch "+id+" to complete", 100*time.Millisecond, 5*time.Minute, func() bool {
		out, err := c.BatchGetBuildBatches(context.Background(), &codebuild.BatchGetBuildBatchesInput{Ids: []string{id}})
		if err != nil || len(out.BuildBatches) != 1 {
			return false
		}
		batch = out.BuildBatches[0]
		return batch.Complete
	})
	if batch.BuildBatchStatus != types.StatusTypeSucceeded {
		t.Fatalf("batch status: got %s, want SUCCEEDED; phases %+v", batch.BuildBatchStatus, batch.Phases)
	}
	var childIDs []string
	for _, g := range batch.BuildGroups {
		childIDs = append(childIDs, strings.TrimPrefix(aws.ToString(g.CurrentBuildSummary.Arn), "arn:aws:codebuild:"+region+":"+account+":build/"))
	}
	children := awstest.Call(t, c.BatchGetBuilds, &codebuild.BatchGetBuildsInput{Ids: childIDs}).Builds
	got := map[string]string{}
	for _, b := range children {
		got[exported(b)["WHO"]] = aws.ToString(b.BuildBatchArn)
	}
	want := map[string]string{"compile/compile": aws.ToString(batch.Arn), "package/package": aws.ToString(batch.Arn)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("child builds: exported WHO → buildBatchArn (-want +got):\n%s", diff)
	}
	compile, pkg := children[0], children[1]
	if pkg.StartTime.Before(*compile.EndTime) {
		t.Errorf("package started at %v, before compile ended at %v", pkg.StartTime, compile.EndTime)
	}
	ids := awstest.Call(t, c.ListBuildBatchesForProject, &codebuild.ListBuildBatchesForProjectInput{ProjectName: aws.String("app")}).Ids
	if diff := cmp.Diff([]string{id}, ids); diff != "" {
		t.Errorf("ListBuildBatchesForProject (-want +got):\n%s", diff)
	}
}

// webhookBuildspec exports what the webhook told the build.
const webhookBuildspec = `version: 0.2
env:
  exported-variables:
    - TRIGGER
    - HEAD_REF
phases:
  build:
    commands:
      - export TRIGGER="$CODEBUILD_WEBHOOK_TRIGGER" HEAD_REF="$CODEBUILD_WEBHOOK_HEAD_REF"
`

func TestWebhookBuildsCodeCommitPush(t *testing.T) {
	image := buildImage(t)
	srv := awstest.Start(t)
	cfg := srv.Config()
	c, cc := codebuild.NewFromConfig(cfg), codecommit.NewFromConfig(cfg)
	repo := awstest.Call(t, cc.CreateRepository, &codecommit.CreateRepositoryInput{RepositoryName: aws.String("shop")}).RepositoryMetadata
	in := noSourceProject("shop", "")
	in.Source = &types.ProjectSource{Type: types.SourceTypeCodecommit, Location: repo.CloneUrlHttp}
	in.Environment.Image = aws.String(image)
	awstest.Call(t, c.CreateProject, in)
	awstest.Call(t, c.CreateWebhook, &codebuild.CreateWebhookInput{ProjectName: aws.String("shop"),
		FilterGroups: [][]types.WebhookFilter{{
			{Type: types.WebhookFilterTypeEvent, Pattern: aws.String("PUSH")},
			{Type: types.WebhookFilterTypeFilePath, Pattern: aws.String(`\.md$`), ExcludeMatchedPattern: aws.Bool(true)},
		}}})

	// A push touching only documentation is filtered out; the next builds.
	first := awstest.Call(t, cc.PutFile, &codecommit.PutFileInput{RepositoryName: aws.String("shop"), BranchName: aws.String("main"),
		FilePath: aws.String("README.md"), FileContent: []byte("# shop\n")}).CommitId
	second := awstest.Call(t, cc.PutFile, &codecommit.PutFileInput{RepositoryName: aws.String("shop"), BranchName: aws.String("main"),
		FilePath: aws.String("buildspec.yml"), FileContent: []byte(webhookBuildspec), ParentCommitId: first}).CommitId

	var ids []string
	servicetest.WaitForEvery(t, "a build of the push", 100*time.Millisecond, time.Minute, func() bool {
		out, err := c.ListBuildsForProject(context.Background(), &codebuild.ListBuildsForProjectInput{ProjectName: aws.String("shop")})
		ids = out.Ids
		return err == nil && len(ids) > 0
	})
	b := waitForBuild(t, c, ids[0])
	if b.BuildStatus != types.StatusTypeSucceeded {
		t.Fatalf("build status: got %s, want SUCCEEDED; phases %v", b.BuildStatus, phases(b))
	}
	if got := aws.ToString(b.ResolvedSourceVersion); got != aws.ToString(second) {
		t.Errorf("resolvedSourceVersion: got %s, want the second commit %s", got, aws.ToString(second))
	}
	if diff := cmp.Diff(map[string]string{"TRIGGER": "branch/main", "HEAD_REF": "refs/heads/main"}, exported(b)); diff != "" {
		t.Errorf("webhook variables (-want +got):\n%s", diff)
	}
	if out := awstest.Call(t, c.ListBuildsForProject, &codebuild.ListBuildsForProjectInput{ProjectName: aws.String("shop")}); len(out.Ids) != 1 {
		t.Errorf("builds: got %v, want only the second push's", out.Ids)
	}
}
