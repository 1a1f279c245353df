package codebuild

import (
	"testing"

	api "overcast/internal/api/codebuild"
	"overcast/internal/authz/authztest"
)

func TestAuthzTable(t *testing.T) {
	const arn = "arn:aws:codebuild:us-east-1:123456789012:"
	authztest.Run(t, authzTable, []authztest.Case{
		{Op: "StartBuild", In: &api.StartBuildInput{ProjectName: new("web")}, Resources: []string{arn + "project/web"}},
		{Op: "BatchGetBuilds", In: &api.BatchGetBuildsInput{Ids: api.BuildIds{"web:0b1c", arn + "build/api:9f8e"}},
			Resources: []string{arn + "project/web", arn + "project/api"}},
		{Op: "StopBuildBatch", In: &api.StopBuildBatchInput{Id: new(arn + "build-batch/web:77aa")}, Resources: []string{arn + "project/web"}},
		{Op: "DescribeTestCases", In: &api.DescribeTestCasesInput{ReportArn: new(arn + "report/unit:1234")}, Resources: []string{arn + "report-group/unit"}},
		{Op: "CreateReportGroup", In: &api.CreateReportGroupInput{Name: new("unit")}, Resources: []string{arn + "report-group/unit"}},
		{Op: "ListProjects", In: &api.ListProjectsInput{}, Resources: []string{"*"}},
	})
}
