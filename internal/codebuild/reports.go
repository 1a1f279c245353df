package codebuild

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/codebuild"
	"overcast/internal/awsproto"
	"overcast/internal/codebuild/reports"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Report groups and their reports. A report's test cases and file coverages
// live in tables of their own, under the report's key, so listing reports
// never reads them.
const (
	reportGroupsTable = "codebuild.reportgroups" // scope + group name
	reportsTable      = "codebuild.reports"      // scope + group name + ":" + report ID
	testCasesTable    = "codebuild.testcases"    // as reportsTable: []api.TestCase
	coveragesTable    = "codebuild.coverages"    // as reportsTable: []api.CodeCoverage
)

// reportRetention is how long CodeBuild keeps a report's results: reports,
// test cases and coverages say when they expire.
const reportRetention = 30 * 24 * time.Hour

// Report and report group statuses.
const (
	reportGroupActive = "ACTIVE"
	reportIncomplete  = "INCOMPLETE"
	exportS3          = "S3"
	exportNone        = "NO_EXPORT"
)

type reportGroup struct {
	Group api.ReportGroup `json:"group"`
}

type report struct {
	Report api.Report `json:"report"`
}

func reportGroupARN(sc scope, name string) string { return sc.ARN("codebuild", "report-group/"+name) }

func reportARN(sc scope, group, id string) string {
	return sc.ARN("codebuild", "report/"+group+":"+id)
}

// reportGroupName is the group an ARN names; a bare name is taken as is.
func reportGroupName(arn string) string {
	if _, name, ok := strings.Cut(arn, ":report-group/"); ok {
		return name
	}
	return arn
}

// reportKey is the store key of the report an ARN names.
func reportKey(sc scope, arn string) (string, bool) {
	_, rest, ok := strings.Cut(arn, ":report/")
	if !ok || !strings.Contains(rest, ":") {
		return "", false
	}
	return sc.Key(rest), true
}

func getReportGroup(tx store.Tx, sc scope, arn string) (*reportGroup, int64, error) {
	var g reportGroup
	version, err := store.GetJSON(tx, reportGroupsTable, sc.Key(reportGroupName(arn)), &g)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, notFound("Report group with ARN %s does not exist", arn)
	}
	return &g, version, err
}

func getReport(tx store.Tx, sc scope, arn string) (*report, string, error) {
	key, ok := reportKey(sc, arn)
	if !ok {
		return nil, "", invalidInput("Invalid report ARN: %s", arn)
	}
	var r report
	_, err := store.GetJSON(tx, reportsTable, key, &r)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", notFound("Report with ARN %s does not exist", arn)
	}
	return &r, key, err
}

// exportConfig checks an export configuration the way CreateReportGroup and
// UpdateReportGroup do.
func exportConfig(c *api.ReportExportConfig) (*api.ReportExportConfig, error) {
	switch service.Deref(c.ExportConfigType) {
	case exportNone:
		return &api.ReportExportConfig{ExportConfigType: c.ExportConfigType}, nil
	case exportS3:
		d := c.S3Destination
		if d == nil || service.Deref(d.Bucket) == "" {
			return nil, invalidInput("Invalid export config: s3Destination bucket must be specified when exportConfigType is S3")
		}
		if d.Packaging == nil {
			d.Packaging = new("NONE")
		}
		return c, nil
	}
	return nil, invalidInput("Invalid export config: exportConfigType must be one of S3, NO_EXPORT")
}

