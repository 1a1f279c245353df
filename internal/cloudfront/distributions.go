package cloudfront

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"overcast"
	api "overcast/internal/api/cloudfront"
	"overcast/internal/store"
)

type distributionRecord = record[api.DistributionConfig]

// deployment is what the edge serves of a distribution: the version of its
// record last deployed. A distribution is Deployed when that is its
// current version; kept apart from the record so that deploying does not
// change the distribution's ETag.
type deployment struct {
	Version int64
}

const deploymentsTable = "cloudfront.deployments"

func (s *Service) distributionARN(account, id string) string {
	return resourceARN(account, "distribution", id)
}

// resourceARN is the ARN of CloudFront's resource id of a type
// ("distribution", "cache-policy"): CloudFront is global, its ARNs have no
// region.
func resourceARN(account, resourceType, id string) string {
	return overcast.NewARN("cloudfront", "", account, resourceType+"/"+id).String()
}

func (s *Service) CreateDistribution(ctx context.Context, in *api.CreateDistributionRequest) (*api.CreateDistributionResult, error) {
	d, tag, err := s.createDistribution(ctx, in.DistributionConfig, nil)
	if err != nil {
		return nil, err
	}
	return &api.CreateDistributionResult{Distribution: d, ETag: &tag, Location: s.location("distribution", *d.Id)}, nil
}

func (s *Service) CreateDistributionWithTags(ctx context.Context, in *api.CreateDistributionWithTagsRequest) (*api.CreateDistributionWithTagsResult, error) {
	withTags := in.DistributionConfigWithTags
	if err := validTags(withTags.Tags); err != nil {
		return nil, err
	}
	d, tag, err := s.createDistribution(ctx, withTags.DistributionConfig, withTags.Tags)
	if err != nil {
		return nil, err
	}
	return &api.CreateDistributionWithTagsResult{Distribution: d, ETag: &tag, Location: s.location("distribution", *d.Id)}, nil
}

