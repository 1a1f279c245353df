package iam

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/iam"
	"overcast/internal/service"
	"overcast/internal/store"
)

// OpenID Connect providers are IAM entities named by their issuer URL
// without its scheme (token.actions.githubusercontent.com,
// oidc.example.com/tenant): the name is the tail of the provider's ARN,
// arn:aws:iam::<acct>:oidc-provider/<name>, and requests name providers by
// that ARN. They are kept like the other entities, with path "/".

const (
	maxOIDCClientIDs   = 100
	maxOIDCThumbprints = 5
)

var oidcProviders = entityKind[oidcProviderRec, *oidcProviderRec]{resource: "oidc-provider", idPrefix: "AOPA",
	table:   entityTable{"iam.oidc-providers", "iam.oidc-providers.by-path"},
	missing: "OpenIDConnect Provider not found for arn %s", taken: "Provider with url https://%s already exists."}

type oidcProviderRec struct {
	named
	ClientIDs   []string `json:"clientIds,omitempty"`
	Thumbprints []string `json:"thumbprints,omitempty"`
	Tags        []tag    `json:"tags,omitempty"`
}

func (p *oidcProviderRec) tagList() *[]tag { return &p.Tags }

// oidcProviderName is a provider's name for its issuer URL: host and path,
// without the scheme or a trailing slash. AWS takes only https issuers.
func oidcProviderName(issuer string) (string, bool) {
	u, err := url.Parse(issuer)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", false
	}
	return strings.ToLower(u.Host) + strings.TrimSuffix(u.EscapedPath(), "/"), true
}

// providerName is the name in a provider ARN of account, or NoSuchEntity
// naming the ARN.
func providerName[T any, P record[T]](account string, k entityKind[T, P], arn string) (string, error) {
	a, ok := overcast.ParseARN(arn)
	name, named := strings.CutPrefix(a.Resource, k.resource+"/")
	if !ok || a.Service != "iam" || a.AccountID != account || !named || name == "" {
		return "", api.NewNoSuchEntityException(k.missing, arn)
	}
	return name, nil
}

// byARN runs op on the provider an ARN names, answering NoSuchEntity with
// the ARN, as AWS words it, rather than the provider's name.
func byARN[T any, P record[T]](ctx context.Context, k entityKind[T, P], arn string, op func(name string) error) error {
	name, err := providerName(accountOf(ctx), k, arn)
	if err != nil {
		return err
	}
	err = op(name)
	if _, missing := errors.AsType[*api.NoSuchEntityException](err); missing {
		return api.NewNoSuchEntityException(k.missing, arn)
	}
	return err
}

// modifyByARN changes the provider an ARN names.
func modifyByARN[T any, P record[T]](ctx context.Context, s *Service, k entityKind[T, P], arn string, change func(P) error) error {
	return byARN(ctx, k, arn, func(name string) error {
		return k.modify(ctx, s, name, func(_ store.Tx, v P) error { return change(v) })
	})
}

// readByARN reads the provider an ARN names.
func readByARN[T any, P record[T]](ctx context.Context, s *Service, k entityKind[T, P], arn string) (v T, err error) {
	err = byARN(ctx, k, arn, func(name string) (err error) {
		v, err = k.read(ctx, s, name)
		return err
	})
	return v, err
}

// removeByARN deletes the provider an ARN names.
func removeByARN[T any, P record[T]](ctx context.Context, s *Service, k entityKind[T, P], arn string) error {
	return byARN(ctx, k, arn, func(name string) error {
		return k.remove(ctx, s, name, func(store.Tx, T) error { return nil })
	})
}

func tagByARN[T any, P taggedRecord[T]](ctx context.Context, s *Service, k entityKind[T, P], arn string, add api.TagListType) error {
	return byARN(ctx, k, arn, func(name string) error { return tagEntity(ctx, s, k, name, add) })
}

func untagByARN[T any, P taggedRecord[T]](ctx context.Context, s *Service, k entityKind[T, P], arn string, keys []string) error {
	return byARN(ctx, k, arn, func(name string) error { return untagEntity(ctx, s, k, name, keys) })
}

