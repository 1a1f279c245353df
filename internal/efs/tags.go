package efs

import (
	"context"
	"strings"

	"overcast"
	api "overcast/internal/api/efs"
	"overcast/internal/store"
)

// tagged reads or changes the tags of a file system (fs-...) or an access
// point (fsap-...); change nil only reads them.
func (s *Service) tagged(ctx context.Context, resourceID string, change func([]tag) ([]tag, error)) ([]tag, error) {
	sc := overcast.ScopeOf(ctx)
	var tags []tag
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var (
			version int64
			err     error
			rec     any
			table   string
			field   *[]tag
		)
		if strings.HasPrefix(resourceID, "fsap-") {
			var ap *accessPoint
			ap, version, err = getAccessPoint(tx, sc, resourceID)
			rec, table, field = ap, accessPointsTable, &ap.Tags
		} else {
			var fs *fileSystem
			fs, version, err = getFileSystem(tx, sc, resourceID)
			rec, table, field = fs, fileSystemsTable, &fs.Tags
		}
		if err != nil || change == nil {
			tags = *field
			return err
		}
		if *field, err = change(*field); err != nil {
			return err
		}
		tags = *field
		_, err = store.PutJSON(tx, table, sc.Key(resourceID), rec, version)
		return err
	})
	return tags, err
}

func addTags(add api.Tags) func([]tag) ([]tag, error) {
	return func(tags []tag) ([]tag, error) {
		tags = mergeTags(tags, add)
		if len(tags) > maxTags {
			return nil, badRequest("Tags cannot exceed %d.", maxTags)
		}
		return tags, nil
	}
}

func dropTags(keys []string) func([]tag) ([]tag, error) {
	return func(tags []tag) ([]tag, error) { return removeTags(tags, keys), nil }
}

func (s *Service) TagResource(ctx context.Context, in *api.TagResourceRequest) error {
	_, err := s.tagged(ctx, *in.ResourceId, addTags(in.Tags))
	return err
}

func (s *Service) UntagResource(ctx context.Context, in *api.UntagResourceRequest) error {
	_, err := s.tagged(ctx, *in.ResourceId, dropTags(in.TagKeys))
	return err
}

func (s *Service) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceRequest) (*api.ListTagsForResourceResponse, error) {
	tags, err := s.tagged(ctx, *in.ResourceId, nil)
	if err != nil {
		return nil, err
	}
	return &api.ListTagsForResourceResponse{Tags: apiTags(tags)}, nil
}

// CreateTags, DeleteTags and DescribeTags are the file-system-only tag
// operations EFS had before TagResource, UntagResource and
// ListTagsForResource, which serve them.
func (s *Service) CreateTags(ctx context.Context, in *api.CreateTagsRequest) error {
	return s.TagResource(ctx, &api.TagResourceRequest{ResourceId: in.FileSystemId, Tags: in.Tags})
}

func (s *Service) DeleteTags(ctx context.Context, in *api.DeleteTagsRequest) error {
	return s.UntagResource(ctx, &api.UntagResourceRequest{ResourceId: in.FileSystemId, TagKeys: in.TagKeys})
}

func (s *Service) DescribeTags(ctx context.Context, in *api.DescribeTagsRequest) (*api.DescribeTagsResponse, error) {
	out, err := s.ListTagsForResource(ctx, &api.ListTagsForResourceRequest{ResourceId: in.FileSystemId})
	if err != nil {
		return nil, err
	}
	return &api.DescribeTagsResponse{Tags: out.Tags}, nil
}
