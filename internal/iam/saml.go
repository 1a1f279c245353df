package iam

import (
	"context"
	"time"

	"overcast"
	api "overcast/internal/api/iam"
	"overcast/internal/saml"
	"overcast/internal/service"
	"overcast/internal/store"
)

// SAML providers are named entities too (path "/"), named in requests by
// their ARN, arn:aws:iam::<acct>:saml-provider/<name>. The metadata document
// is kept as given; its signing certificates are what STS verifies
// AssumeRoleWithSAML's assertions with.

var samlProviders = entityKind[samlProviderRec, *samlProviderRec]{resource: "saml-provider", idPrefix: "ASPA",
	table:   entityTable{"iam.saml-providers", "iam.saml-providers.by-path"},
	missing: "SAMLProvider not found for arn %s", taken: "SAMLProvider %s already exists."}

type samlProviderRec struct {
	named
	UUID       string    `json:"uuid"`
	Metadata   string    `json:"metadata"`
	ValidUntil time.Time `json:"validUntil"`
	Tags       []tag     `json:"tags,omitempty"`
}

func (p *samlProviderRec) tagList() *[]tag { return &p.Tags }

// samlValidity is how long a provider is valid when its metadata does not
// say: AWS's default.
const samlValidity = 100 * 365 * 24 * time.Hour

// checkSAMLMetadata parses a metadata document as CreateSAMLProvider and
// UpdateSAMLProvider take it, returning until when the provider is valid.
func (s *Service) checkSAMLMetadata(doc string) (time.Time, error) {
	md, err := saml.ParseMetadata(doc)
	if err != nil {
		return time.Time{}, api.NewInvalidInputException("Could not parse metadata")
	}
	if md.ValidUntil.IsZero() {
		return s.clock().Add(samlValidity), nil
	}
	return md.ValidUntil.UTC().Truncate(time.Second), nil
}

func (s *Service) CreateSAMLProvider(ctx context.Context, in *api.CreateSAMLProviderRequest) (*api.CreateSAMLProviderResponse, error) {
	validUntil, err := s.checkSAMLMetadata(*in.SAMLMetadataDocument)
	if err != nil {
		return nil, err
	}
	if err := checkTagKeys(in.Tags); err != nil {
		return nil, err
	}
	p := samlProviderRec{named: samlProviders.newNamed(s, *in.Name, nil), UUID: s.IDs.UUID(),
		Metadata: *in.SAMLMetadataDocument, ValidUntil: validUntil, Tags: toTags(in.Tags)}
	if err := samlProviders.create(ctx, s, p, nil); err != nil {
		return nil, err
	}
	return &api.CreateSAMLProviderResponse{SAMLProviderArn: new(samlProviders.arn(accountOf(ctx), "/", p.Name)),
		Tags: apiTags(p.Tags)}, nil
}

func (s *Service) GetSAMLProvider(ctx context.Context, in *api.GetSAMLProviderRequest) (*api.GetSAMLProviderResponse, error) {
	p, err := readByARN(ctx, s, samlProviders, *in.SAMLProviderArn)
	if err != nil {
		return nil, err
	}
	return &api.GetSAMLProviderResponse{SAMLProviderUUID: new(p.UUID), SAMLMetadataDocument: new(p.Metadata),
		CreateDate: new(p.Created), ValidUntil: new(p.ValidUntil), Tags: apiTags(p.Tags)}, nil
}

func (s *Service) ListSAMLProviders(ctx context.Context, in *api.ListSAMLProvidersRequest) (*api.ListSAMLProvidersResponse, error) {
	acct := accountOf(ctx)
	var ps []samlProviderRec
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		ps, _, err = samlProviders.list(tx, acct, "/", unpaged)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.ListSAMLProvidersResponse{SAMLProviderList: service.Map(ps, func(p samlProviderRec) api.SAMLProviderListEntry {
		return api.SAMLProviderListEntry{Arn: new(samlProviders.arn(acct, "/", p.Name)), ValidUntil: new(p.ValidUntil),
			CreateDate: new(p.Created)}
	})}, nil
}

func (s *Service) UpdateSAMLProvider(ctx context.Context, in *api.UpdateSAMLProviderRequest) (*api.UpdateSAMLProviderResponse, error) {
	var validUntil time.Time
	if in.SAMLMetadataDocument != nil {
		var err error
		if validUntil, err = s.checkSAMLMetadata(*in.SAMLMetadataDocument); err != nil {
			return nil, err
		}
	}
	err := modifyByARN(ctx, s, samlProviders, *in.SAMLProviderArn, func(p *samlProviderRec) error {
		if in.SAMLMetadataDocument != nil {
			p.Metadata, p.ValidUntil = *in.SAMLMetadataDocument, validUntil
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateSAMLProviderResponse{SAMLProviderArn: in.SAMLProviderArn}, nil
}

func (s *Service) DeleteSAMLProvider(ctx context.Context, in *api.DeleteSAMLProviderRequest) error {
	return removeByARN(ctx, s, samlProviders, *in.SAMLProviderArn)
}

func (s *Service) TagSAMLProvider(ctx context.Context, in *api.TagSAMLProviderRequest) error {
	return tagByARN(ctx, s, samlProviders, *in.SAMLProviderArn, in.Tags)
}

func (s *Service) UntagSAMLProvider(ctx context.Context, in *api.UntagSAMLProviderRequest) error {
	return untagByARN(ctx, s, samlProviders, *in.SAMLProviderArn, in.TagKeys)
}

func (s *Service) ListSAMLProviderTags(ctx context.Context, in *api.ListSAMLProviderTagsRequest) (*api.ListSAMLProviderTagsResponse, error) {
	return listTagsByARN[api.ListSAMLProviderTagsResponse](ctx, s, samlProviders, *in.SAMLProviderArn, in.Marker, in.MaxItems)
}

// SAMLProvider is a SAML provider as STS needs it to verify an assertion.
type SAMLProvider struct {
	ARN, Name, Metadata string
	ValidUntil          time.Time
}

// SAMLProviderByARN returns the SAML provider an ARN names (in the ARN's
// account), or *api.NoSuchEntityException.
func (s *Service) SAMLProviderByARN(ctx context.Context, arn string) (SAMLProvider, error) {
	a, _ := overcast.ParseARN(arn)
	name, err := providerName(a.AccountID, samlProviders, arn)
	if err != nil {
		return SAMLProvider{}, err
	}
	var p samlProviderRec
	err = s.Store.View(ctx, func(tx store.Tx) (err error) {
		p, _, err = samlProviders.load(tx, a.AccountID, name)
		return err
	})
	if err != nil {
		return SAMLProvider{}, err
	}
	return SAMLProvider{ARN: arn, Name: p.Name, Metadata: p.Metadata, ValidUntil: p.ValidUntil}, nil
}
