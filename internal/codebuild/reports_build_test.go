package codebuild

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/codebuild"
	"overcast/internal/codebuild/runner"
	"overcast/internal/service/servicetest"
)

// memoryBucket is S3 keeping what it is given.
type memoryBucket struct {
	Objects
	mu         sync.Mutex
	objects    map[string]string // bucket/key → body
	accounts   []string
	failCopies map[string]bool // source buckets CopyObject refuses
}

func (b *memoryBucket) PutObject(ctx context.Context, account, region, bucket, key string, body io.Reader, _ int64) error {
	data, err := io.ReadAll(body)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objects[bucket+"/"+key] = string(data)
	b.accounts = append(b.accounts, account)
	return err
}

func (b *memoryBucket) ListObjects(ctx context.Context, account, region, bucket, prefix string) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var keys []string
	for k := range b.objects {
		if key, ok := strings.CutPrefix(k, bucket+"/"); ok && strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// CopyObject copies an object; a source bucket in failCopies refuses.
func (b *memoryBucket) CopyObject(ctx context.Context, account, region, srcBucket, srcKey, bucket, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	body, ok := b.objects[srcBucket+"/"+srcKey]
	if !ok || b.failCopies[srcBucket] {
		return fmt.Errorf("NoSuchKey: %s/%s", srcBucket, srcKey)
	}
	b.objects[bucket+"/"+key] = body
	return nil
}

// keys are the bucket's keys under prefix, sorted.
func (b *memoryBucket) keys(bucket, prefix string) []string {
	keys, _ := b.ListObjects(context.Background(), "", "", bucket, prefix)
	return keys
}

func testdata(name string) string { return filepath.Join("reports", "testdata", name) }

func newReportsService(t *testing.T) (*Service, *memoryBucket, context.Context) {
	env := servicetest.Env(t)
	bucket := &memoryBucket{objects: map[string]string{}}
	ctx := overcast.WithCaller(context.Background(), overcast.Caller{AccountID: "000000000000", Region: "us-east-1"})
	return New(env, Options{Objects: bucket}), bucket, ctx
}

func call[I, O any](t *testing.T, ctx context.Context, op func(context.Context, I) (O, error), in I) O {
	t.Helper()
	out, err := op(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBuildReports(t *testing.T) {
	s, _, ctx := newReportsService(t)
	sc := overcast.ScopeOf(ctx)
	b := buildReport{Scope: sc, Project: "app", BuildARN: sc.ARN("codebuild", "build/app:1")}
	err := s.recordReports(ctx, b, []runner.ReportFiles{
		{Group: "unit", FileFormat: "JUNITXML", Files: []string{testdata("junit.xml"), testdata("junit-single.xml")}},
		{Group: "cov", FileFormat: "COBERTURAXML", Files: []string{testdata("cobertura.xml")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	groups := call(t, ctx, s.ListReportGroups, &api.ListReportGroupsInput{})
	if diff := cmp.Diff([]string{reportGroupARN(sc, "app-cov"), reportGroupARN(sc, "app-unit")}, []string(groups.ReportGroups)); diff != "" {
		t.Errorf("report groups created for the project (-want +got):\n%s", diff)
	}
	unit := call(t, ctx, s.ListReportsForReportGroup, &api.ListReportsForReportGroupInput{ReportGroupArn: new(reportGroupARN(sc, "app-unit"))})
	if len(unit.Reports) != 1 {
		t.Fatalf("reports of app-unit: got %v, want one", unit.Reports)
	}
	reportArn := unit.Reports[0]
	got := call(t, ctx, s.BatchGetReports, &api.BatchGetReportsInput{ReportArns: api.ReportArns{reportArn}}).Reports[0]
	if *got.Status != "FAILED" || *got.Type != "TEST" || *got.ExecutionId != b.BuildARN {
		t.Errorf("report: got status %s, type %s, executionId %s; want FAILED, TEST, %s", *got.Status, *got.Type, *got.ExecutionId, b.BuildARN)
	}
	wantSummary := &api.TestReportSummary{Total: new(int32(5)), DurationInNanoSeconds: new(int64(1_751_000_000)),
		StatusCounts: api.ReportStatusCounts{"SUCCEEDED": 2, "FAILED": 1, "ERROR": 1, "SKIPPED": 1}}
	if diff := cmp.Diff(wantSummary, got.TestSummary, cmp.AllowUnexported(api.TestReportSummary{})); diff != "" {
		t.Errorf("test summary (-want +got):\n%s", diff)
	}

	for _, tt := range []struct {
		name   string
		filter *api.TestCaseFilter
		want   []string
	}{
		{"all", nil, []string{"TestAdd", "TestDiv", "TestPanic", "TestLater", "test_ok"}},
		{"failed", &api.TestCaseFilter{Status: new("FAILED")}, []string{"TestDiv"}},
		{"keyword in the prefix", &api.TestCaseFilter{Keyword: new("Nested")}, []string{"TestPanic", "TestLater"}},
		{"keyword in the name", &api.TestCaseFilter{Keyword: new("_ok")}, []string{"test_ok"}},
	} {
		cases := call(t, ctx, s.DescribeTestCases, &api.DescribeTestCasesInput{ReportArn: &reportArn, Filter: tt.filter})
		names := make([]string, len(cases.TestCases))
		for i, c := range cases.TestCases {
			names[i] = *c.Name
		}
		if diff := cmp.Diff(tt.want, names); diff != "" {
			t.Errorf("DescribeTestCases %s (-want +got):\n%s", tt.name, diff)
		}
	}
	page := call(t, ctx, s.DescribeTestCases, &api.DescribeTestCasesInput{ReportArn: &reportArn, MaxResults: new(int32(2))})
	next := call(t, ctx, s.DescribeTestCases, &api.DescribeTestCasesInput{ReportArn: &reportArn, MaxResults: new(int32(2)), NextToken: page.NextToken})
	if len(page.TestCases) != 2 || *next.TestCases[0].Name != "TestPanic" {
		t.Errorf("pages: got %d cases then %s, want 2 then TestPanic", len(page.TestCases), *next.TestCases[0].Name)
	}

	cov := call(t, ctx, s.ListReportsForReportGroup, &api.ListReportsForReportGroupInput{ReportGroupArn: new(reportGroupARN(sc, "app-cov"))}).Reports[0]
	covReport := call(t, ctx, s.BatchGetReports, &api.BatchGetReportsInput{ReportArns: api.ReportArns{cov}}).Reports[0]
	if sum := covReport.CodeCoverageSummary; *sum.LinesCovered != 3 || *sum.LinesMissed != 2 || *sum.LineCoveragePercentage != 60 || *sum.BranchCoveragePercentage != 16.67 {
		t.Errorf("coverage summary: got %d covered, %d missed, %v%% lines, %v%% branches; want 3, 2, 60, 16.67",
			*sum.LinesCovered, *sum.LinesMissed, *sum.LineCoveragePercentage, *sum.BranchCoveragePercentage)
	}
	files := call(t, ctx, s.DescribeCodeCoverages, &api.DescribeCodeCoveragesInput{ReportArn: &cov,
		SortBy: new("LINE_COVERAGE_PERCENTAGE"), SortOrder: new("DESCENDING")})
	if len(files.CodeCoverages) != 2 || *files.CodeCoverages[0].FilePath != "app/calc.py" {
		t.Errorf("coverages by line coverage: got %+v, want app/calc.py first", files.CodeCoverages)
	}
	low := call(t, ctx, s.DescribeCodeCoverages, &api.DescribeCodeCoveragesInput{ReportArn: &cov, MaxLineCoveragePercentage: new(50.0)})
	if len(low.CodeCoverages) != 1 || *low.CodeCoverages[0].FilePath != "app/main.py" {
		t.Errorf("coverages at most 50%%: got %+v, want app/main.py", low.CodeCoverages)
	}

	trend := call(t, ctx, s.GetReportGroupTrend, &api.GetReportGroupTrendInput{ReportGroupArn: new(reportGroupARN(sc, "app-unit")), TrendField: new("PASS_RATE")})
	if *trend.Stats.Average != "40" || len(trend.RawData) != 1 || *trend.RawData[0].Data != "40" {
		t.Errorf("pass rate trend: got average %s, raw %+v; want 40", *trend.Stats.Average, trend.RawData)
	}

	if _, err := s.DeleteReportGroup(ctx, &api.DeleteReportGroupInput{Arn: new(reportGroupARN(sc, "app-unit"))}); err == nil || !strings.Contains(err.Error(), "deleteReports") {
		t.Errorf("deleting a group with reports: got %v, want an error naming deleteReports", err)
	}
	call(t, ctx, s.DeleteReportGroup, &api.DeleteReportGroupInput{Arn: new(reportGroupARN(sc, "app-unit")), DeleteReports: new(true)})
	if _, err := s.DescribeTestCases(ctx, &api.DescribeTestCasesInput{ReportArn: &reportArn}); err == nil {
		t.Error("test cases of a deleted group's report: got them, want an error")
	}
	call(t, ctx, s.DeleteReport, &api.DeleteReportInput{Arn: &cov})
	if left := call(t, ctx, s.ListReports, &api.ListReportsInput{}).Reports; len(left) != 0 {
		t.Errorf("reports left: got %v, want none", left)
	}
}

func TestBuildReportsBadInput(t *testing.T) {
	s, _, ctx := newReportsService(t)
	sc := overcast.ScopeOf(ctx)
	b := buildReport{Scope: sc, Project: "app", BuildARN: sc.ARN("codebuild", "build/app:1")}
	call(t, ctx, s.CreateReportGroup, &api.CreateReportGroupInput{Name: new("cov"), Type: new("CODE_COVERAGE"),
		ExportConfig: &api.ReportExportConfig{ExportConfigType: new("NO_EXPORT")}})

	err := s.recordReports(ctx, b, []runner.ReportFiles{
		{Group: reportGroupARN(sc, "missing"), Files: []string{testdata("junit.xml")}},
		{Group: reportGroupARN(sc, "cov"), FileFormat: "JUNITXML", Files: []string{testdata("junit.xml")}},
		{Group: "broken", FileFormat: "NUNIT3XML", Files: []string{testdata("junit.xml"), testdata("nunit3.xml")}},
		{Group: "none", Files: nil},
	})
	for _, want := range []string{"report-group/missing does not exist", "is of type CODE_COVERAGE", "root element is <testsuites>"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error: got %v, want it to say %q", err, want)
		}
	}
	statuses := map[string]string{}
	for _, g := range []string{"app-broken", "app-none"} {
		arns := call(t, ctx, s.ListReportsForReportGroup, &api.ListReportsForReportGroupInput{ReportGroupArn: new(reportGroupARN(sc, g))}).Reports
		r := call(t, ctx, s.BatchGetReports, &api.BatchGetReportsInput{ReportArns: arns}).Reports[0]
		statuses[g] = *r.Status
		if g == "app-broken" && *r.TestSummary.Total != 5 {
			t.Errorf("broken report keeps the cases it could read: got %d, want 5", *r.TestSummary.Total)
		}
	}
	if diff := cmp.Diff(map[string]string{"app-broken": "INCOMPLETE", "app-none": "INCOMPLETE"}, statuses); diff != "" {
		t.Errorf("report statuses (-want +got):\n%s", diff)
	}
	if all := call(t, ctx, s.ListReports, &api.ListReportsInput{}).Reports; len(all) != 2 {
		t.Errorf("reports: got %d, want 2 (none for the missing or mismatched group)", len(all))
	}
}

func TestBuildReportsExport(t *testing.T) {
	s, bucket, ctx := newReportsService(t)
	sc := overcast.ScopeOf(ctx)
	b := buildReport{Scope: sc, Project: "app", BuildARN: sc.ARN("codebuild", "build/app:1")}
	for name, packaging := range map[string]string{"raw": "NONE", "zipped": "ZIP"} {
		call(t, ctx, s.CreateReportGroup, &api.CreateReportGroupInput{Name: new(name), Type: new("TEST"),
			ExportConfig: &api.ReportExportConfig{ExportConfigType: new("S3"),
				S3Destination: &api.S3ReportExportConfig{Bucket: new("results"), Path: new("ci/"), Packaging: new(packaging)}}})
	}
	err := s.recordReports(ctx, b, []runner.ReportFiles{
		{Group: reportGroupARN(sc, "raw"), Files: []string{testdata("junit.xml")}},
		{Group: reportGroupARN(sc, "zipped"), Files: []string{testdata("junit.xml"), testdata("junit-single.xml")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	uuid := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f-]{27}`)
	var keys []string
	for k := range bucket.objects {
		keys = append(keys, uuid.ReplaceAllString(k, "ID"))
	}
	slices.Sort(keys)
	if diff := cmp.Diff([]string{"results/ci/raw/ID/junit.xml", "results/ci/zipped/ID.zip"}, keys); diff != "" {
		t.Errorf("exported objects (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{sc.Account, sc.Account}, bucket.accounts); diff != "" {
		t.Errorf("exported as (-want +got):\n%s", diff)
	}
}
