package logs

import (
	"context"
	"strings"

	"overcast"
	"overcast/internal/authz"
	"overcast/internal/awsproto"
)

// authzTable is how IAM authorizes CloudWatch Logs' operations (the
// Service Authorization Reference's "Amazon CloudWatch Logs"): on the log
// group a call names, by name (LogGroupName) or by name or ARN
// (LogGroupIdentifier), or on the log stream for the calls that read or
// write one.
var authzTable = &authz.Table{Prefix: "logs", Rules: map[string]authz.Rule{
	"CreateLogGroup":                {Resources: logGroups},
	"DeleteLogGroup":                {Resources: logGroups},
	"PutRetentionPolicy":            {Resources: logGroups},
	"DeleteRetentionPolicy":         {Resources: logGroups},
	"PutLogGroupDeletionProtection": {Resources: logGroups},
	"PutMetricFilter":               {Resources: logGroups},
	"DeleteMetricFilter":            {Resources: logGroups},
	"DescribeMetricFilters":         {Resources: logGroups},
	"PutSubscriptionFilter":         {Resources: logGroups},
	"DeleteSubscriptionFilter":      {Resources: logGroups},
	"DescribeSubscriptionFilters":   {Resources: logGroups},
	"DescribeQueries":               {Resources: logGroups},
	"DescribeLogStreams":            {Resources: logGroups},
	"FilterLogEvents":               {Resources: logGroups},
	"CreateExportTask":              {Resources: logGroups},
	"StartQuery":                    {Resources: logGroups},
	"StartLiveTail":                 {Resources: logGroups},
	"TagLogGroup":                   {Resources: logGroups},
	"UntagLogGroup":                 {Resources: logGroups},
	"ListTagsLogGroup":              {Resources: logGroups},

	"CreateLogStream": {Resources: logStreams},
	"DeleteLogStream": {Resources: logStreams},
	"PutLogEvents":    {Resources: logStreams},
	"GetLogEvents":    {Resources: logStreams},

	"TagResource":         {Resources: authz.ResourceARN},
	"UntagResource":       {Resources: authz.ResourceARN},
	"ListTagsForResource": {Resources: authz.ResourceARN},
}}

// groupFields are where Logs' inputs name log groups: by name, or by name
// or ARN, one or several.
var groupFields = []string{"LogGroupName", "LogGroupIdentifier", "LogGroupNames", "LogGroupIdentifiers"}

// logGroups are the ARNs of the log groups in, whichever of groupFields
// it has, names.
func logGroups(_ context.Context, s authz.Scope, in any) []string {
	var out []string
	for _, ref := range groupRefs(s, in) {
		out = append(out, ref.arn())
	}
	return out
}

func groupRefs(s authz.Scope, in any) []groupRef {
	var out []groupRef
	for _, f := range groupFields {
		if !authz.HasField(in, f) {
			continue
		}
		for _, name := range authz.Fields(in, f) {
			if ref, ok := groupFromARN(name); ok {
				out = append(out, ref)
			} else if name != "" {
				out = append(out, groupRef{Account: s.AccountID, Region: s.Region, Name: name})
			}
		}
	}
	return out
}

// logStreams is the ARN of the log stream in names, in its log group.
func logStreams(_ context.Context, s authz.Scope, in any) []string {
	stream := authz.Field(in, "LogStreamName")
	var out []string
	for _, ref := range groupRefs(s, in) {
		out = append(out, ref.streamARN(stream))
	}
	return out
}

var _ authz.Resources = (*Service)(nil)

// ResourceOf describes the log group an ARN names (its streams are
// tagged as it is), for authorization: its account and its tags
// (aws:ResourceTag).
func (s *Service) ResourceOf(ctx context.Context, arn string) (authz.Resource, error) {
	group, _, _ := strings.Cut(arn, ":log-stream:")
	ref, ok := groupFromARN(group)
	if !ok {
		a, _ := overcast.ParseARN(arn)
		return authz.Resource{Owner: a.AccountID}, nil
	}
	res := authz.Resource{Owner: ref.Account}
	g, err := s.viewGroup(ctx, ref)
	if _, missing := awsproto.AsAPIError(err); missing {
		return res, nil // no such group: the operation says so
	}
	res.Tags = g.Tags
	return res, err
}
