package cloudfront

import (
	"context"

	api "overcast/internal/api/cloudfront"
	"overcast/internal/store"
)

// Cache, origin request and response headers policies: the managed ones
// are read and listed like the account's own, never changed.

func (s *Service) location(kind, id string) *string {
	return new(s.url + "/2020-05-31/" + kind + "/" + id)
}

func checkCachePolicy(_ *Service, _ store.Tx, _ string, c *api.CachePolicyConfig) error {
	return orderTTL(c.MinTTL, c.DefaultTTL, c.MaxTTL)
}

func cachePolicyOut(r *record[api.CachePolicyConfig]) *api.CachePolicy {
	return &api.CachePolicy{Id: &r.ID, LastModifiedTime: new(r.Modified), CachePolicyConfig: r.Config}
}

func (s *Service) CreateCachePolicy(ctx context.Context, in *api.CreateCachePolicyRequest) (*api.CreateCachePolicyResult, error) {
	return answer(got(s.cachePolicies.add(ctx, s, s.IDs.UUID(), in.CachePolicyConfig)), func(r *record[api.CachePolicyConfig], tag *string) *api.CreateCachePolicyResult {
		return &api.CreateCachePolicyResult{CachePolicy: cachePolicyOut(r), ETag: tag, Location: s.location("cache-policy", r.ID)}
	})
}

func (s *Service) GetCachePolicy(ctx context.Context, in *api.GetCachePolicyRequest) (*api.GetCachePolicyResult, error) {
	return answer(got(s.cachePolicies.read(ctx, s.Store, *in.Id)), func(r *record[api.CachePolicyConfig], tag *string) *api.GetCachePolicyResult {
		return &api.GetCachePolicyResult{CachePolicy: cachePolicyOut(r), ETag: tag}
	})
}

func (s *Service) GetCachePolicyConfig(ctx context.Context, in *api.GetCachePolicyConfigRequest) (*api.GetCachePolicyConfigResult, error) {
	return answer(got(s.cachePolicies.read(ctx, s.Store, *in.Id)), func(r *record[api.CachePolicyConfig], tag *string) *api.GetCachePolicyConfigResult {
		return &api.GetCachePolicyConfigResult{CachePolicyConfig: r.Config, ETag: tag}
	})
}

func (s *Service) UpdateCachePolicy(ctx context.Context, in *api.UpdateCachePolicyRequest) (*api.UpdateCachePolicyResult, error) {
	return answer(got(s.cachePolicies.replace(ctx, s, *in.Id, in.IfMatch, in.CachePolicyConfig)), func(r *record[api.CachePolicyConfig], tag *string) *api.UpdateCachePolicyResult {
		return &api.UpdateCachePolicyResult{CachePolicy: cachePolicyOut(r), ETag: tag}
	})
}

func (s *Service) DeleteCachePolicy(ctx context.Context, in *api.DeleteCachePolicyRequest) error {
	return s.cachePolicies.drop(ctx, s, *in.Id, in.IfMatch)
}

