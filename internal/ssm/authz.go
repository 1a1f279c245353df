package ssm

import (
	"context"

	"overcast"
	"overcast/internal/authz"
	"overcast/internal/service"
	"overcast/internal/store"
)

// authzTable is how IAM authorizes Systems Manager's parameter operations
// (the Service Authorization Reference's "AWS Systems Manager"): on the
// parameter a call names, whose ARN is "parameter/<name without its
// leading slash>", without any version or label selector.
var authzTable = &authz.Table{Prefix: "ssm", Rules: map[string]authz.Rule{
	"GetParameter":            {Resources: parameters("Name")},
	"GetParameterHistory":     {Resources: parameters("Name")},
	"PutParameter":            {Resources: parameters("Name")},
	"DeleteParameter":         {Resources: parameters("Name")},
	"LabelParameterVersion":   {Resources: parameters("Name")},
	"UnlabelParameterVersion": {Resources: parameters("Name")},
	"GetParameters":           {Resources: parameters("Names")},
	"DeleteParameters":        {Resources: parameters("Names")},
	"GetParametersByPath":     {Resources: parameters("Path")},
	"AddTagsToResource":       {Resources: taggedParameter},
	"RemoveTagsFromResource":  {Resources: taggedParameter},
	"ListTagsForResource":     {Resources: taggedParameter},
}}

// parameters is Rule.Resources for the parameters field names, by name or
// ARN, each with an optional selector.
func parameters(field string) func(context.Context, authz.Scope, any) []string {
	return func(_ context.Context, s authz.Scope, in any) []string {
		var out []string
		for _, n := range authz.Fields(in, field) {
			if r, ok := parseRef(s.Local(), n); ok {
				out = append(out, parameterARN(r.scope, r.names[len(r.names)-1]))
			}
		}
		return out
	}
}

// taggedParameter is the parameter the tagging operations name by its
// ResourceType and ResourceId; the other resource types are not SSM's
// here, and need "*".
func taggedParameter(ctx context.Context, s authz.Scope, in any) []string {
	if authz.Field(in, "ResourceType") != "Parameter" {
		return nil
	}
	return parameters("ResourceId")(ctx, s, in)
}

var _ authz.Resources = (*Service)(nil)

// ResourceOf describes the parameter an SSM ARN names, for authorization:
// its account and its tags (aws:ResourceTag, ssm:resourceTag).
func (s *Service) ResourceOf(ctx context.Context, arn string) (authz.Resource, error) {
	a, _ := overcast.ParseARN(arn)
	res := authz.Resource{Owner: a.AccountID}
	r, ok := parseRef(scope{Account: a.AccountID, Region: a.Region}, arn)
	if !ok {
		return res, nil
	}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		for _, name := range r.names {
			p, _, err := getParameter(tx, r.scope, name)
			if err == nil {
				res.Tags = service.TagMap(p.Tags)
				return nil
			}
			if !isNotFound(err) {
				return err
			}
		}
		return nil // no such parameter: the operation says so
	})
	return res, err
}
