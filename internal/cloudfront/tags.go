package cloudfront

import (
	"context"
	"errors"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/cloudfront"
	"overcast/internal/store"
)

// Tags are kept apart from the resources they tag, keyed
// "<account>/<ARN>", so that tagging does not change a resource's ETag.
const tagsTable = "cloudfront.tags"

func (s *Service) TagResource(ctx context.Context, in *api.TagResourceRequest) error {
	if err := validTags(in.Tags); err != nil {
		return err
	}
	return s.withTags(ctx, *in.Resource, func(tx store.Tx, account string, tags []api.Tag) ([]api.Tag, error) {
		for _, t := range in.Tags.Items {
			tags = slices.DeleteFunc(tags, func(old api.Tag) bool { return *old.Key == *t.Key })
			tags = append(tags, t)
		}
		return tags, nil
	})
}

func (s *Service) UntagResource(ctx context.Context, in *api.UntagResourceRequest) error {
	return s.withTags(ctx, *in.Resource, func(tx store.Tx, account string, tags []api.Tag) ([]api.Tag, error) {
		return slices.DeleteFunc(tags, func(t api.Tag) bool { return slices.Contains(in.TagKeys.Items, *t.Key) }), nil
	})
}

func (s *Service) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceRequest) (*api.ListTagsForResourceResult, error) {
	var out []api.Tag
	err := s.withTags(ctx, *in.Resource, func(tx store.Tx, account string, tags []api.Tag) ([]api.Tag, error) {
		out = tags
		return tags, nil
	})
	return &api.ListTagsForResourceResult{Tags: &api.Tags{Items: out}}, err
}

// withTags changes the tags of the resource arn names with change, after
// checking that the resource exists in the caller's account.
func (s *Service) withTags(ctx context.Context, arn string, change func(tx store.Tx, account string, tags []api.Tag) ([]api.Tag, error)) error {
	account := overcast.ScopeOf(ctx).Account
	return store.UpdateRetry(ctx, s.Store, 3, func(tx store.Tx) error {
		if err := s.taggable(tx, account, arn); err != nil {
			return err
		}
		var tags []api.Tag
		if _, err := store.GetJSON(tx, tagsTable, accountKey(account, arn), &tags); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		tags, err := change(tx, account, tags)
		if err != nil {
			return err
		}
		return s.putTags(tx, account, arn, tags)
	})
}

// taggable checks that arn names a taggable resource of account that
// exists: a distribution or a function.
func (s *Service) taggable(tx store.Tx, account, arn string) error {
	a, ok := overcast.ParseARN(arn)
	if !ok || a.Service != "cloudfront" || a.AccountID != account {
		return api.NewInvalidArgument("The specified resource ARN is not valid: %s", arn)
	}
	typ, id, _ := strings.Cut(a.Resource, "/")
	var err error
	switch typ {
	case "distribution":
		_, _, err = s.distributions.get(tx, account, id)
	case "function":
		_, _, err = s.functions.get(tx, account, id)
	default:
		return api.NewInvalidArgument("The specified resource ARN is not valid: %s", arn)
	}
	var noDist *api.NoSuchDistribution
	var noFunc *api.NoSuchFunctionExists
	if errors.As(err, &noDist) || errors.As(err, &noFunc) {
		return api.NewNoSuchResource("The specified resource does not exist: %s", arn)
	}
	return err
}

func (s *Service) putTags(tx store.Tx, account, arn string, tags []api.Tag) error {
	if len(tags) > 50 {
		return api.NewInvalidTagging("A resource can have at most 50 tags.")
	}
	_, err := store.PutJSON(tx, tagsTable, accountKey(account, arn), tags, store.AnyVersion)
	return err
}

func (s *Service) deleteTags(tx store.Tx, account, arn string) error {
	return store.DeleteKeys(tx, tagsTable, []string{accountKey(account, arn)})
}

// validTags checks what the model cannot: keys are unique and not
// reserved.
func validTags(tags *api.Tags) error {
	if tags == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, t := range tags.Items {
		if seen[*t.Key] || strings.HasPrefix(strings.ToLower(*t.Key), "aws:") {
			return api.NewInvalidTagging("The tag key is duplicated or reserved: %s", *t.Key)
		}
		seen[*t.Key] = true
	}
	return nil
}
