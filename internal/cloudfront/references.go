package cloudfront

import (
	"context"
	"slices"

	"overcast"
	api "overcast/internal/api/cloudfront"
	"overcast/internal/store"
)

// The ListDistributionsBy<Resource> operations: the IDs of the account's
// distributions whose configuration names a resource.

// distributionsNaming pages through the IDs of the distributions whose
// configuration names id by refs, after exists has checked that id is
// one of the account's resources (or a managed one).
func (s *Service) distributionsNaming(ctx context.Context, id string, refs func(*api.DistributionConfig) []string,
	exists func(tx store.Tx, account, id string) error, marker, maxItems *string) (*api.DistributionIdList, error) {
	account := overcast.ScopeOf(ctx).Account
	var using []stored[distributionRecord]
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		if err := exists(tx, account, id); err != nil {
			return err
		}
		using, err = s.distributions.all(tx, account, func(d *distributionRecord) bool { return slices.Contains(refs(d.Config), id) })
		return err
	})
	if err != nil {
		return nil, err
	}
	p, err := list(using, recordID, marker, maxItems)
	if err != nil {
		return nil, err
	}
	return &api.DistributionIdList{Marker: p.Marker, NextMarker: p.NextMarker, MaxItems: p.MaxItems, IsTruncated: p.IsTruncated, Quantity: p.Quantity,
		Items: summaries(p, func(d stored[distributionRecord]) string { return d.Value.ID })}, nil
}

// exists is an exists of distributionsNaming for a kind.
func exists[C any](k configKind[C]) func(tx store.Tx, account, id string) error {
	return func(tx store.Tx, account, id string) error {
		_, _, err := k.get(tx, account, id)
		return err
	}
}

func (s *Service) ListDistributionsByCachePolicyId(ctx context.Context, in *api.ListDistributionsByCachePolicyIdRequest) (*api.ListDistributionsByCachePolicyIdResult, error) {
	l, err := s.distributionsNaming(ctx, *in.CachePolicyId, behaviorRefs(func(b behavior) *string { return b.CachePolicyId }),
		exists(s.cachePolicies), in.Marker, in.MaxItems)
	return &api.ListDistributionsByCachePolicyIdResult{DistributionIdList: l}, err
}

func (s *Service) ListDistributionsByOriginRequestPolicyId(ctx context.Context, in *api.ListDistributionsByOriginRequestPolicyIdRequest) (*api.ListDistributionsByOriginRequestPolicyIdResult, error) {
	l, err := s.distributionsNaming(ctx, *in.OriginRequestPolicyId, behaviorRefs(func(b behavior) *string { return b.OriginRequestPolicyId }),
		exists(s.originRequestPolicies), in.Marker, in.MaxItems)
	return &api.ListDistributionsByOriginRequestPolicyIdResult{DistributionIdList: l}, err
}

func (s *Service) ListDistributionsByResponseHeadersPolicyId(ctx context.Context, in *api.ListDistributionsByResponseHeadersPolicyIdRequest) (*api.ListDistributionsByResponseHeadersPolicyIdResult, error) {
	l, err := s.distributionsNaming(ctx, *in.ResponseHeadersPolicyId, behaviorRefs(func(b behavior) *string { return b.ResponseHeadersID }),
		exists(s.responseHeadersPolicies), in.Marker, in.MaxItems)
	return &api.ListDistributionsByResponseHeadersPolicyIdResult{DistributionIdList: l}, err
}

func (s *Service) ListDistributionsByKeyGroup(ctx context.Context, in *api.ListDistributionsByKeyGroupRequest) (*api.ListDistributionsByKeyGroupResult, error) {
	l, err := s.distributionsNaming(ctx, *in.KeyGroupId, trustedKeyGroupIDs, exists(s.keyGroups), in.Marker, in.MaxItems)
	return &api.ListDistributionsByKeyGroupResult{DistributionIdList: l}, err
}
