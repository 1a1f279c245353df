package efs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"overcast"
	"overcast/internal/store"
)

// ErrNotMountable is wrapped by MountSource's errors about the file system
// or access point itself (missing, not available, a path that does not
// resolve inside it), as opposed to overcast's own failures.
var ErrNotMountable = errors.New("efs: cannot mount")

// MountSource is the host directory a task mounts for an EFS volume: the
// file system's directory, or the root directory of the access point
// (created with its CreationInfo when missing, as EFS does on first
// mount), or rootDirectory inside the file system when no access point is
// named. ECS requires rootDirectory to be "/" or empty with an access
// point. The result is always inside the file system's directory: ".."
// and symbolic links that lead out of it are refused.
func (s *Service) MountSource(ctx context.Context, account, region, fileSystemID, accessPointID, rootDirectory string) (string, error) {
	sc := overcast.Scope{Account: account, Region: region}
	var fs *fileSystem
	var ap *accessPoint
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		if fs, _, err = getFileSystem(tx, sc, fileSystemID); err != nil {
			return err
		}
		if accessPointID != "" {
			ap, _, err = getAccessPoint(tx, sc, accessPointID)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNotMountable, err)
	}
	if fs.State != stateAvailable {
		return "", fmt.Errorf("%w: file system %s is %s, not available", ErrNotMountable, fs.ID, fs.State)
	}
	if ap != nil {
		switch {
		case ap.FileSystemID != fs.ID:
			return "", fmt.Errorf("%w: access point %s belongs to file system %s, not %s", ErrNotMountable, ap.ID, ap.FileSystemID, fs.ID)
		case ap.State != stateAvailable:
			return "", fmt.Errorf("%w: access point %s is %s, not available", ErrNotMountable, ap.ID, ap.State)
		case rootDirectory != "" && rootDirectory != "/":
			return "", fmt.Errorf("%w: the root directory must be / or empty with access point %s", ErrNotMountable, ap.ID)
		}
		path, err := s.accessPointRoot(sc, ap)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrNotMountable, err)
		}
		return path, nil
	}
	rel, ok := cleanRootPath("/" + strings.TrimPrefix(rootDirectory, "/"))
	if !ok {
		return "", fmt.Errorf("%w: root directory %q must not contain '.' or '..'", ErrNotMountable, rootDirectory)
	}
	path, err := resolveBeneath(s.fileSystemDir(sc, fs.ID), strings.Trim(rel, "/"))
	if err != nil {
		return "", fmt.Errorf("%w: root directory %q of %s: %w", ErrNotMountable, rootDirectory, fs.ID, err)
	}
	if info, err := os.Stat(path); err != nil || !info.IsDir() {
		return "", fmt.Errorf("%w: root directory %q of %s is not a directory", ErrNotMountable, rootDirectory, fs.ID)
	}
	return path, nil
}