func (s *Service) CreateReportGroup(ctx context.Context, in *api.CreateReportGroupInput) (*api.CreateReportGroupOutput, error) {
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	export, err := exportConfig(in.ExportConfig)
	if err != nil {
		return nil, err
	}
	sc := overcast.ScopeOf(ctx)
	var g api.ReportGroup
	err = s.Store.Update(ctx, func(tx store.Tx) (err error) {
		g, err = s.createReportGroup(tx, sc, *in.Name, *in.Type, export, in.Tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateReportGroupOutput{ReportGroup: &g}, nil
}

// createReportGroup stores a new group: for CreateReportGroup, and for a
// buildspec naming a group that does not exist yet.
func (s *Service) createReportGroup(tx store.Tx, sc scope, name, typ string, export *api.ReportExportConfig, tags api.TagList) (api.ReportGroup, error) {
	now := s.Now()
	g := api.ReportGroup{
		Arn: new(reportGroupARN(sc, name)), Name: new(name), Type: new(typ),
		ExportConfig: export, Created: &now, LastModified: &now, Tags: nonNil(tags), Status: new(reportGroupActive),
	}
	_, err := store.PutJSON(tx, reportGroupsTable, sc.Key(name), &reportGroup{Group: g}, 0)
	if errors.Is(err, store.ErrConflict) {
		return g, alreadyExists("Report group arn:aws:codebuild:%s:%s:report-group/%s already exists", sc.Region, sc.Account, name)
	}
	return g, err
}

func (s *Service) UpdateReportGroup(ctx context.Context, in *api.UpdateReportGroupInput) (*api.UpdateReportGroupOutput, error) {
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	var export *api.ReportExportConfig
	if in.ExportConfig != nil {
		var err error
		if export, err = exportConfig(in.ExportConfig); err != nil {
			return nil, err
		}
	}
	sc := overcast.ScopeOf(ctx)
	var g api.ReportGroup
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		rec, version, err := getReportGroup(tx, sc, *in.Arn)
		if err != nil {
			return err
		}
		if export != nil {
			rec.Group.ExportConfig = export
		}
		if in.Tags != nil {
			rec.Group.Tags = in.Tags
		}
		now := s.Now()
		rec.Group.LastModified = &now
		g = rec.Group
		_, err = store.PutJSON(tx, reportGroupsTable, sc.Key(*rec.Group.Name), rec, version)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateReportGroupOutput{ReportGroup: &g}, nil
}

func (s *Service) DeleteReportGroup(ctx context.Context, in *api.DeleteReportGroupInput) (*api.DeleteReportGroupOutput, error) {
	sc := overcast.ScopeOf(ctx)
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		rec, version, err := getReportGroup(tx, sc, *in.Arn)
		if err != nil {
			return err
		}
		prefix := sc.Key(*rec.Group.Name + ":")
		keys, err := store.Keys(tx, reportsTable, store.ScanOptions{Prefix: prefix})
		if err != nil {
			return err
		}
		if len(keys) > 0 && !service.Deref(in.DeleteReports) {
			return invalidInput("Cannot delete report group %s because it has reports. Set deleteReports to true to delete the reports with it", *in.Arn)
		}
		for _, table := range []string{reportsTable, testCasesTable, coveragesTable} {
			if err := store.DeleteKeys(tx, table, keys); err != nil {
				return err
			}
		}
		return tx.Delete(reportGroupsTable, sc.Key(*rec.Group.Name), version)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteReportGroupOutput{}, nil
}

func (s *Service) DeleteReport(ctx context.Context, in *api.DeleteReportInput) (*api.DeleteReportOutput, error) {
	sc := overcast.ScopeOf(ctx)
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		_, key, err := getReport(tx, sc, *in.Arn)
		if err != nil {
			return err
		}
		return store.DeleteKeys(tx, reportsTable, []string{key})
	})
	if err != nil {
		return nil, err
	}
	// The results go with the report; a second transaction keeps the first
	// one small, and a crash between the two leaves only unreachable rows.
	key, _ := reportKey(sc, *in.Arn)
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		return errors.Join(store.DeleteKeys(tx, testCasesTable, []string{key}), store.DeleteKeys(tx, coveragesTable, []string{key}))
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteReportOutput{}, nil
}

func (s *Service) BatchGetReportGroups(ctx context.Context, in *api.BatchGetReportGroupsInput) (*api.BatchGetReportGroupsOutput, error) {
	sc := overcast.ScopeOf(ctx)
	found, missing, err := batchGet(ctx, s.Store, in.ReportGroupArns, func(tx store.Tx, arn string) (api.ReportGroup, error) {
		g, _, err := getReportGroup(tx, sc, arn)
		if err != nil {
			return api.ReportGroup{}, err
		}
		return g.Group, nil
	})
	if err != nil {
		return nil, err
	}
	return &api.BatchGetReportGroupsOutput{ReportGroups: found, ReportGroupsNotFound: missing}, nil
}

func (s *Service) BatchGetReports(ctx context.Context, in *api.BatchGetReportsInput) (*api.BatchGetReportsOutput, error) {
	sc := overcast.ScopeOf(ctx)
	found, missing, err := batchGet(ctx, s.Store, in.ReportArns, func(tx store.Tx, arn string) (api.Report, error) {
		r, _, err := getReport(tx, sc, arn)
		if err != nil {
			return api.Report{}, err
		}
		return r.Report, nil
	})
	if err != nil {
		return nil, err
	}
	return &api.BatchGetReportsOutput{Reports: found, ReportsNotFound: missing}, nil
}

// batchGet reads what each distinct name names, in one snapshot: the names
// get answers with an API error (not found, malformed) are missing; any
// other error ends it.
func batchGet[T any](ctx context.Context, st store.Store, names []string, get func(store.Tx, string) (T, error)) (found []T, missing []string, err error) {
	found, missing = []T{}, []string{}
	err = st.View(ctx, func(tx store.Tx) error {
		for _, n := range service.Distinct(names) {
			v, err := get(tx, n)
			var apiErr awsproto.APIError
			switch {
			case errors.As(err, &apiErr):
				missing = append(missing, n)
			case err != nil:
				return err
			default:
				found = append(found, v)
			}
		}
		return nil
	})
	return found, missing, err
}

func (s *Service) ListReportGroups(ctx context.Context, in *api.ListReportGroupsInput) (*api.ListReportGroupsOutput, error) {
	sc := overcast.ScopeOf(ctx)
	var groups []reportGroup
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		groups, err = store.FilterJSON[reportGroup](tx, reportGroupsTable, store.ScanOptions{Prefix: sc.Prefix()}, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	key := func(g reportGroup) string { return *g.Group.Name }
	switch service.Deref(in.SortBy) {
	case api.ReportGroupSortByTypeCREATEDTIME:
		key = func(g reportGroup) string { return timeKey(*g.Group.Created) + *g.Group.Name }
	case api.ReportGroupSortByTypeLASTMODIFIEDTIME:
		key = func(g reportGroup) string { return timeKey(*g.Group.LastModified) + *g.Group.Name }
	}
	sortBy(groups, key, service.Deref(in.SortOrder))
	arns := service.Map(groups, func(g reportGroup) string { return *g.Group.Arn })
	page, next, err := pageOf(arns, in.NextToken, awsproto.PageSize(in.MaxResults, listPageSize))
	if err != nil {
		return nil, err
	}
	return &api.ListReportGroupsOutput{ReportGroups: page, NextToken: next}, nil
}

// timeKey orders by time as strings order.
func timeKey(t time.Time) string { return t.UTC().Format("20060102T150405.000000000/") }

// sortBy sorts s by key, descending when order says so.
func sortBy[T any](s []T, key func(T) string, order string) {
	slices.SortStableFunc(s, func(a, b T) int {
		c := cmp.Compare(key(a), key(b))
		if order == "DESCENDING" {
			return -c
		}
		return c
	})
}

func (s *Service) ListReports(ctx context.Context, in *api.ListReportsInput) (*api.ListReportsOutput, error) {
	page, next, err := s.listReports(ctx, overcast.ScopeOf(ctx).Prefix(), in.Filter, in.SortOrder, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &api.ListReportsOutput{Reports: page, NextToken: next}, nil
}

func (s *Service) ListReportsForReportGroup(ctx context.Context, in *api.ListReportsForReportGroupInput) (*api.ListReportsForReportGroupOutput, error) {
	sc := overcast.ScopeOf(ctx)
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, _, err := getReportGroup(tx, sc, *in.ReportGroupArn)
		return err
	})
	if err != nil {
		return nil, err
	}
	prefix := sc.Key(reportGroupName(*in.ReportGroupArn) + ":")
	page, next, err := s.listReports(ctx, prefix, in.Filter, in.SortOrder, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &api.ListReportsForReportGroupOutput{Reports: page, NextToken: next}, nil
}

// listReports pages through the ARNs of the reports under prefix, newest
// first unless order says ASCENDING.
func (s *Service) listReports(ctx context.Context, prefix string, filter *api.ReportFilter, order, token *string, size *int32) ([]string, *string, error) {
	var status *string
	if filter != nil {
		status = filter.Status
	}
	return listNewestFirst(ctx, s.Store, reportsTable, prefix, listing[report]{
		keep:  func(r report) bool { return status == nil || *r.Report.Status == *status },
		since: func(r report) time.Time { return *r.Report.Created },
		id:    func(r report) string { return *r.Report.Arn },
	}, order, token, size)
}

// listing says how listNewestFirst reads one kind of record.
type listing[T any] struct {
	keep  func(T) bool
	since func(T) time.Time // when the record was made
	id    func(T) string    // what the list shows, unique
}

// listNewestFirst pages through the IDs of table's records under prefix
// that l keeps, newest first unless order says ASCENDING.
func listNewestFirst[T any](ctx context.Context, st store.Store, table, prefix string, l listing[T], order, token *string, size *int32) ([]string, *string, error) {
	var all []T
	err := st.View(ctx, func(tx store.Tx) (err error) {
		all, err = store.FilterJSON(tx, table, store.ScanOptions{Prefix: prefix}, l.keep)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	sortBy(all, func(v T) string { return timeKey(l.since(v)) + l.id(v) }, service.DerefOr(order, "DESCENDING"))
	return pageOf(service.Map(all, l.id), token, awsproto.PageSize(size, listPageSize))
}

func (s *Service) DescribeTestCases(ctx context.Context, in *api.DescribeTestCasesInput) (*api.DescribeTestCasesOutput, error) {
	var status, keyword string
	if in.Filter != nil {
		status, keyword = service.Deref(in.Filter.Status), service.Deref(in.Filter.Keyword)
	}
	var cases []api.TestCase
	if err := s.reportResults(ctx, *in.ReportArn, testCasesTable, &cases); err != nil {
		return nil, err
	}
	cases = slices.DeleteFunc(cases, func(c api.TestCase) bool {
		return status != "" && *c.Status != status ||
			keyword != "" && !strings.Contains(*c.Name, keyword) && !strings.Contains(*c.Prefix, keyword)
	})
	page, next, err := pageItems(cases, in.NextToken, awsproto.PageSize(in.MaxResults, 50))
	if err != nil {
		return nil, err
	}
	return &api.DescribeTestCasesOutput{TestCases: page, NextToken: next}, nil
}

func (s *Service) DescribeCodeCoverages(ctx context.Context, in *api.DescribeCodeCoveragesInput) (*api.DescribeCodeCoveragesOutput, error) {
	var files []api.CodeCoverage
	if err := s.reportResults(ctx, *in.ReportArn, coveragesTable, &files); err != nil {
		return nil, err
	}
	lo, hi := service.DerefOr(in.MinLineCoveragePercentage, 0), service.DerefOr(in.MaxLineCoveragePercentage, 100)
	files = slices.DeleteFunc(files, func(c api.CodeCoverage) bool {
		return *c.LineCoveragePercentage < lo || *c.LineCoveragePercentage > hi
	})
	order := service.DerefOr(in.SortOrder, "ASCENDING")
	if service.DerefOr(in.SortBy, api.ReportCodeCoverageSortByTypeFILEPATH) == api.ReportCodeCoverageSortByTypeFILEPATH {
		sortBy(files, func(c api.CodeCoverage) string { return *c.FilePath }, order)
	} else {
		slices.SortStableFunc(files, func(a, b api.CodeCoverage) int {
			c := cmp.Compare(*a.LineCoveragePercentage, *b.LineCoveragePercentage)
			if order == "DESCENDING" {
				return -c
			}
			return c
		})
	}
	page, next, err := pageItems(files, in.NextToken, awsproto.PageSize(in.MaxResults, 50))
	if err != nil {
		return nil, err
	}
	return &api.DescribeCodeCoveragesOutput{CodeCoverages: page, NextToken: next}, nil
}

// reportResults reads the test cases or coverages of the report arn names.
func (s *Service) reportResults(ctx context.Context, arn, table string, into any) error {
	sc := overcast.ScopeOf(ctx)
	return s.Store.View(ctx, func(tx store.Tx) error {
		_, key, err := getReport(tx, sc, arn)
		if err != nil {
			return err
		}
		_, err = store.GetJSON(tx, table, key, into)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
}

// pageItems is pageOf for a list of results rather than names.
func pageItems[T any](all []T, token *string, size int) ([]T, *string, error) {
	idx := make([]string, len(all))
	for i := range idx {
		idx[i] = strconv.Itoa(i)
	}
	page, next, err := pageOf(idx, token, size)
	if err != nil {
		return nil, nil, err
	}
	out := make([]T, 0, len(page))
	for _, p := range page {
		i, _ := strconv.Atoi(p)
		out = append(out, all[i])
	}
	return out, next, nil
}

func (s *Service) GetReportGroupTrend(ctx context.Context, in *api.GetReportGroupTrendInput) (*api.GetReportGroupTrendOutput, error) {
	sc := overcast.ScopeOf(ctx)
	var all []report
	err := s.Store.View(ctx, func(tx store.Tx) error {
		g, _, err := getReportGroup(tx, sc, *in.ReportGroupArn)
		if err != nil {
			return err
		}
		all, err = store.FilterJSON[report](tx, reportsTable, store.ScanOptions{Prefix: sc.Key(*g.Group.Name + ":")}, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	sortBy(all, func(r report) string { return timeKey(*r.Report.Created) + *r.Report.Arn }, "DESCENDING")
	all = all[:min(len(all), awsproto.PageSize(in.NumOfReports, 100))]
	out := &api.GetReportGroupTrendOutput{RawData: api.ReportGroupTrendRawDataList{}, Stats: &api.ReportGroupTrendStats{}}
	var values []float64
	for _, r := range all {
		v, ok := trendValue(r.Report, *in.TrendField)
		if !ok {
			continue
		}
		values = append(values, v)
		out.RawData = append(out.RawData, api.ReportWithRawData{ReportArn: r.Report.Arn, Data: new(formatTrend(v))})
	}
	if len(values) > 0 {
		sum := 0.0
		for _, v := range values {
			sum += v
		}
		out.Stats = &api.ReportGroupTrendStats{
			Average: new(formatTrend(sum / float64(len(values)))),
			Max:     new(formatTrend(slices.Max(values))),
			Min:     new(formatTrend(slices.Min(values))),
		}
	}
	return out, nil
}

// trendValue is one report's value of a trend field; false when the report
// has no such value (a coverage field of a test report).
func trendValue(r api.Report, field string) (float64, bool) {
	if t := r.TestSummary; t != nil {
		switch field {
		case "PASS_RATE":
			if *t.Total == 0 {
				return 0, true
			}
			return math.Round(float64(t.StatusCounts[reports.Succeeded])*10000/float64(*t.Total)) / 100, true
		case "DURATION":
			return float64(*t.DurationInNanoSeconds), true
		case "TOTAL":
			return float64(*t.Total), true
		}
	}
	if c, value := r.CodeCoverageSummary, coverageTrends[field]; c != nil && value != nil {
		return value(c), true
	}
	return 0, false
}

// coverageTrends are the trend fields of coverage reports, and their values.
var coverageTrends = map[string]func(c *api.CodeCoverageReportSummary) float64{
	"LINE_COVERAGE":    func(c *api.CodeCoverageReportSummary) float64 { return *c.LineCoveragePercentage },
	"LINES_COVERED":    func(c *api.CodeCoverageReportSummary) float64 { return float64(*c.LinesCovered) },
	"LINES_MISSED":     func(c *api.CodeCoverageReportSummary) float64 { return float64(*c.LinesMissed) },
	"BRANCH_COVERAGE":  func(c *api.CodeCoverageReportSummary) float64 { return *c.BranchCoveragePercentage },
	"BRANCHES_COVERED": func(c *api.CodeCoverageReportSummary) float64 { return float64(*c.BranchesCovered) },
	"BRANCHES_MISSED":  func(c *api.CodeCoverageReportSummary) float64 { return float64(*c.BranchesMissed) },
}

func formatTrend(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}
