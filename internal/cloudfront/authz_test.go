package cloudfront

import (
	"testing"

	api "overcast/internal/api/cloudfront"
	"overcast/internal/authz/authztest"
)

func TestAuthzTable(t *testing.T) {
	const arn = "arn:aws:cloudfront::123456789012:"
	authztest.Run(t, authzTable, []authztest.Case{
		{Op: "UpdateDistribution", In: &api.UpdateDistributionRequest{Id: new("E2QWRUHAPOMQZL")}, Resources: []string{arn + "distribution/E2QWRUHAPOMQZL"}},
		{Op: "CreateInvalidation", In: &api.CreateInvalidationRequest{DistributionId: new("E2QWRUHAPOMQZL")}, Resources: []string{arn + "distribution/E2QWRUHAPOMQZL"}},
		{Op: "PublishFunction", In: &api.PublishFunctionRequest{Name: new("rewrite")}, Resources: []string{arn + "function/rewrite"}},
		{Op: "GetCachePolicy", In: &api.GetCachePolicyRequest{Id: new("658327ea")}, Resources: []string{arn + "cache-policy/658327ea"}},
		{Op: "ListDistributions", In: &api.ListDistributionsRequest{}, Resources: []string{"*"}},
	})
}
