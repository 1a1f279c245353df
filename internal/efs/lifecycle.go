package efs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"overcast"
	api "overcast/internal/api/efs"
	"overcast/internal/controller"
	"overcast/internal/store"
)

// The lifecycle controller's keys are "<kind>|<account>/<region>/<id>".
const (
	kindFileSystem  = "filesystem"
	kindMountTarget = "mounttarget"
	kindAccessPoint = "accesspoint"
)

// recordKind is a kind of record with a lifecycle: the table its records
// live in, its name in the lifecycle controller's keys, and the error EFS
// answers for an ID it does not know.
type recordKind struct {
	table, name string
	notFound    func(id string) error
}

var (
	fileSystemKind = recordKind{fileSystemsTable, kindFileSystem, func(id string) error {
		return coded(api.NewFileSystemNotFound("File system '%s' does not exist.", id))
	}}
	mountTargetKind = recordKind{mountTargetsTable, kindMountTarget, func(id string) error {
		return coded(api.NewMountTargetNotFound("Mount target '%s' does not exist.", id))
	}}
	accessPointKind = recordKind{accessPointsTable, kindAccessPoint, func(id string) error {
		return coded(api.NewAccessPointNotFound("Access point '%s' does not exist.", id))
	}}
)

func lifecycleKey(kind string, sc scope, id string) string { return kind + "|" + sc.Key(id) }

func parseLifecycleKey(key string) (kind string, sc scope, id string, ok bool) {
	kind, scoped, ok := strings.Cut(key, "|")
	parts := strings.SplitN(scoped, "/", 3)
	if !ok || len(parts) != 3 {
		return "", scope{}, "", false
	}
	return kind, scope{Account: parts[0], Region: parts[1]}, parts[2], true
}

// deleteRecord marks a file system, mount target or access point deleting,
// after check (when not nil) allowed it, for the lifecycle controller to
// finish. Deleting one already deleting succeeds, as in EFS.
func (s *Service) deleteRecord(ctx context.Context, kind recordKind, id string, check func(store.Tx, scope) error) error {
	sc := overcast.ScopeOf(ctx)
	return s.update(ctx, func(tx store.Tx) ([]string, error) {
		var rec map[string]any
		version, err := getRecord(tx, kind, sc, id, &rec)
		if err != nil || rec["state"] == stateDeleting {
			return nil, err
		}
		if check != nil {
			if err := check(tx, sc); err != nil {
				return nil, err
			}
		}
		rec["state"] = stateDeleting
		if _, err := store.PutJSON(tx, kind.table, sc.Key(id), rec, version); err != nil {
			return nil, err
		}
		return []string{lifecycleKey(kind.name, sc, id)}, nil
	})
}

// stateOnly reads the state of any of the service's records.
type stateOnly struct {
	State string `json:"state"`
}

// pending lists every record in a transitional state: the controller's
// keys, so that a restart finishes what a crash interrupted.
func (s *Service) pending(ctx context.Context) ([]string, error) {
	var keys []string
	collect := func(kind string) func(string, stateOnly, int64) error {
		return func(key string, rec stateOnly, _ int64) error {
			if rec.State == stateCreating || rec.State == stateDeleting {
				keys = append(keys, kind+"|"+key)
			}
			return nil
		}
	}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		for _, kind := range []recordKind{fileSystemKind, mountTargetKind, accessPointKind} {
			if err := store.ScanJSON(tx, kind.table, store.ScanOptions{}, collect(kind.name)); err != nil {
				return err
			}
		}
		return nil
	})
	return keys, err
}

// reconcile moves one record out of its transitional state: a file system
// gets its directory before it is available and loses it (and its access
// points) when deleted; an access point's root directory is made with its
// CreationInfo before it is available.
func (s *Service) reconcile(ctx context.Context, key string) (controller.Result, error) {
	kind, sc, id, ok := parseLifecycleKey(key)
	if !ok {
		return controller.Result{}, nil // not a key this service wrote
	}
	var err error
	switch kind {
	case kindFileSystem:
		err = s.reconcileFileSystem(ctx, sc, id)
	case kindMountTarget:
		err = s.reconcileRecord(ctx, mountTargetsTable, sc, id, nil)
	case kindAccessPoint:
		err = s.reconcileRecord(ctx, accessPointsTable, sc, id, func(tx store.Tx, state string) error {
			if state != stateCreating {
				return nil
			}
			ap, _, err := getAccessPoint(tx, sc, id)
			if err != nil || ap.Creation == nil {
				return err // nothing to make: EFS mounts an existing directory
			}
			fs, _, err := getFileSystem(tx, sc, ap.FileSystemID)
			if err != nil || fs.State != stateAvailable {
				return err // the file system goes, and its access points with it
			}
			// A root directory that cannot be made now (a task left a
			// symbolic link in the way) is tried again, and reported, on
			// mount; the access point itself is fine.
			if _, err := s.accessPointRoot(sc, ap); err != nil {
				s.Logger.Warn("efs: cannot prepare an access point's root directory", "accessPoint", ap.ID, "err", err)
			}
			return nil
		})
	}
	return controller.Result{}, err
}

