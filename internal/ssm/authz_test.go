package ssm

import (
	"testing"

	api "overcast/internal/api/ssm"
	"overcast/internal/authz/authztest"
)

func TestAuthzTable(t *testing.T) {
	const arn = "arn:aws:ssm:us-east-1:123456789012:parameter/"
	authztest.Run(t, authzTable, []authztest.Case{
		{Name: "path", Op: "GetParameter", In: &api.GetParameterRequest{Name: new("/app/db/password")}, Resources: []string{arn + "app/db/password"}},
		{Name: "plain name", Op: "GetParameter", In: &api.GetParameterRequest{Name: new("token")}, Resources: []string{arn + "token"}},
		{Name: "selector", Op: "GetParameter", In: &api.GetParameterRequest{Name: new("/app/key:prod")}, Resources: []string{arn + "app/key"}},
		{Name: "ARN", Op: "GetParameter", In: &api.GetParameterRequest{Name: new("arn:aws:ssm:eu-west-1:210987654321:parameter/shared:3")},
			Resources: []string{"arn:aws:ssm:eu-west-1:210987654321:parameter/shared"}},
		{Op: "GetParameters", In: &api.GetParametersRequest{Names: []string{"a", "/b/c"}}, Resources: []string{arn + "a", arn + "b/c"}},
		{Op: "GetParametersByPath", In: &api.GetParametersByPathRequest{Path: new("/app")}, Resources: []string{arn + "app"}},
		{Op: "AddTagsToResource", In: &api.AddTagsToResourceRequest{ResourceType: new("Parameter"), ResourceId: new("/app/key")},
			Resources: []string{arn + "app/key"}},
		{Op: "DescribeParameters", In: &api.DescribeParametersRequest{}, Resources: []string{"*"}},
	})
}
