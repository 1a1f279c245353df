package codecommit

import (
	"context"
	"maps"

	"overcast"
	api "overcast/internal/api/codecommit"
	"overcast/internal/service"
)

// taggedRepository is the name of the repository a tagging request's ARN
// names, in the caller's account and region.
func taggedRepository(ctx context.Context, resourceARN *string) (string, error) {
	s := service.Deref(resourceARN)
	if s == "" {
		return "", withMessage(&api.ResourceArnRequiredException{}, "A valid Amazon Resource Name (ARN) for a CodeCommit resource is required but was not specified.")
	}
	sc := overcast.ScopeOf(ctx)
	arn, ok := overcast.ParseARN(s)
	if !ok || arn.Service != "codecommit" || arn.AccountID != sc.Account || arn.Region != sc.Region || !validRepositoryName(arn.Resource) {
		return "", withMessage(&api.InvalidResourceArnException{}, "The value for the resource ARN is not valid.")
	}
	return arn.Resource, nil
}

// TagResource adds or replaces tags of a repository.
func (s *Service) TagResource(ctx context.Context, in *api.TagResourceInput) error {
	return s.retag(ctx, in.ResourceArn, in.Tags != nil, withMessage(&api.TagsMapRequiredException{}, "A map of tags is required."), func(r *repository) error {
		tags := maps.Clone(r.Tags)
		if tags == nil {
			tags = map[string]string{}
		}
		maps.Copy(tags, in.Tags)
		if err := checkTags(tags); err != nil {
			return err
		}
		r.Tags = tags
		return nil
	})
}

// retag applies change to the repository resourceARN names; given says
// whether the request carries the tags to change, missing is its fault
// when it does not.
func (s *Service) retag(ctx context.Context, resourceARN *string, given bool, missing error, change func(r *repository) error) error {
	name, err := taggedRepository(ctx, resourceARN)
	if err != nil {
		return err
	}
	if !given {
		return missing
	}
	_, err = s.update(ctx, name, change)
	return err
}

// UntagResource removes tags from a repository.
func (s *Service) UntagResource(ctx context.Context, in *api.UntagResourceInput) error {
	missing := withMessage(&api.TagKeysListRequiredException{}, "A list of tag keys is required. The list cannot be empty or null.")
	return s.retag(ctx, in.ResourceArn, in.TagKeys != nil, missing, func(r *repository) error {
		for _, k := range in.TagKeys {
			delete(r.Tags, k)
		}
		return nil
	})
}

// ListTagsForResource returns a repository's tags.
func (s *Service) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceInput) (*api.ListTagsForResourceOutput, error) {
	name, err := taggedRepository(ctx, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	_, r, err := s.lookup(ctx, &name)
	if err != nil {
		return nil, err
	}
	tags := api.TagsMap{}
	maps.Copy(tags, r.Tags)
	return &api.ListTagsForResourceOutput{Tags: tags}, nil
}