// reconcileRecord makes a creating record available or forgets a deleting
// one, after prepare (when not nil) did the work of that state.
func (s *Service) reconcileRecord(ctx context.Context, table string, sc scope, id string, prepare func(tx store.Tx, state string) error) error {
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var rec map[string]any
		version, err := store.GetJSON(tx, table, sc.Key(id), &rec)
		if errors.Is(err, store.ErrNotFound) {
			return nil // done already
		}
		if err != nil {
			return err
		}
		state, _ := rec["state"].(string)
		if state != stateCreating && state != stateDeleting {
			return nil
		}
		if prepare != nil {
			if err := prepare(tx, state); err != nil {
				return err
			}
		}
		if state == stateDeleting {
			return tx.Delete(table, sc.Key(id), version)
		}
		rec["state"] = stateAvailable
		_, err = store.PutJSON(tx, table, sc.Key(id), rec, version)
		return err
	})
}

// reconcileFileSystem makes a file system's directory before it is
// available; a deleted one loses its data, creation token and access
// points before its record goes, so that a crash half-way is finished by
// the next reconcile of the key.
func (s *Service) reconcileFileSystem(ctx context.Context, sc scope, id string) error {
	dir := s.fileSystemDir(sc, id)
	return s.reconcileRecord(ctx, fileSystemsTable, sc, id, func(tx store.Tx, state string) error {
		if state == stateCreating {
			return os.MkdirAll(dir, 0o755) // a new EFS root is root's, 755
		}
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("efs: removing the data of %s: %w", id, err)
		}
		s.Logger.Info("efs: deleted a file system's data", "fileSystem", id)
		return s.dropFileSystemIndexes(tx, sc, id)
	})
}

// dropFileSystemIndexes deletes what refers to a deleted file system: its
// creation token and its access points.
func (s *Service) dropFileSystemIndexes(tx store.Tx, sc scope, fsID string) error {
	var drop []store.Item
	err := tx.Scan(tokensTable, store.ScanOptions{Prefix: sc.Prefix()}, func(it store.Item) error {
		if string(it.Value) == fsID {
			drop = append(drop, it)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, it := range drop {
		if err := tx.Delete(tokensTable, it.Key, store.AnyVersion); err != nil {
			return err
		}
	}
	var aps []string
	err = store.ScanJSON(tx, accessPointsTable, store.ScanOptions{Prefix: sc.Prefix()}, func(key string, ap accessPoint, _ int64) error {
		if ap.FileSystemID == fsID {
			aps = append(aps, key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, key := range aps {
		if err := tx.Delete(accessPointsTable, key, store.AnyVersion); err != nil {
			return err
		}
	}
	return nil
}

// fileSystemDir is where a file system's data lives. IDs are the
// service's own (fs- and hex digits), never a caller's string.
func (s *Service) fileSystemDir(sc scope, id string) string {
	return filepath.Join(s.dataDir, sc.Account, id)
}

// accessPointRoot makes the access point's root directory when it is
// missing and the access point says how (CreationInfo), as EFS does, and
// returns its host path. The path is opened beneath the file system's
// directory (os.Root), so neither ".." nor a symbolic link a task left
// there leads outside it.
func (s *Service) accessPointRoot(sc scope, ap *accessPoint) (string, error) {
	fsDir := s.fileSystemDir(sc, ap.FileSystemID)
	root, err := os.OpenRoot(fsDir)
	if err != nil {
		return "", fmt.Errorf("efs: opening file system %s: %w", ap.FileSystemID, err)
	}
	defer root.Close()
	rel := strings.Trim(ap.Path, "/")
	if rel == "" {
		return fsDir, nil
	}
	if _, err := root.Stat(rel); errors.Is(err, os.ErrNotExist) && ap.Creation != nil {
		if err := makeRoot(root, rel, ap.Creation); err != nil {
			return "", fmt.Errorf("efs: creating the root directory of access point %s: %w", ap.ID, err)
		}
	}
	return resolveBeneath(fsDir, rel)
}

// makeRoot creates rel beneath root with the CreationInfo's owner and
// permissions; parents it creates get the same, as EFS does.
func makeRoot(root *os.Root, rel string, c *creationInfo) error {
	mode, err := strconv.ParseUint(c.Permissions, 8, 32)
	if err != nil {
		return err
	}
	parts := strings.Split(rel, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		if _, err := root.Stat(p); err == nil {
			continue
		}
		if err := root.Mkdir(p, os.FileMode(mode)); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		// Mkdir's mode is filtered by the umask; the permissions are not.
		if err := root.Chmod(p, os.FileMode(mode)); err != nil {
			return err
		}
		if err := root.Lchown(p, int(c.OwnerUID), int(c.OwnerGID)); err != nil && os.Geteuid() == 0 {
			return err
		}
	}
	return nil
}

// resolveBeneath is the host path of rel inside dir with every symbolic
// link resolved, refused unless it is still inside dir: the path a bind
// mount would reach.
func resolveBeneath(dir, rel string) (string, error) {
	base, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	path, err := filepath.EvalSymlinks(filepath.Join(base, rel))
	if err != nil {
		return "", err
	}
	if path != base && !strings.HasPrefix(path, base+string(filepath.Separator)) {
		return "", fmt.Errorf("efs: %q leads outside its file system", rel)
	}
	return path, nil
}
