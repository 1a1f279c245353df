package cloudfront

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"

	api "overcast/internal/api/cloudfront"
	"overcast/internal/cloudfront/edge"
	"overcast/internal/controller"
	"overcast/internal/store"
)

// behavior is what the default cache behaviour and the others have in
// common, for the checks and lookups that treat them alike.
type behavior struct {
	name                  string
	TargetOriginId        *string
	TrustedKeyGroups      *api.TrustedKeyGroups
	TrustedSigners        *api.TrustedSigners
	FunctionAssociations  *api.FunctionAssociations
	CachePolicyId         *string
	OriginRequestPolicyId *string
	ResponseHeadersID     *string
	ForwardedValues       *api.ForwardedValues
	MinTTL, DefaultTTL    *int64
	MaxTTL                *int64
}

func behaviors(cfg *api.DistributionConfig) []behavior {
	var out []behavior
	if b := cfg.DefaultCacheBehavior; b != nil {
		out = append(out, behavior{"DefaultCacheBehavior", b.TargetOriginId, b.TrustedKeyGroups, b.TrustedSigners, b.FunctionAssociations,
			b.CachePolicyId, b.OriginRequestPolicyId, b.ResponseHeadersPolicyId, b.ForwardedValues, b.MinTTL, b.DefaultTTL, b.MaxTTL})
	}
	if cfg.CacheBehaviors != nil {
		for _, b := range cfg.CacheBehaviors.Items {
			out = append(out, behavior{"CacheBehavior " + strOr(b.PathPattern, ""), b.TargetOriginId, b.TrustedKeyGroups, b.TrustedSigners, b.FunctionAssociations,
				b.CachePolicyId, b.OriginRequestPolicyId, b.ResponseHeadersPolicyId, b.ForwardedValues, b.MinTTL, b.DefaultTTL, b.MaxTTL})
		}
	}
	return out
}

