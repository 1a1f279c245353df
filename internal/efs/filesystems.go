package efs

import (
	"cmp"
	"context"
	"errors"

	"overcast"
	api "overcast/internal/api/efs"
	"overcast/internal/service"
	"overcast/internal/store"
)

const (
	defaultMaxItems = 100
	// emptySize is the metered size AWS reports for a new, empty file
	// system; overcast does not meter the directory.
	emptySize = 6144
)

// getRecord reads the record id of a kind into v, or answers the kind's
// notFound.
func getRecord(tx store.Tx, kind recordKind, sc scope, id string, v any) (int64, error) {
	version, err := store.GetJSON(tx, kind.table, sc.Key(id), v)
	if errors.Is(err, store.ErrNotFound) {
		return 0, kind.notFound(id)
	}
	return version, err
}

func getFileSystem(tx store.Tx, sc scope, id string) (*fileSystem, int64, error) {
	var fs fileSystem
	version, err := getRecord(tx, fileSystemKind, sc, id, &fs)
	return &fs, version, err
}

// update runs fn in a retried transaction and then has the lifecycle
// controller look at the keys fn returned.
func (s *Service) update(ctx context.Context, fn func(tx store.Tx) ([]string, error)) error {
	var keys []string
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var err error
		keys, err = fn(tx)
		return err
	})
	if err == nil {
		s.lifecycle.Enqueue(keys...)
	}
	return err
}

// tokensTable maps a scope's creation tokens to the file system each
// created, for CreateFileSystem's idempotency.
const tokensTable = "efs.tokens"