func listTagsByARN[R tagsResponse, T any, P taggedRecord[T]](ctx context.Context, s *Service, k entityKind[T, P], arn string,
	marker *string, maxItems *int32) (*R, error) {
	v, err := readByARN(ctx, s, k, arn)
	if err != nil {
		return nil, err
	}
	return tagsPage[R](*P(&v).tagList(), marker, maxItems)
}

func checkThumbprints(ts []string) error {
	if len(ts) > maxOIDCThumbprints {
		return api.NewInvalidInputException("Thumbprint list must contain fewer than %d entries.", maxOIDCThumbprints)
	}
	for _, t := range ts {
		if !isHex(t) {
			return api.NewInvalidInputException("Thumbprint %s is not a hexadecimal SHA-1 fingerprint.", t)
		}
	}
	return nil
}

func isHex(s string) bool {
	return strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}

func checkClientIDs(ids []string) error {
	if len(ids) > maxOIDCClientIDs {
		return quotaExceeded("ClientIdsPerOpenIdConnectProvider", maxOIDCClientIDs)
	}
	return nil
}

// uniqueStrings drops repeated values, keeping the first of each.
func uniqueStrings(values []string) []string {
	var out []string
	for _, v := range values {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (s *Service) CreateOpenIDConnectProvider(ctx context.Context, in *api.CreateOpenIDConnectProviderRequest) (*api.CreateOpenIDConnectProviderResponse, error) {
	name, ok := oidcProviderName(*in.Url)
	if !ok {
		return nil, validationError("Invalid Open ID Connect Provider URL")
	}
	clientIDs, thumbprints := uniqueStrings(in.ClientIDList), uniqueStrings(in.ThumbprintList)
	if err := checkThumbprints(thumbprints); err != nil {
		return nil, err
	}
	if err := checkClientIDs(clientIDs); err != nil {
		return nil, err
	}
	if err := checkTagKeys(in.Tags); err != nil {
		return nil, err
	}
	p := oidcProviderRec{named: oidcProviders.newNamed(s, name, nil), ClientIDs: clientIDs, Thumbprints: thumbprints,
		Tags: toTags(in.Tags)}
	if err := oidcProviders.create(ctx, s, p, nil); err != nil {
		return nil, err
	}
	return &api.CreateOpenIDConnectProviderResponse{
		OpenIDConnectProviderArn: new(oidcProviders.arn(accountOf(ctx), "/", name)), Tags: apiTags(p.Tags)}, nil
}

func (s *Service) GetOpenIDConnectProvider(ctx context.Context, in *api.GetOpenIDConnectProviderRequest) (*api.GetOpenIDConnectProviderResponse, error) {
	p, err := readByARN(ctx, s, oidcProviders, *in.OpenIDConnectProviderArn)
	if err != nil {
		return nil, err
	}
	return &api.GetOpenIDConnectProviderResponse{Url: new(p.Name), ClientIDList: p.ClientIDs,
		ThumbprintList: p.Thumbprints, CreateDate: new(p.Created), Tags: apiTags(p.Tags)}, nil
}

func (s *Service) ListOpenIDConnectProviders(ctx context.Context, in *api.ListOpenIDConnectProvidersRequest) (*api.ListOpenIDConnectProvidersResponse, error) {
	acct := accountOf(ctx)
	var ps []oidcProviderRec
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		ps, _, err = oidcProviders.list(tx, acct, "/", unpaged)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.ListOpenIDConnectProvidersResponse{OpenIDConnectProviderList: service.Map(ps,
		func(p oidcProviderRec) api.OpenIDConnectProviderListEntry {
			return api.OpenIDConnectProviderListEntry{Arn: new(oidcProviders.arn(acct, "/", p.Name))}
		})}, nil
}

// DeleteOpenIDConnectProvider is idempotent, as its reference says: a
// provider already gone is no error.
func (s *Service) DeleteOpenIDConnectProvider(ctx context.Context, in *api.DeleteOpenIDConnectProviderRequest) error {
	err := removeByARN(ctx, s, oidcProviders, *in.OpenIDConnectProviderArn)
	if _, missing := errors.AsType[*api.NoSuchEntityException](err); missing {
		return nil
	}
	return err
}

func (s *Service) AddClientIDToOpenIDConnectProvider(ctx context.Context, in *api.AddClientIDToOpenIDConnectProviderRequest) error {
	return modifyByARN(ctx, s, oidcProviders, *in.OpenIDConnectProviderArn, func(p *oidcProviderRec) error {
		ids := uniqueStrings(append(slices.Clone(p.ClientIDs), *in.ClientID))
		if err := checkClientIDs(ids); err != nil {
			return err
		}
		p.ClientIDs = ids
		return nil
	})
}

func (s *Service) RemoveClientIDFromOpenIDConnectProvider(ctx context.Context, in *api.RemoveClientIDFromOpenIDConnectProviderRequest) error {
	return modifyByARN(ctx, s, oidcProviders, *in.OpenIDConnectProviderArn, func(p *oidcProviderRec) error {
		p.ClientIDs = slices.DeleteFunc(slices.Clone(p.ClientIDs), func(id string) bool { return id == *in.ClientID })
		return nil
	})
}

func (s *Service) UpdateOpenIDConnectProviderThumbprint(ctx context.Context, in *api.UpdateOpenIDConnectProviderThumbprintRequest) error {
	thumbprints := uniqueStrings(in.ThumbprintList)
	if err := checkThumbprints(thumbprints); err != nil {
		return err
	}
	return modifyByARN(ctx, s, oidcProviders, *in.OpenIDConnectProviderArn, func(p *oidcProviderRec) error {
		p.Thumbprints = thumbprints
		return nil
	})
}

func (s *Service) TagOpenIDConnectProvider(ctx context.Context, in *api.TagOpenIDConnectProviderRequest) error {
	return tagByARN(ctx, s, oidcProviders, *in.OpenIDConnectProviderArn, in.Tags)
}

func (s *Service) UntagOpenIDConnectProvider(ctx context.Context, in *api.UntagOpenIDConnectProviderRequest) error {
	return untagByARN(ctx, s, oidcProviders, *in.OpenIDConnectProviderArn, in.TagKeys)
}

func (s *Service) ListOpenIDConnectProviderTags(ctx context.Context, in *api.ListOpenIDConnectProviderTagsRequest) (*api.ListOpenIDConnectProviderTagsResponse, error) {
	return listTagsByARN[api.ListOpenIDConnectProviderTagsResponse](ctx, s, oidcProviders, *in.OpenIDConnectProviderArn, in.Marker, in.MaxItems)
}

// OIDCProvider is an OpenID Connect provider as STS needs it to verify a
// web identity token.
type OIDCProvider struct {
	ARN string
	// Name is the issuer URL without https://, the prefix of the
	// provider's condition keys (token.actions.githubusercontent.com:sub).
	Name        string
	ClientIDs   []string
	Thumbprints []string
	Tags        map[string]string
}

// OIDCProviderFor returns account's provider for an issuer URL (a token's
// iss claim), or *api.NoSuchEntityException.
func (s *Service) OIDCProviderFor(ctx context.Context, account, issuer string) (OIDCProvider, error) {
	name, ok := oidcProviderName(issuer)
	if !ok {
		return OIDCProvider{}, oidcProviders.notFound(issuer)
	}
	var p oidcProviderRec
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		p, _, err = oidcProviders.load(tx, account, name)
		return err
	})
	if err != nil {
		return OIDCProvider{}, err
	}
	tags := map[string]string{}
	for _, t := range p.Tags {
		tags[t.Key] = t.Value
	}
	return OIDCProvider{ARN: oidcProviders.arn(account, "/", p.Name), Name: p.Name,
		ClientIDs: p.ClientIDs, Thumbprints: p.Thumbprints, Tags: tags}, nil
}