// trustedKeyGroupIDs are the key groups any behaviour trusts, each once.
func trustedKeyGroupIDs(cfg *api.DistributionConfig) []string {
	var ids []string
	seen := map[string]bool{}
	for _, b := range behaviors(cfg) {
		if b.TrustedKeyGroups == nil || b.TrustedKeyGroups.Enabled == nil || !*b.TrustedKeyGroups.Enabled {
			continue
		}
		for _, id := range b.TrustedKeyGroups.Items {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// trustedSignerAccounts are the accounts any behaviour trusts as signers,
// each once, as the configuration names them ("self" or an account ID).
func trustedSignerAccounts(cfg *api.DistributionConfig) []string {
	var out []string
	for _, b := range behaviors(cfg) {
		if ts := b.TrustedSigners; ts != nil && ts.Enabled != nil && *ts.Enabled {
			for _, a := range ts.Items {
				if !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
		}
	}
	return out
}

// signerKeys are the key pairs of a trusted signer: the CloudFront public
// keys of the account it names ("self" is the distribution's). On AWS an
// account's key pairs are made by its root user in the console, which no
// API reaches; here the account's public keys (CreatePublicKey) stand for
// them, so trusted signers work as they do there.
func (s *Service) signerKeys(tx store.Tx, account, signer string) ([]edge.PublicKey, error) {
	if signer == "self" {
		signer = account
	}
	if !accountID.MatchString(signer) {
		return nil, api.NewTrustedSignerDoesNotExist("One or more of your trusted signers don't exist: %s.", signer)
	}
	recs, err := s.publicKeys.all(tx, signer, nil)
	keys := make([]edge.PublicKey, 0, len(recs))
	for _, r := range recs {
		keys = append(keys, edge.PublicKey{ID: r.Value.ID, PEM: strOr(r.Value.Config.EncodedKey, "")})
	}
	return keys, err
}

// accountID is what a trusted signer names besides "self".
var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// CloudFront's quotas on one distribution.
const (
	maxOrigins        = 25
	maxCacheBehaviors = 75
	maxTrustedSigners = 5
)

// pathPattern is what CloudFront accepts as a cache behaviour's path
// pattern.
var pathPattern = regexp.MustCompile(`^[A-Za-z0-9_\-.*$/~"'@:+&]{1,255}$`)

// resolve checks rec's configuration as CloudFront does when it is created
// or updated, and returns the distribution as the edge serves it, with
// every policy, origin access control, key group and function it names.
func (s *Service) resolve(tx store.Tx, account string, rec *distributionRecord) (*edge.Distribution, error) {
	cfg := rec.Config
	d := &edge.Distribution{
		ID: rec.ID, ARN: s.distributionARN(account, rec.ID), Account: account, DomainName: s.domainName(rec.ID), Config: cfg,
		CachePolicies:           map[string]*api.CachePolicyConfig{},
		OriginRequestPolicies:   map[string]*api.OriginRequestPolicyConfig{},
		ResponseHeadersPolicies: map[string]*api.ResponseHeadersPolicyConfig{},
		OriginAccessControls:    map[string]*api.OriginAccessControlConfig{},
		KeyGroups:               map[string][]edge.PublicKey{},
		Signers:                 map[string][]edge.PublicKey{},
		Functions:               map[string]edge.Function{},
	}
	targets, err := s.resolveOrigins(tx, account, cfg, d)
	if err != nil {
		return nil, err
	}
	if err := checkAliases(cfg); err != nil {
		return nil, err
	}
	if cfg.DefaultRootObject != nil && strings.HasPrefix(*cfg.DefaultRootObject, "/") {
		return nil, api.NewInvalidDefaultRootObject("The specified default root object is invalid.")
	}
	if cfg.CacheBehaviors != nil {
		if err := quantityMatches("CacheBehaviors", cfg.CacheBehaviors.Quantity, len(cfg.CacheBehaviors.Items)); err != nil {
			return nil, err
		}
		if len(cfg.CacheBehaviors.Items) > maxCacheBehaviors {
			return nil, api.NewTooManyCacheBehaviors("You cannot create more than %d cache behaviors for a distribution.", maxCacheBehaviors)
		}
		for _, b := range cfg.CacheBehaviors.Items {
			if !pathPattern.MatchString(strOr(b.PathPattern, "")) {
				return nil, api.NewInvalidArgument("The parameter PathPattern is invalid: %q.", strOr(b.PathPattern, ""))
			}
		}
	}
	if err := checkErrorResponses(cfg.CustomErrorResponses); err != nil {
		return nil, err
	}
	if err := checkRestrictions(cfg.Restrictions); err != nil {
		return nil, err
	}
	for _, b := range behaviors(cfg) {
		if err := s.resolveBehavior(tx, account, b, targets, d); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// validate checks a configuration being created or updated: what resolve
// checks, and that no other distribution, of any account, has one of its
// aliases.
func (s *Service) validate(tx store.Tx, account string, rec *distributionRecord) error {
	if _, err := s.resolve(tx, account, rec); err != nil {
		return err
	}
	aliases := map[string]bool{}
	if rec.Config.Aliases != nil {
		for _, a := range rec.Config.Aliases.Items {
			aliases[strings.ToLower(a)] = true
		}
	}
	if len(aliases) == 0 {
		return nil
	}
	return store.ScanJSON(tx, s.distributions.table, store.ScanOptions{}, func(_ string, d distributionRecord, _ int64) error {
		if d.ID == rec.ID || d.Config.Aliases == nil {
			return nil
		}
		for _, a := range d.Config.Aliases.Items {
			if aliases[strings.ToLower(a)] {
				return api.NewCNAMEAlreadyExists("One or more of the CNAMEs you provided are already associated with a different resource.")
			}
		}
		return nil
	})
}

// resolveOrigins checks the origins and origin groups and returns the IDs
// a behaviour may target.
func (s *Service) resolveOrigins(tx store.Tx, account string, cfg *api.DistributionConfig, d *edge.Distribution) (map[string]bool, error) {
	if cfg.Origins == nil || len(cfg.Origins.Items) == 0 {
		return nil, api.NewInvalidArgument("The parameter Origins must contain at least one origin.")
	}
	if err := quantityMatches("Origins", cfg.Origins.Quantity, len(cfg.Origins.Items)); err != nil {
		return nil, err
	}
	if len(cfg.Origins.Items) > maxOrigins {
		return nil, api.NewTooManyOrigins("You cannot create more than %d origins for a distribution.", maxOrigins)
	}
	targets := map[string]bool{}
	for _, o := range cfg.Origins.Items {
		id := strOr(o.Id, "")
		if targets[id] {
			return nil, api.NewInvalidArgument("The parameter Origin Id must be unique: %s.", id)
		}
		targets[id] = true
		if (o.S3OriginConfig == nil) == (o.CustomOriginConfig == nil) && o.VpcOriginConfig == nil {
			return nil, api.NewInvalidOrigin("Exactly one of CustomOriginConfig and S3OriginConfig must be specified")
		}
		if err := checkOrigin(o); err != nil {
			return nil, err
		}
		if oai := originAccessIdentityOf(o); oai != "" {
			if _, _, err := s.originAccessIdentities.get(tx, account, oai); err != nil {
				return nil, api.NewInvalidOriginAccessIdentity("The specified origin access identity does not exist or is not valid: %s", oai)
			}
		}
		if o.OriginAccessControlId != nil && *o.OriginAccessControlId != "" {
			oac, _, err := s.originAccessControls.get(tx, account, *o.OriginAccessControlId)
			if err != nil {
				return nil, err
			}
			if originAccessIdentityOf(o) != "" || (*oac.Config.OriginAccessControlOriginType == "s3" && o.S3OriginConfig == nil) {
				return nil, api.NewIllegalOriginAccessConfiguration("Origin %s: an origin access control of type %s cannot be used with an origin access identity or with a custom origin.",
					id, *oac.Config.OriginAccessControlOriginType)
			}
			d.OriginAccessControls[oac.ID] = oac.Config
		}
	}
	if cfg.OriginGroups == nil {
		return targets, nil
	}
	if err := quantityMatches("OriginGroups", cfg.OriginGroups.Quantity, len(cfg.OriginGroups.Items)); err != nil {
		return nil, err
	}
	for _, g := range cfg.OriginGroups.Items {
		for _, m := range g.Members.Items {
			if !targets[strOr(m.OriginId, "")] || targets[strOr(g.Id, "")] {
				return nil, api.NewInvalidArgument("The parameter Members has one or more origins for origin group %s that aren't valid. Origins that you specify for an origin group must be associated with the distribution.", strOr(g.Id, ""))
			}
		}
	}
	for _, g := range cfg.OriginGroups.Items {
		targets[strOr(g.Id, "")] = true
	}
	return targets, nil
}

func checkAliases(cfg *api.DistributionConfig) error {
	if cfg.Aliases == nil {
		return nil
	}
	if err := quantityMatches("Aliases", cfg.Aliases.Quantity, len(cfg.Aliases.Items)); err != nil {
		return err
	}
	vc := cfg.ViewerCertificate
	if len(cfg.Aliases.Items) > 0 && (vc == nil || (strOr(vc.ACMCertificateArn, "") == "" && strOr(vc.IAMCertificateId, "") == "")) {
		return api.NewInvalidViewerCertificate("To add an alternate domain name (CNAME) to a CloudFront distribution, you must attach a trusted certificate that validates your authorization to use the domain name.")
	}
	return nil
}

// resolveBehavior checks one cache behaviour and adds what it names to d.
func (s *Service) resolveBehavior(tx store.Tx, account string, b behavior, targets map[string]bool, d *edge.Distribution) error {
	if !targets[strOr(b.TargetOriginId, "")] {
		return api.NewNoSuchOrigin("One or more of your origins or origin groups do not exist.")
	}
	if strOr(b.CachePolicyId, "") == "" && b.ForwardedValues == nil {
		return api.NewInvalidArgument("The parameter ForwardedValues is required when a cache policy is not specified in %s.", b.name)
	}
	if b.ForwardedValues != nil && b.MinTTL == nil {
		return api.NewInvalidArgument("The parameter MinTTL is required.")
	}
	if ttl := orderTTL(b.MinTTL, b.DefaultTTL, b.MaxTTL); ttl != nil {
		return ttl
	}
	if err := resolveRef(tx, account, s.cachePolicies, b.CachePolicyId, d.CachePolicies); err != nil {
		return err
	}
	if err := resolveRef(tx, account, s.originRequestPolicies, b.OriginRequestPolicyId, d.OriginRequestPolicies); err != nil {
		return err
	}
	if err := resolveRef(tx, account, s.responseHeadersPolicies, b.ResponseHeadersID, d.ResponseHeadersPolicies); err != nil {
		return err
	}
	if kg := b.TrustedKeyGroups; kg != nil {
		if err := quantityMatches("TrustedKeyGroups", kg.Quantity, len(kg.Items)); err != nil {
			return err
		}
		for _, id := range kg.Items {
			keys, err := s.keyGroupKeys(tx, account, id)
			if err != nil {
				return err
			}
			d.KeyGroups[id] = keys
		}
	}
	if ts := b.TrustedSigners; ts != nil {
		if err := quantityMatches("TrustedSigners", ts.Quantity, len(ts.Items)); err != nil {
			return err
		}
		if len(ts.Items) > maxTrustedSigners {
			return api.NewTooManyTrustedSigners("Your request contains more trusted signers than are allowed per distribution.")
		}
		for _, signer := range ts.Items {
			keys, err := s.signerKeys(tx, account, signer)
			if err != nil {
				return err
			}
			d.Signers[signer] = keys
		}
	}
	if fa := b.FunctionAssociations; fa != nil {
		if err := quantityMatches("FunctionAssociations", fa.Quantity, len(fa.Items)); err != nil {
			return err
		}
		for _, a := range fa.Items {
			f, err := s.liveFunction(tx, account, strOr(a.FunctionARN, ""))
			if err != nil {
				return err
			}
			d.Functions[f.ARN] = f
		}
	}
	return nil
}

// orderTTL checks MinTTL ≤ DefaultTTL ≤ MaxTTL, for the ones given.
func orderTTL(min, def, max *int64) error {
	v := func(p *int64, otherwise int64) int64 {
		if p == nil {
			return otherwise
		}
		return *p
	}
	lo, mid, hi := v(min, 0), v(def, v(min, 0)), v(max, 1<<62)
	if lo > mid || mid > hi || lo > hi {
		return api.NewInvalidTTLOrder("MinTTL, MaxTTL and DefaultTTL should follow order MinTTL less than or equal to DefaultTTL less than or equal to MaxTTL")
	}
	return nil
}

// resolveRef adds the configuration of the resource id names (if any) to
// into; an unknown one is the kind's NoSuch<Kind>.
func resolveRef[C any](tx store.Tx, account string, k configKind[C], id *string, into map[string]*C) error {
	if id == nil || *id == "" {
		return nil
	}
	r, _, err := k.get(tx, account, *id)
	if err != nil {
		return err
	}
	into[*id] = r.Config
	return nil
}

// deploymentKeys are every distribution and every deployment: at start
// the edge serves nothing, so each is deployed (or removed) again.
func (s *Service) deploymentKeys(ctx context.Context) ([]string, error) {
	var keys []string
	err := s.Store.View(ctx, func(tx store.Tx) error {
		seen := map[string]bool{}
		for _, table := range []string{s.distributions.table, deploymentsTable} {
			ks, err := store.Keys(tx, table, store.ScanOptions{})
			if err != nil {
				return err
			}
			for _, k := range ks {
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
		}
		return nil
	})
	return keys, err
}

// reconcileDeployment makes the edge serve the current configuration of
// the distribution key ("<account>/<id>") names, or nothing once it is
// deleted, and records the version it serves.
func (s *Service) reconcileDeployment(ctx context.Context, key string) (controller.Result, error) {
	account, id, _ := strings.Cut(key, "/")
	var (
		rec     *distributionRecord
		version int64
		d       *edge.Distribution
	)
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		rec, version, err = s.distributions.get(tx, account, id)
		if err != nil {
			return err
		}
		d, err = s.resolve(tx, account, rec)
		return err
	})
	var missing *api.NoSuchDistribution
	switch {
	case errors.As(err, &missing):
		if err := s.opts.Edge.Remove(ctx, id); err != nil {
			return controller.Result{}, err
		}
		return controller.Result{}, s.Store.Update(ctx, func(tx store.Tx) error {
			return store.DeleteKeys(tx, deploymentsTable, []string{key})
		})
	case err != nil:
		return controller.Result{}, err
	}
	// A disabled distribution is deployed too: the edge answers it as
	// CloudFront answers a disabled one.
	if err := s.opts.Edge.Deploy(ctx, d); err != nil {
		return controller.Result{}, err
	}
	return controller.Result{}, s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := store.PutJSON(tx, deploymentsTable, key, deployment{Version: version}, store.AnyVersion)
		return err
	})
}
