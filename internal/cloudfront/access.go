package cloudfront

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"strings"

	api "overcast/internal/api/cloudfront"
)

// Origin access controls (how the edge signs its requests to an S3 origin)
// and the legacy origin access identities.

type oacRecord = record[api.OriginAccessControlConfig]

// originAccessControlRefs are the OACs a distribution's origins name.
func originAccessControlRefs(cfg *api.DistributionConfig) []string {
	return namedIDs(origins(cfg), func(o api.Origin) string { return strOr(o.OriginAccessControlId, "") })
}

// originAccessIdentityRefs are the OAIs a distribution's S3 origins name,
// as origin-access-identity/cloudfront/<id>.
func originAccessIdentityRefs(cfg *api.DistributionConfig) []string {
	return namedIDs(origins(cfg), originAccessIdentityOf)
}

func origins(cfg *api.DistributionConfig) []api.Origin {
	if cfg.Origins == nil {
		return nil
	}
	return cfg.Origins.Items
}

// originAccessIdentityOf is the ID of the OAI an S3 origin names, "" for
// none.
func originAccessIdentityOf(o api.Origin) string {
	if o.S3OriginConfig == nil {
		return ""
	}
	_, id, _ := strings.Cut(strOr(o.S3OriginConfig.OriginAccessIdentity, ""), "origin-access-identity/cloudfront/")
	return id
}

func oacOut(r *oacRecord) *api.OriginAccessControl {
	return &api.OriginAccessControl{Id: &r.ID, OriginAccessControlConfig: r.Config}
}

func (s *Service) CreateOriginAccessControl(ctx context.Context, in *api.CreateOriginAccessControlRequest) (*api.CreateOriginAccessControlResult, error) {
	return answer(got(s.originAccessControls.add(ctx, s, s.newID("E"), in.OriginAccessControlConfig)), func(r *oacRecord, tag *string) *api.CreateOriginAccessControlResult {
		return &api.CreateOriginAccessControlResult{OriginAccessControl: oacOut(r), ETag: tag, Location: s.location("origin-access-control", r.ID)}
	})
}

func (s *Service) GetOriginAccessControl(ctx context.Context, in *api.GetOriginAccessControlRequest) (*api.GetOriginAccessControlResult, error) {
	return answer(got(s.originAccessControls.read(ctx, s.Store, *in.Id)), func(r *oacRecord, tag *string) *api.GetOriginAccessControlResult {
		return &api.GetOriginAccessControlResult{OriginAccessControl: oacOut(r), ETag: tag}
	})
}

func (s *Service) GetOriginAccessControlConfig(ctx context.Context, in *api.GetOriginAccessControlConfigRequest) (*api.GetOriginAccessControlConfigResult, error) {
	return answer(got(s.originAccessControls.read(ctx, s.Store, *in.Id)), func(r *oacRecord, tag *string) *api.GetOriginAccessControlConfigResult {
		return &api.GetOriginAccessControlConfigResult{OriginAccessControlConfig: r.Config, ETag: tag}
	})
}

func (s *Service) UpdateOriginAccessControl(ctx context.Context, in *api.UpdateOriginAccessControlRequest) (*api.UpdateOriginAccessControlResult, error) {
	return answer(got(s.originAccessControls.replace(ctx, s, *in.Id, in.IfMatch, in.OriginAccessControlConfig)), func(r *oacRecord, tag *string) *api.UpdateOriginAccessControlResult {
		return &api.UpdateOriginAccessControlResult{OriginAccessControl: oacOut(r), ETag: tag}
	})
}

func (s *Service) DeleteOriginAccessControl(ctx context.Context, in *api.DeleteOriginAccessControlRequest) error {
	return s.originAccessControls.drop(ctx, s, *in.Id, in.IfMatch)
}

