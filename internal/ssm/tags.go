package ssm

import (
	"context"
	"slices"

	"overcast"
	api "overcast/internal/api/ssm"
	"overcast/internal/service"
	"overcast/internal/store"
)

// taggedParameter resolves a tagging request's resource: only parameters
// are taggable here, named by name or ARN.
func (s *Service) taggedParameter(tx store.Tx, sc scope, resourceType, resourceID string) (parameter, int64, error) {
	if resourceType != api.ResourceTypeForTaggingParameter {
		return parameter{}, 0, &api.InvalidResourceType{}
	}
	r, ok := localRef(sc, resourceID)
	if ok && r.selector == "" {
		for _, name := range r.names {
			p, ver, err := getParameter(tx, sc, name)
			if err == nil || !isNotFound(err) {
				return p, ver, err
			}
		}
	}
	return parameter{}, 0, &api.InvalidResourceId{}
}

// retag writes the tags that change makes of the tags of the parameter a
// tagging request names.
func (s *Service) retag(ctx context.Context, resourceType, resourceID string, change func(tags []tag) ([]tag, error)) error {
	sc := overcast.ScopeOf(ctx)
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		p, ver, err := s.taggedParameter(tx, sc, resourceType, resourceID)
		if err != nil {
			return err
		}
		if p.Tags, err = change(p.Tags); err != nil {
			return err
		}
		_, err = store.PutJSON(tx, parametersTable, sc.Key(p.Name), p, ver)
		return err
	})
}

// AddTagsToResource adds or overwrites a parameter's tags.
func (s *Service) AddTagsToResource(ctx context.Context, in *api.AddTagsToResourceRequest) (*api.AddTagsToResourceResult, error) {
	err := s.retag(ctx, *in.ResourceType, *in.ResourceId, func(tags []tag) ([]tag, error) {
		for _, t := range in.Tags {
			tags = service.SetTag(tags, *t.Key, *t.Value)
		}
		if len(tags) > maxTags {
			return nil, &api.TooManyTagsError{}
		}
		return tags, nil
	})
	if err != nil {
		return nil, err
	}
	return &api.AddTagsToResourceResult{}, nil
}

// RemoveTagsFromResource removes tags by key; absent keys are ignored.
func (s *Service) RemoveTagsFromResource(ctx context.Context, in *api.RemoveTagsFromResourceRequest) (*api.RemoveTagsFromResourceResult, error) {
	err := s.retag(ctx, *in.ResourceType, *in.ResourceId, func(tags []tag) ([]tag, error) {
		return slices.DeleteFunc(slices.Clone(tags), func(t tag) bool { return slices.Contains(in.TagKeys, t.Key) }), nil
	})
	if err != nil {
		return nil, err
	}
	return &api.RemoveTagsFromResourceResult{}, nil
}

// ListTagsForResource lists a parameter's tags.
func (s *Service) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceRequest) (*api.ListTagsForResourceResult, error) {
	sc := overcast.ScopeOf(ctx)
	var p parameter
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		p, _, err = s.taggedParameter(tx, sc, *in.ResourceType, *in.ResourceId)
		return err
	})
	if err != nil {
		return nil, err
	}
	tags := service.Map(p.Tags, func(t tag) api.Tag { return api.Tag{Key: new(t.Key), Value: new(t.Value)} })
	return &api.ListTagsForResourceResult{TagList: tags}, nil
}
