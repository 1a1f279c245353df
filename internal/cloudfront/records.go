package cloudfront

import (
	"context"
	"slices"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/cloudfront"
	"overcast/internal/store"
)

// record is how the store keeps every CloudFront resource but functions:
// its ID, when it was created and last changed, and its configuration as
// the API carries it.
type record[C any] struct {
	ID       string
	Created  time.Time
	Modified time.Time
	Config   *C
}

func recordID[C any](r stored[record[C]]) string { return r.Value.ID }

// errorf is a modeled error's constructor.
type errorf func(format string, args ...any) error

// configKind is a kind whose resources are a configuration under an ID
// (policies, origin access, public keys, key groups): created, replaced
// whole, deleted unless in use, listed.
type configKind[C any] struct {
	kind[record[C]]
	// unique is what no two resources of an account may share (a name, a
	// caller reference), and exists the error for a second one.
	unique func(*C) string
	exists errorf
	// inUse is the error deleting a resource in use gets, and usedBy says
	// whether one is.
	inUse  errorf
	usedBy func(s *Service, tx store.Tx, account, id string) (bool, error)
	// check, when set, validates a configuration beyond the model.
	check func(s *Service, tx store.Tx, account string, c *C) error
	// change, when set, refuses what an update may not change.
	change func(old, new *C) error
}

// add stores cfg as a new resource id.
func (k configKind[C]) add(ctx context.Context, s *Service, id string, cfg *C) (*record[C], string, error) {
	account := overcast.ScopeOf(ctx).Account
	now := s.Now()
	rec := &record[C]{ID: id, Created: now, Modified: now, Config: cfg}
	tag, err := k.create(ctx, s.Store, id, rec, func(tx store.Tx) error {
		return k.valid(s, tx, account, id, cfg)
	})
	return rec, tag, err
}

// valid checks cfg for the resource id: its own rules, and its unique
// value unused by any other resource of the account.
func (k configKind[C]) valid(s *Service, tx store.Tx, account, id string, cfg *C) error {
	if k.check != nil {
		if err := k.check(s, tx, account, cfg); err != nil {
			return err
		}
	}
	taken, err := k.all(tx, account, func(r *record[C]) bool { return r.ID != id && k.unique(r.Config) == k.unique(cfg) })
	if err != nil {
		return err
	}
	for _, m := range k.managed {
		if k.unique(m.Config) == k.unique(cfg) {
			taken = append(taken, stored[record[C]]{Value: m})
		}
	}
	if len(taken) > 0 {
		return k.exists("A resource with the name or caller reference %q already exists: %s", k.unique(cfg), taken[0].Value.ID)
	}
	return nil
}

// replace replaces the configuration of the resource id, guarded by
// ifMatch.
func (k configKind[C]) replace(ctx context.Context, s *Service, id string, ifMatch *string, cfg *C) (*record[C], string, error) {
	account := overcast.ScopeOf(ctx).Account
	return k.update(ctx, s.Store, id, ifMatch, func(tx store.Tx, rec *record[C]) error {
		if k.change != nil {
			if err := k.change(rec.Config, cfg); err != nil {
				return err
			}
		}
		if err := k.valid(s, tx, account, id, cfg); err != nil {
			return err
		}
		rec.Config, rec.Modified = cfg, s.Now()
		return nil
	})
}

// drop deletes the resource id, guarded by ifMatch, unless it is in use.
func (k configKind[C]) drop(ctx context.Context, s *Service, id string, ifMatch *string) error {
	account := overcast.ScopeOf(ctx).Account
	return k.remove(ctx, s.Store, id, ifMatch, func(tx store.Tx, _ *record[C], _ int64) error {
		if k.usedBy == nil {
			return nil
		}
		used, err := k.usedBy(s, tx, account, id)
		if err == nil && used {
			err = k.inUse("The resource %s is in use and cannot be deleted.", id)
		}
		return err
	})
}