func (s *Service) ListOriginAccessControls(ctx context.Context, in *api.ListOriginAccessControlsRequest) (*api.ListOriginAccessControlsResult, error) {
	p, err := s.originAccessControls.listed(ctx, s, nil, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &api.ListOriginAccessControlsResult{OriginAccessControlList: &api.OriginAccessControlList{
		Marker: p.Marker, NextMarker: p.NextMarker, MaxItems: p.MaxItems, IsTruncated: p.IsTruncated, Quantity: p.Quantity,
		Items: summaries(p, func(r stored[oacRecord]) api.OriginAccessControlSummary {
			c := r.Value.Config
			return api.OriginAccessControlSummary{Id: &r.Value.ID, Name: c.Name, Description: new(strOr(c.Description, "")),
				SigningProtocol: c.SigningProtocol, SigningBehavior: c.SigningBehavior, OriginAccessControlOriginType: c.OriginAccessControlOriginType}
		}),
	}}, nil
}

type oaiRecord = record[api.CloudFrontOriginAccessIdentityConfig]

// canonicalUserID is the S3 canonical user of an origin access identity,
// what a bucket policy or ACL grants: 96 hex digits, as AWS's are.
func canonicalUserID(id string) *string {
	sum := sha512.Sum384([]byte("cloudfront-origin-access-identity/" + id))
	return new(hex.EncodeToString(sum[:]))
}

func oaiOut(r *oaiRecord) *api.CloudFrontOriginAccessIdentity {
	return &api.CloudFrontOriginAccessIdentity{Id: &r.ID, S3CanonicalUserId: canonicalUserID(r.ID), CloudFrontOriginAccessIdentityConfig: r.Config}
}

func (s *Service) CreateCloudFrontOriginAccessIdentity(ctx context.Context, in *api.CreateCloudFrontOriginAccessIdentityRequest) (*api.CreateCloudFrontOriginAccessIdentityResult, error) {
	return answer(got(s.originAccessIdentities.add(ctx, s, s.newID("E"), in.CloudFrontOriginAccessIdentityConfig)), func(r *oaiRecord, tag *string) *api.CreateCloudFrontOriginAccessIdentityResult {
		return &api.CreateCloudFrontOriginAccessIdentityResult{CloudFrontOriginAccessIdentity: oaiOut(r), ETag: tag,
			Location: s.location("origin-access-identity/cloudfront", r.ID)}
	})
}

func (s *Service) GetCloudFrontOriginAccessIdentity(ctx context.Context, in *api.GetCloudFrontOriginAccessIdentityRequest) (*api.GetCloudFrontOriginAccessIdentityResult, error) {
	return answer(got(s.originAccessIdentities.read(ctx, s.Store, *in.Id)), func(r *oaiRecord, tag *string) *api.GetCloudFrontOriginAccessIdentityResult {
		return &api.GetCloudFrontOriginAccessIdentityResult{CloudFrontOriginAccessIdentity: oaiOut(r), ETag: tag}
	})
}

func (s *Service) GetCloudFrontOriginAccessIdentityConfig(ctx context.Context, in *api.GetCloudFrontOriginAccessIdentityConfigRequest) (*api.GetCloudFrontOriginAccessIdentityConfigResult, error) {
	return answer(got(s.originAccessIdentities.read(ctx, s.Store, *in.Id)), func(r *oaiRecord, tag *string) *api.GetCloudFrontOriginAccessIdentityConfigResult {
		return &api.GetCloudFrontOriginAccessIdentityConfigResult{CloudFrontOriginAccessIdentityConfig: r.Config, ETag: tag}
	})
}

func (s *Service) UpdateCloudFrontOriginAccessIdentity(ctx context.Context, in *api.UpdateCloudFrontOriginAccessIdentityRequest) (*api.UpdateCloudFrontOriginAccessIdentityResult, error) {
	return answer(got(s.originAccessIdentities.replace(ctx, s, *in.Id, in.IfMatch, in.CloudFrontOriginAccessIdentityConfig)), func(r *oaiRecord, tag *string) *api.UpdateCloudFrontOriginAccessIdentityResult {
		return &api.UpdateCloudFrontOriginAccessIdentityResult{CloudFrontOriginAccessIdentity: oaiOut(r), ETag: tag}
	})
}

func (s *Service) DeleteCloudFrontOriginAccessIdentity(ctx context.Context, in *api.DeleteCloudFrontOriginAccessIdentityRequest) error {
	return s.originAccessIdentities.drop(ctx, s, *in.Id, in.IfMatch)
}

func (s *Service) ListCloudFrontOriginAccessIdentities(ctx context.Context, in *api.ListCloudFrontOriginAccessIdentitiesRequest) (*api.ListCloudFrontOriginAccessIdentitiesResult, error) {
	p, err := s.originAccessIdentities.listed(ctx, s, nil, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &api.ListCloudFrontOriginAccessIdentitiesResult{CloudFrontOriginAccessIdentityList: &api.CloudFrontOriginAccessIdentityList{
		Marker: p.Marker, NextMarker: p.NextMarker, MaxItems: p.MaxItems, IsTruncated: p.IsTruncated, Quantity: p.Quantity,
		Items: summaries(p, func(r stored[oaiRecord]) api.CloudFrontOriginAccessIdentitySummary {
			return api.CloudFrontOriginAccessIdentitySummary{Id: &r.Value.ID, S3CanonicalUserId: canonicalUserID(r.Value.ID), Comment: r.Value.Config.Comment}
		}),
	}}, nil
}