func (s *Service) ListCachePolicies(ctx context.Context, in *api.ListCachePoliciesRequest) (*api.ListCachePoliciesResult, error) {
	p, err := s.cachePolicies.listed(ctx, s, in.Type, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &api.CachePolicyList{NextMarker: p.NextMarker, MaxItems: p.MaxItems, Quantity: p.Quantity}
	for _, r := range p.Items {
		out.Items = append(out.Items, api.CachePolicySummary{Type: s.cachePolicies.typeOf(r.Value.ID), CachePolicy: cachePolicyOut(r.Value)})
	}
	return &api.ListCachePoliciesResult{CachePolicyList: out}, nil
}

func originRequestPolicyOut(r *record[api.OriginRequestPolicyConfig]) *api.OriginRequestPolicy {
	return &api.OriginRequestPolicy{Id: &r.ID, LastModifiedTime: new(r.Modified), OriginRequestPolicyConfig: r.Config}
}

func (s *Service) CreateOriginRequestPolicy(ctx context.Context, in *api.CreateOriginRequestPolicyRequest) (*api.CreateOriginRequestPolicyResult, error) {
	return answer(got(s.originRequestPolicies.add(ctx, s, s.IDs.UUID(), in.OriginRequestPolicyConfig)), func(r *record[api.OriginRequestPolicyConfig], tag *string) *api.CreateOriginRequestPolicyResult {
		return &api.CreateOriginRequestPolicyResult{OriginRequestPolicy: originRequestPolicyOut(r), ETag: tag,
			Location: s.location("origin-request-policy", r.ID)}
	})
}

func (s *Service) GetOriginRequestPolicy(ctx context.Context, in *api.GetOriginRequestPolicyRequest) (*api.GetOriginRequestPolicyResult, error) {
	return answer(got(s.originRequestPolicies.read(ctx, s.Store, *in.Id)), func(r *record[api.OriginRequestPolicyConfig], tag *string) *api.GetOriginRequestPolicyResult {
		return &api.GetOriginRequestPolicyResult{OriginRequestPolicy: originRequestPolicyOut(r), ETag: tag}
	})
}

func (s *Service) GetOriginRequestPolicyConfig(ctx context.Context, in *api.GetOriginRequestPolicyConfigRequest) (*api.GetOriginRequestPolicyConfigResult, error) {
	return answer(got(s.originRequestPolicies.read(ctx, s.Store, *in.Id)), func(r *record[api.OriginRequestPolicyConfig], tag *string) *api.GetOriginRequestPolicyConfigResult {
		return &api.GetOriginRequestPolicyConfigResult{OriginRequestPolicyConfig: r.Config, ETag: tag}
	})
}

func (s *Service) UpdateOriginRequestPolicy(ctx context.Context, in *api.UpdateOriginRequestPolicyRequest) (*api.UpdateOriginRequestPolicyResult, error) {
	return answer(got(s.originRequestPolicies.replace(ctx, s, *in.Id, in.IfMatch, in.OriginRequestPolicyConfig)), func(r *record[api.OriginRequestPolicyConfig], tag *string) *api.UpdateOriginRequestPolicyResult {
		return &api.UpdateOriginRequestPolicyResult{OriginRequestPolicy: originRequestPolicyOut(r), ETag: tag}
	})
}

func (s *Service) DeleteOriginRequestPolicy(ctx context.Context, in *api.DeleteOriginRequestPolicyRequest) error {
	return s.originRequestPolicies.drop(ctx, s, *in.Id, in.IfMatch)
}

func (s *Service) ListOriginRequestPolicies(ctx context.Context, in *api.ListOriginRequestPoliciesRequest) (*api.ListOriginRequestPoliciesResult, error) {
	p, err := s.originRequestPolicies.listed(ctx, s, in.Type, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &api.OriginRequestPolicyList{NextMarker: p.NextMarker, MaxItems: p.MaxItems, Quantity: p.Quantity}
	for _, r := range p.Items {
		out.Items = append(out.Items, api.OriginRequestPolicySummary{Type: s.originRequestPolicies.typeOf(r.Value.ID),
			OriginRequestPolicy: originRequestPolicyOut(r.Value)})
	}
	return &api.ListOriginRequestPoliciesResult{OriginRequestPolicyList: out}, nil
}

func responseHeadersPolicyOut(r *record[api.ResponseHeadersPolicyConfig]) *api.ResponseHeadersPolicy {
	return &api.ResponseHeadersPolicy{Id: &r.ID, LastModifiedTime: new(r.Modified), ResponseHeadersPolicyConfig: r.Config}
}

func (s *Service) CreateResponseHeadersPolicy(ctx context.Context, in *api.CreateResponseHeadersPolicyRequest) (*api.CreateResponseHeadersPolicyResult, error) {
	return answer(got(s.responseHeadersPolicies.add(ctx, s, s.IDs.UUID(), in.ResponseHeadersPolicyConfig)), func(r *record[api.ResponseHeadersPolicyConfig], tag *string) *api.CreateResponseHeadersPolicyResult {
		return &api.CreateResponseHeadersPolicyResult{ResponseHeadersPolicy: responseHeadersPolicyOut(r), ETag: tag,
			Location: s.location("response-headers-policy", r.ID)}
	})
}

func (s *Service) GetResponseHeadersPolicy(ctx context.Context, in *api.GetResponseHeadersPolicyRequest) (*api.GetResponseHeadersPolicyResult, error) {
	return answer(got(s.responseHeadersPolicies.read(ctx, s.Store, *in.Id)), func(r *record[api.ResponseHeadersPolicyConfig], tag *string) *api.GetResponseHeadersPolicyResult {
		return &api.GetResponseHeadersPolicyResult{ResponseHeadersPolicy: responseHeadersPolicyOut(r), ETag: tag}
	})
}

func (s *Service) GetResponseHeadersPolicyConfig(ctx context.Context, in *api.GetResponseHeadersPolicyConfigRequest) (*api.GetResponseHeadersPolicyConfigResult, error) {
	return answer(got(s.responseHeadersPolicies.read(ctx, s.Store, *in.Id)), func(r *record[api.ResponseHeadersPolicyConfig], tag *string) *api.GetResponseHeadersPolicyConfigResult {
		return &api.GetResponseHeadersPolicyConfigResult{ResponseHeadersPolicyConfig: r.Config, ETag: tag}
	})
}

func (s *Service) UpdateResponseHeadersPolicy(ctx context.Context, in *api.UpdateResponseHeadersPolicyRequest) (*api.UpdateResponseHeadersPolicyResult, error) {
	return answer(got(s.responseHeadersPolicies.replace(ctx, s, *in.Id, in.IfMatch, in.ResponseHeadersPolicyConfig)), func(r *record[api.ResponseHeadersPolicyConfig], tag *string) *api.UpdateResponseHeadersPolicyResult {
		return &api.UpdateResponseHeadersPolicyResult{ResponseHeadersPolicy: responseHeadersPolicyOut(r), ETag: tag}
	})
}

func (s *Service) DeleteResponseHeadersPolicy(ctx context.Context, in *api.DeleteResponseHeadersPolicyRequest) error {
	return s.responseHeadersPolicies.drop(ctx, s, *in.Id, in.IfMatch)
}

func (s *Service) ListResponseHeadersPolicies(ctx context.Context, in *api.ListResponseHeadersPoliciesRequest) (*api.ListResponseHeadersPoliciesResult, error) {
	p, err := s.responseHeadersPolicies.listed(ctx, s, in.Type, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &api.ResponseHeadersPolicyList{NextMarker: p.NextMarker, MaxItems: p.MaxItems, Quantity: p.Quantity}
	for _, r := range p.Items {
		out.Items = append(out.Items, api.ResponseHeadersPolicySummary{Type: s.responseHeadersPolicies.typeOf(r.Value.ID),
			ResponseHeadersPolicy: responseHeadersPolicyOut(r.Value)})
	}
	return &api.ListResponseHeadersPoliciesResult{ResponseHeadersPolicyList: out}, nil
}