// listed pages through the account's resources; typ "managed" lists only
// the managed ones, "custom" only the account's, anything else both.
func (k configKind[C]) listed(ctx context.Context, s *Service, typ, marker, maxItems *string) (page[stored[record[C]]], error) {
	account := overcast.ScopeOf(ctx).Account
	var items []stored[record[C]]
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		if strOr(typ, "") != "managed" {
			items, err = k.all(tx, account, nil)
		}
		return err
	})
	if err != nil {
		return page[stored[record[C]]]{}, err
	}
	if strOr(typ, "") != "custom" {
		for _, m := range k.managed {
			items = append(items, stored[record[C]]{Value: m})
		}
		slices.SortFunc(items, func(a, b stored[record[C]]) int { return strings.Compare(a.Value.ID, b.Value.ID) })
	}
	return list(items, recordID, marker, maxItems)
}

// typeOf is a policy's Type in a list: managed or custom.
func (k configKind[C]) typeOf(id string) *string {
	if _, ok := k.managed[id]; ok {
		return new("managed")
	}
	return new("custom")
}

// distributionsUsing is a usedBy for resources distributions name: refs
// lists the IDs of the kind a configuration names.
func distributionsUsing(refs func(cfg *api.DistributionConfig) []string) func(s *Service, tx store.Tx, account, id string) (bool, error) {
	return func(s *Service, tx store.Tx, account, id string) (bool, error) {
		using, err := s.distributions.all(tx, account, func(d *distributionRecord) bool {
			return slices.Contains(refs(d.Config), id)
		})
		return len(using) > 0, err
	}
}

// behaviorRefs is a refs of what a behaviour names by one field.
func behaviorRefs(field func(b behavior) *string) func(cfg *api.DistributionConfig) []string {
	return func(cfg *api.DistributionConfig) []string {
		return namedIDs(behaviors(cfg), func(b behavior) string { return strOr(field(b), "") })
	}
}

