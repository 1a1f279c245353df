package efs

import (
	"context"
	"strings"

	"overcast"
	api "overcast/internal/api/efs"
	"overcast/internal/service"
	"overcast/internal/store"
)

func getAccessPoint(tx store.Tx, sc scope, id string) (*accessPoint, int64, error) {
	var ap accessPoint
	version, err := getRecord(tx, accessPointKind, sc, id, &ap)
	return &ap, version, err
}

// cleanRootPath checks an access point's root directory: absolute, and
// without "." or ".." components, so that it stays inside its file system.
func cleanRootPath(path string) (string, bool) {
	if path == "" || path == "/" {
		return "/", true
	}
	if !strings.HasPrefix(path, "/") {
		return "", false
	}
	for part := range strings.SplitSeq(strings.TrimSuffix(path[1:], "/"), "/") {
		if part == "" || part == "." || part == ".." {
			return "", false
		}
	}
	return path, true
}

func (s *Service) CreateAccessPoint(ctx context.Context, in *api.CreateAccessPointRequest) (*api.AccessPointDescription, error) {
	sc := overcast.ScopeOf(ctx)
	if len(in.Tags) > maxTags {
		return nil, badRequest("Tags cannot exceed %d.", maxTags)
	}
	ap := &accessPoint{ID: s.IDs.Resource("fsap"), ClientToken: *in.ClientToken, FileSystemID: *in.FileSystemId,
		Tags: mergeTags(nil, in.Tags), Path: "/", State: stateCreating}
	ap.ARN = accessPointARN(sc, ap.ID)
	if u := in.PosixUser; u != nil {
		ap.PosixUser = &posixUser{UID: *u.Uid, GID: *u.Gid, SecondaryGIDs: u.SecondaryGids}
	}
	if root := in.RootDirectory; root != nil {
		path, ok := cleanRootPath(service.DerefOr(root.Path, "/"))
		if !ok {
			return nil, badRequest("Root directory path '%s' must be an absolute path without '.' or '..' components.", *root.Path)
		}
		ap.Path = path
		if c := root.CreationInfo; c != nil {
			ap.Creation = &creationInfo{OwnerUID: *c.OwnerUid, OwnerGID: *c.OwnerGid, Permissions: *c.Permissions}
		}
	}
	var out *api.AccessPointDescription
	err := s.update(ctx, func(tx store.Tx) ([]string, error) {
		fs, _, err := getFileSystem(tx, sc, ap.FileSystemID)
		if err != nil {
			return nil, err
		}
		if fs.State != stateAvailable {
			return nil, incorrectFileSystemState(fs)
		}
		count := 0
		err = store.ScanJSON(tx, accessPointsTable, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, o accessPoint, _ int64) error {
			if o.ClientToken == ap.ClientToken {
				return accessPointAlreadyExists(&o)
			}
			if o.FileSystemID == fs.ID {
				count++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if count >= maxAccessPointsPerFileSystem {
			return nil, accessPointLimitExceeded(fs.ID)
		}
		if _, err := store.PutJSON(tx, accessPointsTable, sc.Key(ap.ID), ap, 0); err != nil {
			return nil, err
		}
		out = describeAccessPoint(sc, ap)
		return []string{lifecycleKey(kindAccessPoint, sc, ap.ID)}, nil
	})
	return out, err
}

func describeAccessPoint(sc scope, ap *accessPoint) *api.AccessPointDescription {
	d := &api.AccessPointDescription{ClientToken: new(ap.ClientToken), Name: name(ap.Tags), Tags: apiTags(ap.Tags),
		AccessPointId: new(ap.ID), AccessPointArn: new(ap.ARN), FileSystemId: new(ap.FileSystemID),
		RootDirectory: &api.RootDirectory{Path: new(ap.Path)}, OwnerId: new(sc.Account), LifeCycleState: new(ap.State)}
	if u := ap.PosixUser; u != nil {
		d.PosixUser = &api.PosixUser{Uid: new(u.UID), Gid: new(u.GID), SecondaryGids: u.SecondaryGIDs}
	}
	if c := ap.Creation; c != nil {
		d.RootDirectory.CreationInfo = &api.CreationInfo{OwnerUid: new(c.OwnerUID), OwnerGid: new(c.OwnerGID),
			Permissions: new(c.Permissions)}
	}
	return d
}

func (s *Service) DescribeAccessPoints(ctx context.Context, in *api.DescribeAccessPointsRequest) (*api.DescribeAccessPointsResponse, error) {
	sc := overcast.ScopeOf(ctx)
	if in.AccessPointId != nil && in.FileSystemId != nil {
		return nil, badRequest("Must specify exactly one mutually exclusive parameter.")
	}
	out := &api.DescribeAccessPointsResponse{}
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		if in.AccessPointId == nil && in.FileSystemId != nil {
			if _, _, err := getFileSystem(tx, sc, *in.FileSystemId); err != nil {
				return err
			}
		}
		out.AccessPoints, out.NextToken, err = describeRecords(tx, sc, accessPointKind, in.AccessPointId, in.NextToken, in.MaxResults,
			func(ap *accessPoint) bool { return in.FileSystemId == nil || ap.FileSystemID == *in.FileSystemId },
			func(ap *accessPoint) (*api.AccessPointDescription, error) { return describeAccessPoint(sc, ap), nil })
		return err
	})
	return out, err
}

func (s *Service) DeleteAccessPoint(ctx context.Context, in *api.DeleteAccessPointRequest) error {
	return s.deleteRecord(ctx, accessPointKind, *in.AccessPointId, nil)
}

func accessPointARN(sc scope, id string) string {
	return sc.ARN("elasticfilesystem", "access-point/"+id)
}
