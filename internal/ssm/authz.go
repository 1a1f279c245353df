package ssm

import (
	"context"

	"overcast/internal/authz"
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
