package codebuild_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

func createReportGroup(t *testing.T, c *codebuild.Client, name string, typ types.ReportType) *types.ReportGroup {
	t.Helper()
	return awstest.Call(t, c.CreateReportGroup, &codebuild.CreateReportGroupInput{
		Name: aws.String(name), Type: typ,
		ExportConfig: &types.ReportExportConfig{ExportConfigType: types.ReportExportConfigTypeNoExport},
	}).ReportGroup
}

func TestReportGroupLifecycle(t *testing.T) {
	_, c, clk := start(t)
	tests := createReportGroup(t, c, "unit", types.ReportTypeTest)
	arn := "arn:aws:codebuild:" + region + ":" + account + ":report-group/unit"
	if got := aws.ToString(tests.Arn); got != arn {
		t.Errorf("arn: got %q, want %q", got, arn)
	}
	if tests.Status != types.ReportGroupStatusTypeActive {
		t.Errorf("status: got %q, want ACTIVE", tests.Status)
	}
	clk.Advance(60e9)
	createReportGroup(t, c, "coverage", types.ReportTypeCodeCoverage)

	updated := awstest.Call(t, c.UpdateReportGroup, &codebuild.UpdateReportGroupInput{
		Arn: aws.String(arn),
		ExportConfig: &types.ReportExportConfig{ExportConfigType: types.ReportExportConfigTypeS3,
			S3Destination: &types.S3ReportExportConfig{Bucket: aws.String("reports"), Path: aws.String("ci")}},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	}).ReportGroup
	if got := aws.ToString(updated.ExportConfig.S3Destination.Bucket); got != "reports" {
		t.Errorf("export bucket: got %q, want reports", got)
	}
	if got := updated.ExportConfig.S3Destination.Packaging; got != types.ReportPackagingTypeNone {
		t.Errorf("export packaging: got %q, want NONE", got)
	}
	if !updated.LastModified.After(*updated.Created) {
		t.Errorf("lastModified %v not after created %v", updated.LastModified, updated.Created)
	}

	got := awstest.Call(t, c.BatchGetReportGroups, &codebuild.BatchGetReportGroupsInput{
		ReportGroupArns: []string{arn, arn + "-missing"}})
	if len(got.ReportGroups) != 1 || aws.ToString(got.ReportGroups[0].Name) != "unit" || len(got.ReportGroups[0].Tags) != 1 {
		t.Errorf("BatchGetReportGroups: got %+v", got.ReportGroups)
	}
	if diff := cmp.Diff([]string{arn + "-missing"}, got.ReportGroupsNotFound); diff != "" {
		t.Errorf("reportGroupsNotFound (-want +got):\n%s", diff)
	}

	for _, tt := range []struct {
		by    types.ReportGroupSortByType
		order types.SortOrderType
		want  []string
	}{
		{"", "", []string{"coverage", "unit"}},
		{types.ReportGroupSortByTypeName, types.SortOrderTypeDescending, []string{"unit", "coverage"}},
		{types.ReportGroupSortByTypeCreatedTime, types.SortOrderTypeAscending, []string{"unit", "coverage"}},
	} {
		list := awstest.Call(t, c.ListReportGroups, &codebuild.ListReportGroupsInput{SortBy: tt.by, SortOrder: tt.order})
		names := make([]string, len(list.ReportGroups))
		for i, a := range list.ReportGroups {
			names[i] = a[len("arn:aws:codebuild:"+region+":"+account+":report-group/"):]
		}
		if diff := cmp.Diff(tt.want, names); diff != "" {
			t.Errorf("ListReportGroups %s %s (-want +got):\n%s", tt.by, tt.order, diff)
		}
	}

	awstest.Call(t, c.DeleteReportGroup, &codebuild.DeleteReportGroupInput{Arn: aws.String(arn)})
	list := awstest.Call(t, c.ListReportGroups, &codebuild.ListReportGroupsInput{})
	if len(list.ReportGroups) != 1 {
		t.Errorf("after delete: got %v, want the coverage group only", list.ReportGroups)
	}
	reports := awstest.Call(t, c.ListReports, &codebuild.ListReportsInput{})
	if len(reports.Reports) != 0 {
		t.Errorf("ListReports: got %v, want none", reports.Reports)
	}
}

