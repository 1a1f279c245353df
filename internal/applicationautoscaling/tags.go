package applicationautoscaling

import (
	"context"
	"maps"

	"overcast"
	api "overcast/internal/api/applicationautoscaling"
	"overcast/internal/store"
)

// maxTags is AWS's limit of tags on a scalable target.
const maxTags = 50

// updateTags changes the tags of the scalable target with the ARN.
func (s *Service) updateTags(ctx context.Context, arn string, change func(map[string]string)) error {
	sc := overcast.ScopeOf(ctx)
	return store.UpdateRetry(ctx, s.Store, 3, func(tx store.Tx) error {
		var found bool
		err := store.ScanJSON(tx, targetsTable, store.ScanOptions{Prefix: sc.Prefix()}, func(key string, t target, ver int64) error {
			if t.ARN != arn || found {
				return nil
			}
			found = true
			if t.Tags == nil {
				t.Tags = map[string]string{}
			}
			change(t.Tags)
			if len(t.Tags) > maxTags {
				return &api.TooManyTagsException{Message: new("The scalable target would have more than 50 tags."), ResourceName: new(arn)}
			}
			_, err := store.PutJSON(tx, targetsTable, key, t, ver)
			return err
		})
		if err == nil && !found {
			return notTagged(arn)
		}
		return err
	})
}

func notTagged(arn string) error {
	return &api.ResourceNotFoundException{Message: new("No scalable target found for ARN " + arn), ResourceName: new(arn)}
}

// TagResource adds or replaces tags of a scalable target.
func (s *Service) TagResource(ctx context.Context, in *api.TagResourceRequest) (*api.TagResourceResponse, error) {
	err := s.updateTags(ctx, *in.ResourceARN, func(tags map[string]string) { maps.Copy(tags, in.Tags) })
	if err != nil {
		return nil, err
	}
	return &api.TagResourceResponse{}, nil
}

// UntagResource removes tags of a scalable target.
func (s *Service) UntagResource(ctx context.Context, in *api.UntagResourceRequest) (*api.UntagResourceResponse, error) {
	err := s.updateTags(ctx, *in.ResourceARN, func(tags map[string]string) {
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
	})
	if err != nil {
		return nil, err
	}
	return &api.UntagResourceResponse{}, nil
}

// ListTagsForResource lists a scalable target's tags.
func (s *Service) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceRequest) (*api.ListTagsForResourceResponse, error) {
	sc := overcast.ScopeOf(ctx)
	var tags map[string]string
	found := false
	err := s.Store.View(ctx, func(tx store.Tx) error {
		targets, err := store.FilterJSON(tx, targetsTable, store.ScanOptions{Prefix: sc.Prefix()}, func(t target) bool { return t.ARN == *in.ResourceARN })
		if len(targets) > 0 {
			tags, found = targets[0].Tags, true
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notTagged(*in.ResourceARN)
	}
	out := api.TagMap{}
	maps.Copy(out, tags)
	return &api.ListTagsForResourceResponse{Tags: out}, nil
}
