package codebuild

import (
	"context"
	"strings"

	"overcast"
	"overcast/internal/authz"
	"overcast/internal/awsproto"
	"overcast/internal/service"
	"overcast/internal/store"
)

// authzTable is how IAM authorizes CodeBuild's operations (the Service
// Authorization Reference's "AWS CodeBuild"): on the project a call names,
// or whose build or build batch it names (their IDs are
// "<project>:<uuid>"); on the report group a call names, or whose report
// it names (report/<group>:<id>).
var authzTable = &authz.Table{Prefix: "codebuild", Rules: map[string]authz.Rule{
	"CreateProject":              {Resources: authz.Ref("Name", projectNamed)},
	"UpdateProject":              {Resources: authz.Ref("Name", projectNamed)},
	"DeleteProject":              {Resources: authz.Ref("Name", projectNamed)},
	"BatchGetProjects":           {Resources: authz.Ref("Names", projectNamed)},
	"CreateWebhook":              {Resources: authz.Ref("ProjectName", projectNamed)},
	"UpdateWebhook":              {Resources: authz.Ref("ProjectName", projectNamed)},
	"DeleteWebhook":              {Resources: authz.Ref("ProjectName", projectNamed)},
	"StartBuild":                 {Resources: authz.Ref("ProjectName", projectNamed)},
	"StartBuildBatch":            {Resources: authz.Ref("ProjectName", projectNamed)},
	"ListBuildsForProject":       {Resources: authz.Ref("ProjectName", projectNamed)},
	"ListBuildBatchesForProject": {Resources: authz.Ref("ProjectName", projectNamed)},
	"BatchGetBuilds":             {Resources: projectsOfBuilds("Ids")},
	"BatchDeleteBuilds":          {Resources: projectsOfBuilds("Ids")},
	"RetryBuild":                 {Resources: projectsOfBuilds("Id")},
	"StopBuild":                  {Resources: projectsOfBuilds("Id")},
	"BatchGetBuildBatches":       {Resources: projectsOfBuilds("Ids")},
	"RetryBuildBatch":            {Resources: projectsOfBuilds("Id")},
	"StopBuildBatch":             {Resources: projectsOfBuilds("Id")},
	"DeleteBuildBatch":           {Resources: projectsOfBuilds("Id")},

	"CreateReportGroup":         {Resources: authz.Ref("Name", reportGroupNamed)},
	"UpdateReportGroup":         {Resources: authz.Ref("Arn", reportGroupNamed)},
	"DeleteReportGroup":         {Resources: authz.Ref("Arn", reportGroupNamed)},
	"BatchGetReportGroups":      {Resources: authz.Ref("ReportGroupArns", reportGroupNamed)},
	"GetReportGroupTrend":       {Resources: authz.Ref("ReportGroupArn", reportGroupNamed)},
	"ListReportsForReportGroup": {Resources: authz.Ref("ReportGroupArn", reportGroupNamed)},
	"BatchGetReports":           {Resources: groupsOfReports("ReportArns")},
	"DeleteReport":              {Resources: groupsOfReports("Arn")},
	"DescribeTestCases":         {Resources: groupsOfReports("ReportArn")},
	"DescribeCodeCoverages":     {Resources: groupsOfReports("ReportArn")},
}}

func projectNamed(s authz.Scope, name string) string { return projectARN(s.Local(), name) }

func reportGroupNamed(s authz.Scope, name string) string { return reportGroupARN(s.Local(), name) }

// projectsOfBuilds is Rule.Resources for the builds or build batches an
// input's field names, by ID or ARN: their projects.
func projectsOfBuilds(field string) func(context.Context, authz.Scope, any) []string {
	return func(_ context.Context, s authz.Scope, in any) []string {
		var out []string
		for _, id := range authz.Fields(in, field) {
			id = buildBatchID(buildID(id))
			if project, _, ok := strings.Cut(id, ":"); ok && project != "" {
				out = append(out, projectARN(s.Local(), project))
			}
		}
		return out
	}
}

// groupsOfReports is Rule.Resources for the reports an input's field
// names by ARN: their report groups.
func groupsOfReports(field string) func(context.Context, authz.Scope, any) []string {
	return func(_ context.Context, s authz.Scope, in any) []string {
		var out []string
		for _, arn := range authz.Fields(in, field) {
			_, rest, ok := strings.Cut(arn, ":report/")
			group, _, hasID := strings.Cut(rest, ":")
			if ok && hasID {
				out = append(out, reportGroupARN(s.Local(), group))
			}
		}
		return out
	}
}

var _ authz.Resources = (*Service)(nil)

// ResourceOf describes the project a CodeBuild ARN names, for
// authorization: its account and its tags (aws:ResourceTag). Report
// groups are authorized by their ARN alone.
func (s *Service) ResourceOf(ctx context.Context, arn string) (authz.Resource, error) {
	a, _ := overcast.ParseARN(arn)
	res := authz.Resource{Owner: a.AccountID}
	name, ok := strings.CutPrefix(a.Resource, "project/")
	if !ok || name == "" {
		return res, nil
	}
	var p *project
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		p, _, err = getProject(tx, scope{Account: a.AccountID, Region: a.Region}, name)
		return err
	})
	if _, missing := awsproto.AsAPIError(err); missing {
		return res, nil // no such project: the operation says so
	}
	if err != nil {
		return res, err
	}
	for _, t := range p.Project.Tags {
		if res.Tags == nil {
			res.Tags = map[string]string{}
		}
		res.Tags[service.Deref(t.Key)] = service.Deref(t.Value)
	}
	return res, nil
}