// namedIDs are the IDs items name (idOf reads one), leaving out those
// that name none.
func namedIDs[T any](items []T, idOf func(T) string) []string {
	var ids []string
	for _, item := range items {
		if id := idOf(item); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// kinds are every kind of resource the control plane stores.
type kinds struct {
	distributions           kind[distributionRecord]
	cachePolicies           configKind[api.CachePolicyConfig]
	originRequestPolicies   configKind[api.OriginRequestPolicyConfig]
	responseHeadersPolicies configKind[api.ResponseHeadersPolicyConfig]
	originAccessControls    configKind[api.OriginAccessControlConfig]
	originAccessIdentities  configKind[api.CloudFrontOriginAccessIdentityConfig]
	publicKeys              configKind[api.PublicKeyConfig]
	keyGroups               configKind[api.KeyGroupConfig]
	functions               kind[function]
}

func errf[E error](newErr func(format string, args ...any) E) errorf {
	return func(format string, args ...any) error { return newErr(format, args...) }
}

func newKinds() kinds {
	return kinds{
		distributions: kind[distributionRecord]{table: "cloudfront.distributions",
			notFound: notFoundf(api.NewNoSuchDistribution, "distribution")},
		cachePolicies: configKind[api.CachePolicyConfig]{
			kind: kind[record[api.CachePolicyConfig]]{table: "cloudfront.cache-policies",
				notFound: notFoundf(api.NewNoSuchCachePolicy, "cache policy"), managed: managedCachePolicies()},
			unique: func(c *api.CachePolicyConfig) string { return strOr(c.Name, "") },
			exists: errf(api.NewCachePolicyAlreadyExists), inUse: errf(api.NewCachePolicyInUse),
			usedBy: distributionsUsing(behaviorRefs(func(b behavior) *string { return b.CachePolicyId })),
			check:  checkCachePolicy,
		},
		originRequestPolicies: configKind[api.OriginRequestPolicyConfig]{
			kind: kind[record[api.OriginRequestPolicyConfig]]{table: "cloudfront.origin-request-policies",
				notFound: notFoundf(api.NewNoSuchOriginRequestPolicy, "origin request policy"), managed: managedOriginRequestPolicies()},
			unique: func(c *api.OriginRequestPolicyConfig) string { return strOr(c.Name, "") },
			exists: errf(api.NewOriginRequestPolicyAlreadyExists), inUse: errf(api.NewOriginRequestPolicyInUse),
			usedBy: distributionsUsing(behaviorRefs(func(b behavior) *string { return b.OriginRequestPolicyId })),
		},
		responseHeadersPolicies: configKind[api.ResponseHeadersPolicyConfig]{
			kind: kind[record[api.ResponseHeadersPolicyConfig]]{table: "cloudfront.response-headers-policies",
				notFound: notFoundf(api.NewNoSuchResponseHeadersPolicy, "response headers policy"), managed: managedResponseHeadersPolicies()},
			unique: func(c *api.ResponseHeadersPolicyConfig) string { return strOr(c.Name, "") },
			exists: errf(api.NewResponseHeadersPolicyAlreadyExists), inUse: errf(api.NewResponseHeadersPolicyInUse),
			usedBy: distributionsUsing(behaviorRefs(func(b behavior) *string { return b.ResponseHeadersID })),
		},
		originAccessControls: configKind[api.OriginAccessControlConfig]{
			kind: kind[record[api.OriginAccessControlConfig]]{table: "cloudfront.origin-access-controls",
				notFound: notFoundf(api.NewNoSuchOriginAccessControl, "origin access control")},
			unique: func(c *api.OriginAccessControlConfig) string { return strOr(c.Name, "") },
			exists: errf(api.NewOriginAccessControlAlreadyExists), inUse: errf(api.NewOriginAccessControlInUse),
			usedBy: distributionsUsing(originAccessControlRefs),
		},
		originAccessIdentities: configKind[api.CloudFrontOriginAccessIdentityConfig]{
			kind: kind[record[api.CloudFrontOriginAccessIdentityConfig]]{table: "cloudfront.origin-access-identities",
				notFound: notFoundf(api.NewNoSuchCloudFrontOriginAccessIdentity, "origin access identity")},
			unique: func(c *api.CloudFrontOriginAccessIdentityConfig) string { return strOr(c.CallerReference, "") },
			exists: errf(api.NewCloudFrontOriginAccessIdentityAlreadyExists), inUse: errf(api.NewCloudFrontOriginAccessIdentityInUse),
			usedBy: distributionsUsing(originAccessIdentityRefs),
			change: func(old, new *api.CloudFrontOriginAccessIdentityConfig) error {
				if strOr(old.CallerReference, "") != strOr(new.CallerReference, "") {
					return api.NewIllegalUpdate("The CallerReference of an origin access identity cannot be changed.")
				}
				return nil
			},
		},
		publicKeys: configKind[api.PublicKeyConfig]{
			kind: kind[record[api.PublicKeyConfig]]{table: "cloudfront.public-keys",
				notFound: notFoundf(api.NewNoSuchPublicKey, "public key")},
			unique: func(c *api.PublicKeyConfig) string { return strOr(c.Name, "") },
			exists: errf(api.NewPublicKeyAlreadyExists), inUse: errf(api.NewPublicKeyInUse),
			usedBy: keyGroupsUsing, check: checkPublicKey, change: publicKeyChange,
		},
		keyGroups: configKind[api.KeyGroupConfig]{
			kind: kind[record[api.KeyGroupConfig]]{table: "cloudfront.key-groups",
				notFound: notFoundf(api.NewNoSuchResource, "key group")},
			unique: func(c *api.KeyGroupConfig) string { return strOr(c.Name, "") },
			exists: errf(api.NewKeyGroupAlreadyExists), inUse: errf(api.NewResourceInUse),
			usedBy: distributionsUsing(trustedKeyGroupIDs), check: checkKeyGroup,
		},
		functions: kind[function]{table: "cloudfront.functions",
			notFound: notFoundf(api.NewNoSuchFunctionExists, "function")},
	}
}

// function is a CloudFront Function: its DEVELOPMENT stage, and its LIVE
// stage once published.
type function struct {
	Name        string
	ARN         string
	Created     time.Time
	Development functionStage
	Live        *functionStage
}

type functionStage struct {
	Config   *api.FunctionConfig
	Code     []byte
	Modified time.Time
}