func (s *Service) CreateFileSystem(ctx context.Context, in *api.CreateFileSystemRequest) (*api.FileSystemDescription, error) {
	sc := overcast.ScopeOf(ctx)
	if len(in.Tags) > maxTags {
		return nil, badRequest("Tags cannot exceed %d.", maxTags)
	}
	mode := service.DerefOr(in.ThroughputMode, api.ThroughputModeBursting)
	if (mode == api.ThroughputModeProvisioned) != (in.ProvisionedThroughputInMibps != nil) {
		return nil, badRequest("ProvisionedThroughputInMibps must be set if and only if ThroughputMode is provisioned.")
	}
	if in.KmsKeyId != nil && !service.Deref(in.Encrypted) {
		return nil, badRequest("KmsKeyId requires Encrypted to be true.")
	}
	fs := &fileSystem{
		ID: s.IDs.Resource("fs"), CreationToken: *in.CreationToken, Created: s.Now().UTC(), State: stateCreating,
		PerformanceMode: service.DerefOr(in.PerformanceMode, api.PerformanceModeGeneralPurpose), ThroughputMode: mode,
		Provisioned: in.ProvisionedThroughputInMibps, Encrypted: service.Deref(in.Encrypted),
		AvailabilityZone: service.Deref(in.AvailabilityZoneName), Tags: mergeTags(nil, in.Tags),
	}
	fs.ARN = fileSystemARN(sc, fs.ID)
	// Backups are on when asked, and by default for One Zone file systems.
	fs.Backup = api.StatusDISABLED
	if service.DerefOr(in.Backup, fs.AvailabilityZone != "") {
		fs.Backup = api.StatusENABLED
	}
	if fs.Encrypted {
		fs.KmsKeyID = service.DerefOr(in.KmsKeyId, sc.ARN("kms", "alias/aws/elasticfilesystem"))
	}
	var out *api.FileSystemDescription
	err := s.update(ctx, func(tx store.Tx) ([]string, error) {
		item, err := tx.Get(tokensTable, sc.Key(fs.CreationToken))
		if err == nil {
			existing, _, err := getFileSystem(tx, sc, string(item.Value))
			if err != nil {
				return nil, err
			}
			return nil, fileSystemAlreadyExists(existing)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if _, err := tx.Put(tokensTable, sc.Key(fs.CreationToken), []byte(fs.ID), 0); err != nil {
			return nil, err
		}
		if _, err := store.PutJSON(tx, fileSystemsTable, sc.Key(fs.ID), fs, 0); err != nil {
			return nil, err
		}
		out, err = describeFileSystem(tx, sc, fs)
		return []string{lifecycleKey(kindFileSystem, sc, fs.ID)}, err
	})
	return out, err
}

func describeFileSystem(tx store.Tx, sc scope, fs *fileSystem) (*api.FileSystemDescription, error) {
	mounts, err := mountTargetsOf(tx, sc, fs.ID)
	if err != nil {
		return nil, err
	}
	d := &api.FileSystemDescription{
		OwnerId: new(sc.Account), CreationToken: new(fs.CreationToken), FileSystemId: new(fs.ID),
		FileSystemArn: new(fs.ARN), CreationTime: new(fs.Created), LifeCycleState: new(fs.State),
		Name: name(fs.Tags), NumberOfMountTargets: new(int32(len(mounts))),
		SizeInBytes: &api.FileSystemSize{Value: new(int64(emptySize)), ValueInStandard: new(int64(emptySize)),
			ValueInIA: new(int64(0)), ValueInArchive: new(int64(0))},
		PerformanceMode: new(fs.PerformanceMode), Encrypted: new(fs.Encrypted), ThroughputMode: new(fs.ThroughputMode),
		ProvisionedThroughputInMibps: fs.Provisioned, Tags: apiTags(fs.Tags),
		FileSystemProtection: &api.FileSystemProtectionDescription{
			ReplicationOverwriteProtection: new(api.ReplicationOverwriteProtectionENABLED)},
	}
	d.KmsKeyId = service.OmitZero(fs.KmsKeyID)
	d.AvailabilityZoneName = service.OmitZero(fs.AvailabilityZone)
	return d, nil
}

func (s *Service) DescribeFileSystems(ctx context.Context, in *api.DescribeFileSystemsRequest) (*api.DescribeFileSystemsResponse, error) {
	sc := overcast.ScopeOf(ctx)
	if in.FileSystemId != nil && in.CreationToken != nil {
		return nil, badRequest("Request cannot contain both a file system ID and a creation token.")
	}
	out := &api.DescribeFileSystemsResponse{Marker: in.Marker}
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		out.FileSystems, out.NextMarker, err = describeRecords(tx, sc, fileSystemKind, in.FileSystemId, in.Marker, in.MaxItems,
			func(fs *fileSystem) bool { return in.CreationToken == nil || fs.CreationToken == *in.CreationToken },
			func(fs *fileSystem) (*api.FileSystemDescription, error) { return describeFileSystem(tx, sc, fs) })
		return err
	})
	return out, err
}

// describeRecords answers EFS's Describe calls: the record of the kind id
// names when it is set, else the page of the scope's records of the kind
// that keep accepts, each as view describes it.
func describeRecords[T, V any](tx store.Tx, sc scope, kind recordKind, id *string, marker *string, maxItems *int32,
	keep func(*T) bool, view func(*T) (*V, error)) ([]V, *string, error) {
	views := []V{}
	if id != nil {
		var rec T
		if _, err := getRecord(tx, kind, sc, *id, &rec); err != nil {
			return nil, nil, err
		}
		v, err := view(&rec)
		if err != nil {
			return nil, nil, err
		}
		return append(views, *v), nil, nil
	}
	next, err := page(tx, kind.table, sc, marker, maxItems, func(rec *T) (bool, error) {
		if !keep(rec) {
			return false, nil
		}
		v, err := view(rec)
		if err == nil {
			views = append(views, *v)
		}
		return err == nil, err
	})
	return views, next, err
}

