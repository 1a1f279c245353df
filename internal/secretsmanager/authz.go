package secretsmanager

import (
	"context"

	"overcast"
	"overcast/internal/authz"
	"overcast/internal/store"
)

var _ authz.Resources = (*Service)(nil)

// ResourceOf describes the secret an ARN names (full or partial), for
// authorization: its account, its resource policy and its tags.
func (s *Service) ResourceOf(ctx context.Context, arn string) (authz.Resource, error) {
	a, _ := overcast.ParseARN(arn)
	res := authz.Resource{Owner: a.AccountID}
	var sec secret
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		sec, _, err = s.lookup(tx, scope{Account: a.AccountID, Region: a.Region}, arn)
		return err
	})
	if err != nil {
		return res, nil // no such secret: the operation says so
	}
	if sec.Policy != "" {
		p := authz.ParsePolicy(sec.Name, "resource", sec.Policy)
		res.Policy = &p
	}
	if len(sec.Tags) > 0 {
		res.Tags = make(map[string]string, len(sec.Tags))
		for _, t := range sec.Tags {
			res.Tags[t.Key] = t.Value
		}
	}
	return res, nil
}
