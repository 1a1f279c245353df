package cloudfront

import (
	"strings"

	"overcast"
	api "overcast/internal/api/cloudfront"
	"overcast/internal/cloudfront/edge"
	"overcast/internal/store"
)

// liveFunction is the LIVE stage of the function arn names, for a
// behaviour that associates it.
func (s *Service) liveFunction(tx store.Tx, account, arn string) (edge.Function, error) {
	a, ok := overcast.ParseARN(arn)
	name, found := "", false
	if ok && a.AccountID == account {
		name, found = strings.CutPrefix(a.Resource, "function/")
	}
	if !found {
		return edge.Function{}, api.NewInvalidFunctionAssociation("The function ARN is not valid: %s", arn)
	}
	f, _, err := s.functions.get(tx, account, name)
	if err != nil || f.Live == nil {
		return edge.Function{}, api.NewInvalidFunctionAssociation("The function %s does not exist or is not published.", arn)
	}
	return edge.Function{Name: f.Name, ARN: f.ARN, Runtime: *f.Live.Config.Runtime, Code: f.Live.Code}, nil
}
