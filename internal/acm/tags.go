package acm

import (
	"context"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/acm"
)

// addTags adds or replaces tags, held to ACM's limits.
func addTags(tags []tag, add api.TagList) ([]tag, error) {
	out := slices.Clone(tags)
	for _, t := range add {
		if strings.HasPrefix(strings.ToLower(*t.Key), "aws:") {
			return nil, api.NewInvalidTagException("Tag key %s uses the reserved prefix aws:.", *t.Key)
		}
		nt := tag{Key: *t.Key, Value: t.Value}
		if i := slices.IndexFunc(out, func(x tag) bool { return x.Key == nt.Key }); i >= 0 {
			out[i] = nt
		} else {
			out = append(out, nt)
		}
	}
	if len(out) > maxTags {
		return nil, api.NewTooManyTagsException("the TagSet contains too many Tags: %d, more than %d.", len(out), maxTags)
	}
	return out, nil
}

// removeTags removes each tag named by key, and by value too when the
// request gives one.
func removeTags(tags []tag, remove api.TagList) ([]tag, error) {
	out := slices.Clone(tags)
	for _, t := range remove {
		if strings.HasPrefix(strings.ToLower(*t.Key), "aws:") {
			return nil, api.NewInvalidTagException("Tag key %s uses the reserved prefix aws:.", *t.Key)
		}
		out = slices.DeleteFunc(out, func(x tag) bool {
			return x.Key == *t.Key && (t.Value == nil || (x.Value != nil && *x.Value == *t.Value))
		})
	}
	return out, nil
}

// AddTagsToCertificate adds tags to a certificate.
func (s *Service) AddTagsToCertificate(ctx context.Context, in *api.AddTagsToCertificateRequest) error {
	return s.update(ctx, overcast.ScopeOf(ctx), *in.CertificateArn, func(c *certificate) (err error) {
		c.Tags, err = addTags(c.Tags, in.Tags)
		return err
	})
}

// RemoveTagsFromCertificate removes tags from a certificate.
func (s *Service) RemoveTagsFromCertificate(ctx context.Context, in *api.RemoveTagsFromCertificateRequest) error {
	return s.update(ctx, overcast.ScopeOf(ctx), *in.CertificateArn, func(c *certificate) (err error) {
		c.Tags, err = removeTags(c.Tags, in.Tags)
		return err
	})
}

// ListTagsForCertificate lists a certificate's tags.
func (s *Service) ListTagsForCertificate(ctx context.Context, in *api.ListTagsForCertificateRequest) (*api.ListTagsForCertificateResponse, error) {
	c, err := s.view(ctx, overcast.ScopeOf(ctx), *in.CertificateArn)
	if err != nil {
		return nil, err
	}
	out := &api.ListTagsForCertificateResponse{Tags: api.TagList{}}
	for _, t := range c.Tags {
		out.Tags = append(out.Tags, api.Tag{Key: new(t.Key), Value: t.Value})
	}
	return out, nil
}

// UpdateCertificateOptions changes whether a certificate is logged for
// certificate transparency. Whether it may be exported is settled when it
// is requested.
func (s *Service) UpdateCertificateOptions(ctx context.Context, in *api.UpdateCertificateOptionsRequest) error {
	return s.update(ctx, overcast.ScopeOf(ctx), *in.CertificateArn, func(c *certificate) error {
		if c.Type == api.CertificateTypeIMPORTED {
			return api.NewInvalidStateException("Certificate %s is an imported certificate: its options can't be updated.", c.ARN)
		}
		if e := in.Options.Export; e != nil && *e != c.Export {
			return api.NewInvalidParameterException("The Export option of certificate %s can't be changed after it is requested.", c.ARN)
		}
		c.CTLogging = cmpOr(in.Options.CertificateTransparencyLoggingPreference, c.CTLogging)
		return nil
	})
}