// createDistribution creates a distribution, or answers the one created
// with the same CallerReference and configuration: CloudFront treats such
// a request as a retry.
func (s *Service) createDistribution(ctx context.Context, cfg *api.DistributionConfig, tags *api.Tags) (*api.Distribution, string, error) {
	account := overcast.ScopeOf(ctx).Account
	now := s.Now()
	rec := &distributionRecord{ID: s.newID("E"), Created: now, Modified: now, Config: cfg}
	var (
		existing *distributionRecord
		version  int64
	)
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		same, err := s.distributions.all(tx, account, func(d *distributionRecord) bool {
			return *d.Config.CallerReference == *cfg.CallerReference
		})
		if err != nil {
			return err
		}
		if len(same) > 0 {
			existing, version = same[0].Value, same[0].Version
			if !sameConfig(existing.Config, cfg) {
				return api.NewDistributionAlreadyExists("The caller reference that you are using to create a distribution is associated with another distribution. Already exists: %s", existing.ID)
			}
			return nil
		}
		if err := s.validate(tx, account, rec); err != nil {
			return err
		}
		if version, err = store.PutJSON(tx, s.distributions.table, accountKey(account, rec.ID), rec, 0); err != nil {
			return err
		}
		if tags != nil {
			return s.putTags(tx, account, s.distributionARN(account, rec.ID), tags.Items)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	if existing != nil {
		rec = existing
	} else {
		s.deployments.Enqueue(accountKey(account, rec.ID))
	}
	d, err := s.distribution(ctx, account, rec, version)
	return d, etag(rec.ID, version), err
}

// sameConfig compares two configurations as the wire carries them.
func sameConfig(a, b *api.DistributionConfig) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func (s *Service) GetDistribution(ctx context.Context, in *api.GetDistributionRequest) (*api.GetDistributionResult, error) {
	rec, tag, err := s.distributions.read(ctx, s.Store, *in.Id)
	if err != nil {
		return nil, err
	}
	d, err := s.distributionAt(ctx, overcast.ScopeOf(ctx).Account, rec, tag)
	return &api.GetDistributionResult{Distribution: d, ETag: &tag}, err
}

func (s *Service) GetDistributionConfig(ctx context.Context, in *api.GetDistributionConfigRequest) (*api.GetDistributionConfigResult, error) {
	rec, tag, err := s.distributions.read(ctx, s.Store, *in.Id)
	if err != nil {
		return nil, err
	}
	return &api.GetDistributionConfigResult{DistributionConfig: rec.Config, ETag: &tag}, nil
}

// UpdateDistribution replaces the whole configuration, as CloudFront
// does: what the request leaves out is gone.
func (s *Service) UpdateDistribution(ctx context.Context, in *api.UpdateDistributionRequest) (*api.UpdateDistributionResult, error) {
	account := overcast.ScopeOf(ctx).Account
	rec, tag, err := s.distributions.update(ctx, s.Store, *in.Id, in.IfMatch, func(tx store.Tx, rec *distributionRecord) error {
		if *in.DistributionConfig.CallerReference != *rec.Config.CallerReference {
			return api.NewIllegalUpdate("The CallerReference of a distribution cannot be changed.")
		}
		rec.Config = in.DistributionConfig
		rec.Modified = s.Now()
		return s.validate(tx, account, rec)
	})
	if err != nil {
		return nil, err
	}
	s.deployments.Enqueue(accountKey(account, rec.ID))
	d, err := s.distributionAt(ctx, account, rec, tag)
	return &api.UpdateDistributionResult{Distribution: d, ETag: &tag}, err
}

// DeleteDistribution deletes a distribution that is disabled and whose
// disabling is deployed: CloudFront refuses otherwise.
func (s *Service) DeleteDistribution(ctx context.Context, in *api.DeleteDistributionRequest) error {
	account := overcast.ScopeOf(ctx).Account
	err := s.distributions.remove(ctx, s.Store, *in.Id, in.IfMatch, func(tx store.Tx, rec *distributionRecord, current int64) error {
		deployed, err := s.deployedVersion(tx, account, rec.ID)
		if err != nil {
			return err
		}
		if *rec.Config.Enabled || deployed != current {
			return api.NewDistributionNotDisabled("The distribution you are trying to delete has not been disabled.")
		}
		if _, err := store.DeleteScanned(tx, invalidationsTable, store.ScanOptions{Prefix: accountKey(account, rec.ID) + "/"}); err != nil {
			return err
		}
		return s.deleteTags(tx, account, s.distributionARN(account, rec.ID))
	})
	if err != nil {
		return err
	}
	s.deployments.Enqueue(accountKey(account, *in.Id))
	return nil
}

func (s *Service) ListDistributions(ctx context.Context, in *api.ListDistributionsRequest) (*api.ListDistributionsResult, error) {
	account := overcast.ScopeOf(ctx).Account
	var (
		p        page[stored[distributionRecord]]
		statuses = map[string]string{}
	)
	err := s.Store.View(ctx, func(tx store.Tx) error {
		all, err := s.distributions.all(tx, account, nil)
		if err != nil {
			return err
		}
		if p, err = list(all, recordID, in.Marker, in.MaxItems); err != nil {
			return err
		}
		for _, d := range p.Items {
			if statuses[d.Value.ID], err = s.status(tx, account, d.Value.ID, d.Version); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &api.DistributionList{Marker: p.Marker, NextMarker: p.NextMarker, MaxItems: p.MaxItems, IsTruncated: p.IsTruncated, Quantity: p.Quantity}
	for _, d := range p.Items {
		out.Items = append(out.Items, s.summary(account, d.Value, statuses[d.Value.ID], etag(d.Value.ID, d.Version)))
	}
	return &api.ListDistributionsResult{DistributionList: out}, nil
}

func (s *Service) summary(account string, rec *distributionRecord, status, tag string) api.DistributionSummary {
	c := rec.Config
	return api.DistributionSummary{
		Id: &rec.ID, ARN: new(s.distributionARN(account, rec.ID)), ETag: &tag, Status: &status,
		LastModifiedTime: new(rec.Modified), DomainName: new(s.domainName(rec.ID)),
		Aliases: orEmpty(c.Aliases, &api.Aliases{Quantity: new(int32(0))}), Origins: c.Origins, OriginGroups: c.OriginGroups,
		DefaultCacheBehavior: c.DefaultCacheBehavior,
		CacheBehaviors:       orEmpty(c.CacheBehaviors, &api.CacheBehaviors{Quantity: new(int32(0))}),
		CustomErrorResponses: orEmpty(c.CustomErrorResponses, &api.CustomErrorResponses{Quantity: new(int32(0))}),
		Comment:              c.Comment, PriceClass: new(strOr(c.PriceClass, "PriceClass_All")), Enabled: c.Enabled,
		ViewerCertificate: orEmpty(c.ViewerCertificate, defaultViewerCertificate()),
		Restrictions:      orEmpty(c.Restrictions, noRestrictions()),
		WebACLId:          new(strOr(c.WebACLId, "")), HttpVersion: new(strOr(c.HttpVersion, "http2")),
		IsIPV6Enabled: new(c.IsIPV6Enabled != nil && *c.IsIPV6Enabled), Staging: new(c.Staging != nil && *c.Staging),
	}
}

func orEmpty[T any](v, empty *T) *T {
	if v == nil {
		return empty
	}
	return v
}

func defaultViewerCertificate() *api.ViewerCertificate {
	return &api.ViewerCertificate{CloudFrontDefaultCertificate: new(true), SSLSupportMethod: new("vip"),
		MinimumProtocolVersion: new("TLSv1"), CertificateSource: new("cloudfront")}
}

func noRestrictions() *api.Restrictions {
	return &api.Restrictions{GeoRestriction: &api.GeoRestriction{RestrictionType: new("none"), Quantity: new(int32(0))}}
}

// distribution is rec as GetDistribution answers it, at version.
func (s *Service) distribution(ctx context.Context, account string, rec *distributionRecord, version int64) (*api.Distribution, error) {
	return s.distributionAt(ctx, account, rec, etag(rec.ID, version))
}

// distributionAt is rec as the API answers it, its status read from the
// store: Deployed once the edge serves the version whose ETag is tag.
func (s *Service) distributionAt(ctx context.Context, account string, rec *distributionRecord, tag string) (*api.Distribution, error) {
	d := &api.Distribution{
		Id: &rec.ID, ARN: new(s.distributionARN(account, rec.ID)), LastModifiedTime: new(rec.Modified),
		DomainName: new(s.domainName(rec.ID)), DistributionConfig: rec.Config,
	}
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		if d.ActiveTrustedKeyGroups, err = s.activeKeyGroups(tx, account, rec.Config); err != nil {
			return err
		}
		if d.ActiveTrustedSigners, err = s.activeSigners(tx, account, rec.Config); err != nil {
			return err
		}
		deployed, err := s.deployedVersion(tx, account, rec.ID)
		if err != nil {
			return err
		}
		d.Status = new(statusOf(deployed > 0 && etag(rec.ID, deployed) == tag))
		n, err := s.inProgressInvalidations(tx, account, rec.ID)
		d.InProgressInvalidationBatches = new(int32(n))
		return err
	})
	return d, err
}

func statusOf(deployed bool) string {
	if deployed {
		return "Deployed"
	}
	return "InProgress"
}

// status is the Status of version of the distribution id.
func (s *Service) status(tx store.Tx, account, id string, version int64) (string, error) {
	deployed, err := s.deployedVersion(tx, account, id)
	return statusOf(deployed == version), err
}

// deployedVersion is the version of the distribution id that the edge
// serves, 0 for none.
func (s *Service) deployedVersion(tx store.Tx, account, id string) (int64, error) {
	var d deployment
	_, err := store.GetJSON(tx, deploymentsTable, accountKey(account, id), &d)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	return d.Version, err
}

// activeKeyGroups are the key groups the behaviours trust, each with the
// IDs of the public keys it holds now.
// activeSigners are the trusted signers of cfg's behaviours with their key
// pairs (signerKeys).
func (s *Service) activeSigners(tx store.Tx, account string, cfg *api.DistributionConfig) (*api.ActiveTrustedSigners, error) {
	signers := trustedSignerAccounts(cfg)
	out := &api.ActiveTrustedSigners{Enabled: new(len(signers) > 0), Quantity: new(int32(len(signers)))}
	for _, signer := range signers {
		keys, err := s.signerKeys(tx, account, signer)
		if err != nil {
			return nil, err
		}
		ids := api.KeyPairIdList{}
		for _, k := range keys {
			ids = append(ids, k.ID)
		}
		out.Items = append(out.Items, api.Signer{AwsAccountNumber: new(signer),
			KeyPairIds: &api.KeyPairIds{Quantity: new(int32(len(ids))), Items: ids}})
	}
	return out, nil
}

func (s *Service) activeKeyGroups(tx store.Tx, account string, cfg *api.DistributionConfig) (*api.ActiveTrustedKeyGroups, error) {
	ids := trustedKeyGroupIDs(cfg)
	out := &api.ActiveTrustedKeyGroups{Enabled: new(len(ids) > 0), Quantity: new(int32(len(ids)))}
	for _, id := range ids {
		g, _, err := s.keyGroups.get(tx, account, id)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, api.KGKeyPairIds{KeyGroupId: new(id),
			KeyPairIds: &api.KeyPairIds{Quantity: new(int32(len(g.Config.Items))), Items: api.KeyPairIdList(g.Config.Items)}})
	}
	return out, nil
}
