package codebuild

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	api "overcast/internal/api/codebuild"
	"overcast/internal/awsproto"
	"overcast/internal/codebuild/reports"
	"overcast/internal/codebuild/runner"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Reports hands the build's report files to its report groups.
func (h *hooks) Reports(ctx context.Context, groups []runner.ReportFiles) error {
	return h.s.recordReports(ctx, buildReport{Scope: h.sc, Project: *h.b.Build.ProjectName, BuildARN: *h.b.Build.Arn}, groups)
}

// buildReport is what recordReports knows of the build whose files it reads.
type buildReport struct {
	Scope    scope
	Project  string
	BuildARN string
}

// recordReports turns the files a build's buildspec reports section matched
// into one report per group: a group named by name is the project's
// <project>-<name>, created on first use; one named by ARN must exist. A
// group that cannot take the report is an error for that group only.
func (s *Service) recordReports(ctx context.Context, b buildReport, groups []runner.ReportFiles) error {
	var errs []error
	var arns []string
	for _, rf := range groups {
		arn, err := s.recordReport(ctx, b, rf)
		if err != nil {
			errs = append(errs, fmt.Errorf("report group %s: %w", rf.Group, err))
		}
		if arn != "" {
			arns = append(arns, arn)
		}
	}
	if len(arns) > 0 {
		// The build lists its reports; one deleted meanwhile has none.
		_, err := s.updateBuild(ctx, b.Scope.Key(buildID(b.BuildARN)), func(_ store.Tx, rec *build) error {
			rec.Build.ReportArns = append(rec.Build.ReportArns, arns...)
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// recordReport records one group's report and returns its ARN ("" when
// the group could not take it).
func (s *Service) recordReport(ctx context.Context, b buildReport, rf runner.ReportFiles) (string, error) {
	format := rf.FileFormat
	if format == "" {
		format = reports.JUnitXML
	}
	typ, err := reports.TypeOf(format)
	if err != nil {
		return "", err
	}
	sc := b.Scope
	name, byARN := reportGroupName(rf.Group), strings.HasPrefix(rf.Group, "arn:")
	if !byARN {
		name = b.Project + "-" + rf.Group
	}
	parsed := parseReportFiles(format, typ, rf.Files)
	id := s.IDs.UUID()
	now := s.Now()
	expires := now.Add(reportRetention)
	arn := reportARN(sc, name, id)
	r := api.Report{
		Arn: new(arn), Type: new(typ), Name: new(name),
		ReportGroupArn: new(reportGroupARN(sc, name)), ExecutionId: new(b.BuildARN),
		Status: new(parsed.status), Created: &now, Expired: &expires, Truncated: new(parsed.truncated),
	}
	var cases []api.TestCase
	var coverages []api.CodeCoverage
	if typ == reports.TypeTest {
		sum := reports.SummarizeTests(parsed.cases)
		counts := api.ReportStatusCounts{}
		for status, n := range sum.StatusCounts {
			counts[status] = int32(n)
		}
		r.TestSummary = &api.TestReportSummary{Total: new(int32(sum.Total)), StatusCounts: counts,
			DurationInNanoSeconds: new(sum.Duration.Nanoseconds())}
		for _, c := range parsed.cases {
			cases = append(cases, api.TestCase{
				ReportArn: r.Arn, TestRawDataPath: new(c.RawPath), Prefix: new(c.Prefix),
				Name: new(c.Name), Status: new(c.Status), DurationInNanoSeconds: new(c.Duration.Nanoseconds()),
				Message: new(c.Message), Expired: &expires, TestSuiteName: new(c.Suite),
			})
		}
	} else {
		sum := reports.SummarizeCoverage(parsed.files)
		r.CodeCoverageSummary = &api.CodeCoverageReportSummary{
			LineCoveragePercentage: new(sum.LinePercentage()), LinesCovered: new(int32(sum.LinesCovered)),
			LinesMissed: new(int32(sum.LinesMissed)), BranchCoveragePercentage: new(sum.BranchPercentage()),
			BranchesCovered: new(int32(sum.BranchesCovered)), BranchesMissed: new(int32(sum.BranchesMissed)),
		}
		for _, f := range parsed.files {
			coverages = append(coverages, api.CodeCoverage{
				Id: new(s.IDs.UUID()), ReportARN: r.Arn, FilePath: new(f.Path),
				LineCoveragePercentage: new(f.LinePercentage()), LinesCovered: new(int32(f.LinesCovered)),
				LinesMissed: new(int32(f.LinesMissed)), BranchCoveragePercentage: new(f.BranchPercentage()),
				BranchesCovered: new(int32(f.BranchesCovered)), BranchesMissed: new(int32(f.BranchesMissed)),
				Expired: &expires,
			})
		}
	}
	var group api.ReportGroup
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		g, _, err := getReportGroup(tx, sc, reportGroupARN(sc, name))
		var apiErr awsproto.APIError
		switch {
		case errors.As(err, &apiErr) && !byARN:
			g = &reportGroup{}
			g.Group, err = s.createReportGroup(tx, sc, name, typ, &api.ReportExportConfig{ExportConfigType: new(exportNone)}, nil)
			if err != nil {
				return err
			}
		case err != nil:
			return err
		}
		if *g.Group.Type != typ {
			return invalidInput("report group %s is of type %s, not %s (file format %s)", *g.Group.Arn, *g.Group.Type, typ, format)
		}
		group = g.Group
		r.ExportConfig = reportExport(g.Group.ExportConfig, name, id)
		key := sc.Key(name + ":" + id)
		if _, err := store.PutJSON(tx, reportsTable, key, &report{Report: r}, 0); err != nil {
			return err
		}
		if cases != nil {
			_, err = store.PutJSON(tx, testCasesTable, key, cases, 0)
		} else if coverages != nil {
			_, err = store.PutJSON(tx, coveragesTable, key, coverages, 0)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	errs := parsed.errs
	if e := group.ExportConfig; e != nil && *e.ExportConfigType == exportS3 {
		errs = append(errs, s.exportReport(ctx, b, r.ExportConfig.S3Destination, rf.Files))
	}
	return arn, errors.Join(errs...)
}

// reportExport is where a report's raw files go: under the group's
// destination, in a folder of the group's name and the report's ID.
func reportExport(group *api.ReportExportConfig, name, id string) *api.ReportExportConfig {
	if group == nil || group.S3Destination == nil {
		return &api.ReportExportConfig{ExportConfigType: new(exportNone)}
	}
	d := *group.S3Destination
	d.Path = new(strings.Trim(strings.TrimSuffix(service.Deref(d.Path), "/")+"/"+name+"/"+id, "/"))
	return &api.ReportExportConfig{ExportConfigType: group.ExportConfigType, S3Destination: &d}
}

// parsedFiles is what a group's files held.
type parsedFiles struct {
	cases     []reports.TestCase
	files     []reports.FileCoverage
	truncated bool
	status    string
	errs      []error
}

// parseReportFiles reads every file of one group. A report with no files,
// or with a file CodeBuild cannot read, is INCOMPLETE; the cases of the
// files it could read are kept.
func parseReportFiles(format, typ string, paths []string) parsedFiles {
	var p parsedFiles
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			p.errs = append(p.errs, err)
			continue
		}
		if typ == reports.TypeTest {
			cases, err := reports.ParseTests(format, path, data)
			p.errs = append(p.errs, err)
			p.cases = append(p.cases, cases...)
		} else {
			files, err := reports.ParseCoverage(format, data)
			p.errs = append(p.errs, err)
			p.files = append(p.files, files...)
		}
	}
	p.cases, p.truncated = reports.Truncate(p.cases)
	switch {
	case len(paths) == 0 || errors.Join(p.errs...) != nil:
		p.status = reportIncomplete
	case typ == reports.TypeTest:
		p.status = reports.ReportStatus(p.cases)
	default:
		p.status = reports.Succeeded
	}
	return p
}

// exportReport copies a report's raw files to its S3 destination: each file
// under the report's path (packaging NONE), or all of them in one zip
// named after it (ZIP).
func (s *Service) exportReport(ctx context.Context, b buildReport, dest *api.S3ReportExportConfig, files []string) error {
	bucket, prefix := *dest.Bucket, service.Deref(dest.Path)
	if s.opts.Objects == nil {
		return errMissing("S3")
	}
	put := func(key string, body io.Reader, size int64) error {
		return s.opts.Objects.PutObject(ctx, b.Scope.Account, b.Scope.Region, bucket, key, body, size)
	}
	if service.Deref(dest.Packaging) == "ZIP" {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, f := range files {
			w, err := zw.Create(filepath.Base(f))
			if err != nil {
				return err
			}
			if err := copyFile(w, f); err != nil {
				return err
			}
		}
		if err := zw.Close(); err != nil {
			return err
		}
		return put(prefix+".zip", &buf, int64(buf.Len()))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := put(prefix+"/"+filepath.Base(f), bytes.NewReader(data), int64(len(data))); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