// page visits the records of table in scope sc after the marker (an ID),
// calling add on each until max of them were added; it returns the next
// page's marker, nil after the last page.
func page[T any](tx store.Tx, table string, sc scope, marker *string, maxItems *int32,
	add func(*T) (bool, error)) (*string, error) {
	limit := int(service.DerefOr(maxItems, defaultMaxItems))
	if limit <= 0 {
		limit = defaultMaxItems
	}
	opt := store.ScanOptions{Prefix: sc.Prefix()}
	if marker != nil {
		opt.After = sc.Key(*marker)
	}
	var next *string
	added, last := 0, ""
	err := store.ScanJSON(tx, table, opt, func(key string, v T, _ int64) error {
		if added == limit {
			next = new(last)
			return store.ErrStop
		}
		ok, err := add(&v)
		if ok {
			added++
			last = key[len(sc.Prefix()):]
		}
		return err
	})
	return next, err
}

func (s *Service) UpdateFileSystem(ctx context.Context, in *api.UpdateFileSystemRequest) (*api.FileSystemDescription, error) {
	sc := overcast.ScopeOf(ctx)
	var out *api.FileSystemDescription
	err := s.update(ctx, func(tx store.Tx) ([]string, error) {
		fs, version, err := getFileSystem(tx, sc, *in.FileSystemId)
		if err != nil {
			return nil, err
		}
		if fs.State != stateAvailable {
			return nil, incorrectFileSystemState(fs)
		}
		fs.ThroughputMode = service.DerefOr(in.ThroughputMode, fs.ThroughputMode)
		if fs.ThroughputMode == api.ThroughputModeProvisioned {
			if in.ProvisionedThroughputInMibps == nil && fs.Provisioned == nil {
				return nil, badRequest("ProvisionedThroughputInMibps is required when ThroughputMode is provisioned.")
			}
			if in.ProvisionedThroughputInMibps != nil {
				fs.Provisioned = in.ProvisionedThroughputInMibps
			}
		} else if in.ProvisionedThroughputInMibps != nil {
			return nil, badRequest("ProvisionedThroughputInMibps can only be set when ThroughputMode is provisioned.")
		} else {
			fs.Provisioned = nil
		}
		if _, err := store.PutJSON(tx, fileSystemsTable, sc.Key(fs.ID), fs, version); err != nil {
			return nil, err
		}
		out, err = describeFileSystem(tx, sc, fs)
		return nil, err
	})
	return out, err
}

func (s *Service) DeleteFileSystem(ctx context.Context, in *api.DeleteFileSystemRequest) error {
	id := *in.FileSystemId
	return s.deleteRecord(ctx, fileSystemKind, id, func(tx store.Tx, sc scope) error {
		mounts, err := mountTargetsOf(tx, sc, id)
		if err == nil && len(mounts) > 0 {
			err = fileSystemInUse(id)
		}
		return err
	})
}

// modifyFileSystem applies change to an existing file system's record.
func (s *Service) modifyFileSystem(ctx context.Context, id string, change func(fs *fileSystem) error) error {
	sc := overcast.ScopeOf(ctx)
	return s.update(ctx, func(tx store.Tx) ([]string, error) {
		fs, version, err := getFileSystem(tx, sc, id)
		if err != nil {
			return nil, err
		}
		if err := change(fs); err != nil {
			return nil, err
		}
		_, err = store.PutJSON(tx, fileSystemsTable, sc.Key(fs.ID), fs, version)
		return nil, err
	})
}

// viewFileSystem reads an existing file system.
func (s *Service) viewFileSystem(ctx context.Context, id string) (*fileSystem, error) {
	sc := overcast.ScopeOf(ctx)
	var fs *fileSystem
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		fs, _, err = getFileSystem(tx, sc, id)
		return err
	})
	return fs, err
}