func TestReportGroupErrors(t *testing.T) {
	_, c, _ := start(t)
	createReportGroup(t, c, "unit", types.ReportTypeTest)
	missing := "arn:aws:codebuild:" + region + ":" + account + ":report-group/missing"
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "duplicate", Call: awstest.Fails(c.CreateReportGroup, &codebuild.CreateReportGroupInput{
			Name: aws.String("unit"), Type: types.ReportTypeTest,
			ExportConfig: &types.ReportExportConfig{ExportConfigType: types.ReportExportConfigTypeNoExport}}),
			Want: awstest.APIError{Code: "ResourceAlreadyExistsException", Message: "already exists"}},
		{Name: "S3 export without a bucket", Call: awstest.Fails(c.CreateReportGroup, &codebuild.CreateReportGroupInput{
			Name: aws.String("other"), Type: types.ReportTypeTest,
			ExportConfig: &types.ReportExportConfig{ExportConfigType: types.ReportExportConfigTypeS3}}),
			Want: awstest.APIError{Code: "InvalidInputException", Message: "bucket"}},
		{Name: "bad type", Call: awstest.Fails(c.CreateReportGroup, &codebuild.CreateReportGroupInput{
			Name: aws.String("other"), Type: "LINT",
			ExportConfig: &types.ReportExportConfig{ExportConfigType: types.ReportExportConfigTypeNoExport}}),
			Want: awstest.APIError{Code: "ValidationException"}},
		{Name: "update missing", Call: awstest.Fails(c.UpdateReportGroup, &codebuild.UpdateReportGroupInput{Arn: aws.String(missing)}),
			Want: awstest.APIError{Code: "ResourceNotFoundException", Message: missing}},
		{Name: "delete missing", Call: awstest.Fails(c.DeleteReportGroup, &codebuild.DeleteReportGroupInput{Arn: aws.String(missing)}),
			Want: awstest.APIError{Code: "ResourceNotFoundException"}},
		{Name: "reports of a missing group", Call: awstest.Fails(c.ListReportsForReportGroup,
			&codebuild.ListReportsForReportGroupInput{ReportGroupArn: aws.String(missing)}),
			Want: awstest.APIError{Code: "ResourceNotFoundException"}},
		{Name: "trend of a missing group", Call: awstest.Fails(c.GetReportGroupTrend, &codebuild.GetReportGroupTrendInput{
			ReportGroupArn: aws.String(missing), TrendField: types.ReportGroupTrendFieldTypePassRate}),
			Want: awstest.APIError{Code: "ResourceNotFoundException"}},
		{Name: "test cases of a malformed report ARN", Call: awstest.Fails(c.DescribeTestCases,
			&codebuild.DescribeTestCasesInput{ReportArn: aws.String("arn:aws:codebuild:us-east-1:000000000000:report/nope")}),
			Want: awstest.APIError{Code: "InvalidInputException"}},
		{Name: "test cases of a missing report", Call: awstest.Fails(c.DescribeTestCases,
			&codebuild.DescribeTestCasesInput{ReportArn: aws.String("arn:aws:codebuild:us-east-1:000000000000:report/unit:1234")}),
			Want: awstest.APIError{Code: "ResourceNotFoundException"}},
		{Name: "delete missing report", Call: awstest.Fails(c.DeleteReport,
			&codebuild.DeleteReportInput{Arn: aws.String("arn:aws:codebuild:us-east-1:000000000000:report/unit:1234")}),
			Want: awstest.APIError{Code: "ResourceNotFoundException"}},
	})
}
