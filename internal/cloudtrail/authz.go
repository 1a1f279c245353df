package cloudtrail

import (
	"context"
	"strings"

	api "overcast/internal/api/cloudtrail"
	"overcast/internal/authz"
)

// authzTable is how IAM authorizes CloudTrail's operations: the trail
// operations act on the trail's ARN; LookupEvents, DescribeTrails and
// ListTrails on "*" (the default).
var authzTable = authz.Table{Prefix: "cloudtrail", Rules: map[string]authz.Rule{
	"CreateTrail":       {Resources: onTrail(func(in *api.CreateTrailRequest) *string { return in.Name })},
	"UpdateTrail":       {Resources: onTrail(func(in *api.UpdateTrailRequest) *string { return in.Name })},
	"DeleteTrail":       {Resources: onTrail(func(in *api.DeleteTrailRequest) *string { return in.Name })},
	"GetTrail":          {Resources: onTrail(func(in *api.GetTrailRequest) *string { return in.Name })},
	"GetTrailStatus":    {Resources: onTrail(func(in *api.GetTrailStatusRequest) *string { return in.Name })},
	"StartLogging":      {Resources: onTrail(func(in *api.StartLoggingRequest) *string { return in.Name })},
	"StopLogging":       {Resources: onTrail(func(in *api.StopLoggingRequest) *string { return in.Name })},
	"PutEventSelectors": {Resources: onTrail(func(in *api.PutEventSelectorsRequest) *string { return in.TrailName })},
	"GetEventSelectors": {Resources: onTrail(func(in *api.GetEventSelectorsRequest) *string { return in.TrailName })},
	"AddTags":           {Resources: onTrail(func(in *api.AddTagsRequest) *string { return in.ResourceId })},
	"RemoveTags":        {Resources: onTrail(func(in *api.RemoveTagsRequest) *string { return in.ResourceId })},
	"ListTags": {Resources: authz.On(func(s authz.Scope, in *api.ListTagsRequest) []string {
		arns := make([]string, 0, len(in.ResourceIdList))
		for _, id := range in.ResourceIdList {
			arns = append(arns, trailARN(s, id))
		}
		return arns
	})},
}}

// onTrail is the trail a name or ARN in the input names.
func onTrail[In any](name func(*In) *string) func(context.Context, authz.Scope, any) []string {
	return authz.Named("cloudtrail", "trail/", name)
}

func trailARN(s authz.Scope, nameOrARN string) string {
	if strings.HasPrefix(nameOrARN, "arn:") {
		return nameOrARN
	}
	return s.ARN("cloudtrail", "trail/"+nameOrARN)
}