func (s *Service) PutLifecycleConfiguration(ctx context.Context, in *api.PutLifecycleConfigurationRequest) (*api.LifecycleConfigurationDescription, error) {
	var policies []lifecyclePolicy
	for _, p := range in.LifecyclePolicies {
		policies = append(policies, lifecyclePolicy{TransitionToIA: service.Deref(p.TransitionToIA),
			TransitionToPrimaryStorageClass: service.Deref(p.TransitionToPrimaryStorageClass),
			TransitionToArchive:             service.Deref(p.TransitionToArchive)})
	}
	err := s.modifyFileSystem(ctx, *in.FileSystemId, func(fs *fileSystem) error {
		fs.Lifecycle = policies
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.LifecycleConfigurationDescription{LifecyclePolicies: apiLifecycle(policies)}, nil
}

func (s *Service) DescribeLifecycleConfiguration(ctx context.Context, in *api.DescribeLifecycleConfigurationRequest) (*api.LifecycleConfigurationDescription, error) {
	fs, err := s.viewFileSystem(ctx, *in.FileSystemId)
	if err != nil {
		return nil, err
	}
	return &api.LifecycleConfigurationDescription{LifecyclePolicies: apiLifecycle(fs.Lifecycle)}, nil
}

func apiLifecycle(policies []lifecyclePolicy) api.LifecyclePolicies {
	out := api.LifecyclePolicies{}
	for _, p := range policies {
		out = append(out, api.LifecyclePolicy{TransitionToIA: service.OmitZero(p.TransitionToIA),
			TransitionToPrimaryStorageClass: service.OmitZero(p.TransitionToPrimaryStorageClass),
			TransitionToArchive:             service.OmitZero(p.TransitionToArchive)})
	}
	return out
}

func (s *Service) PutFileSystemPolicy(ctx context.Context, in *api.PutFileSystemPolicyRequest) (*api.FileSystemPolicyDescription, error) {
	err := s.modifyFileSystem(ctx, *in.FileSystemId, func(fs *fileSystem) error {
		fs.Policy = *in.Policy
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.FileSystemPolicyDescription{FileSystemId: in.FileSystemId, Policy: in.Policy}, nil
}

func (s *Service) DescribeFileSystemPolicy(ctx context.Context, in *api.DescribeFileSystemPolicyRequest) (*api.FileSystemPolicyDescription, error) {
	fs, err := s.viewFileSystem(ctx, *in.FileSystemId)
	if err != nil {
		return nil, err
	}
	if fs.Policy == "" {
		return nil, policyNotFound(fs.ID)
	}
	return &api.FileSystemPolicyDescription{FileSystemId: new(fs.ID), Policy: new(fs.Policy)}, nil
}

func (s *Service) DeleteFileSystemPolicy(ctx context.Context, in *api.DeleteFileSystemPolicyRequest) error {
	return s.modifyFileSystem(ctx, *in.FileSystemId, func(fs *fileSystem) error {
		fs.Policy = ""
		return nil
	})
}

func (s *Service) PutBackupPolicy(ctx context.Context, in *api.PutBackupPolicyRequest) (*api.BackupPolicyDescription, error) {
	status := *in.BackupPolicy.Status
	if status != api.StatusENABLED && status != api.StatusDISABLED {
		return nil, coded(api.NewValidationException("Backup policy status must be ENABLED or DISABLED."))
	}
	err := s.modifyFileSystem(ctx, *in.FileSystemId, func(fs *fileSystem) error {
		fs.Backup = status
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.BackupPolicyDescription{BackupPolicy: &api.BackupPolicy{Status: new(status)}}, nil
}

func (s *Service) DescribeBackupPolicy(ctx context.Context, in *api.DescribeBackupPolicyRequest) (*api.BackupPolicyDescription, error) {
	fs, err := s.viewFileSystem(ctx, *in.FileSystemId)
	if err != nil {
		return nil, err
	}
	return &api.BackupPolicyDescription{BackupPolicy: &api.BackupPolicy{Status: new(cmp.Or(fs.Backup, api.StatusDISABLED))}}, nil
}

func fileSystemARN(sc scope, id string) string { return sc.ARN("elasticfilesystem", "file-system/"+id) }
