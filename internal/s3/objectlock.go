package s3

import (
	"context"
	"net/http"
	"time"

	api "overcast/internal/api/s3"
	"overcast/internal/store"
)

// Object Lock. A bucket created with it (or a versioned bucket that turns
// it on) keeps every version for as long as its retention says and while
// a legal hold is on: a version is never overwritten (the bucket stays
// versioned), and deleting it by version ID is refused. GOVERNANCE
// retention gives way to a caller who asks to bypass it
// (x-amz-bypass-governance-retention) and may (s3:BypassGovernanceRetention);
// COMPLIANCE retention gives way to no one, and a legal hold only to
// being turned off. Deleting without a version ID adds a delete marker,
// which a lock does not prevent.

const (
	lockGovernance = "GOVERNANCE"
	lockCompliance = "COMPLIANCE"
	holdOn         = "ON"
	holdOff        = "OFF"
)

func errNoLockConfiguration() error {
	return errInvalidRequest("Bucket is missing Object Lock Configuration")
}

func errLocked() error {
	return s3err(http.StatusForbidden, "AccessDenied", "Access Denied because object protected by object lock.")
}

func errNoObjectLock() error {
	return s3err(http.StatusNotFound, "NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration")
}

// objectLock is what a new version is to be locked with: a retention
// (mode and date) and a legal hold, each optional.
type objectLock struct {
	mode  string
	until *time.Time
	hold  string
}

// lockHeaders reads the x-amz-object-lock-* headers of a request that
// creates a version. Whether the bucket has Object Lock is checked when
// the version is stored (newVersion), on the bucket as it is then.
func lockHeaders(mode *string, until *time.Time, hold *string, now time.Time) (objectLock, error) {
	if mode == nil && until == nil && hold == nil {
		return objectLock{}, nil
	}
	if (mode == nil) != (until == nil) {
		return objectLock{}, errInvalidArgument("x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
			"x-amz-object-lock-mode", deref(mode))
	}
	l := objectLock{mode: deref(mode), until: until, hold: deref(hold)}
	if mode != nil {
		if l.mode != lockGovernance && l.mode != lockCompliance {
			return objectLock{}, errInvalidArgument("Unknown wormMode directive.", "x-amz-object-lock-mode", l.mode)
		}
		if !until.After(now) {
			return objectLock{}, errInvalidArgument("The retain until date must be in the future!",
				"x-amz-object-lock-retain-until-date", until.UTC().Format(time.RFC3339))
		}
	}
	if hold != nil && l.hold != holdOn && l.hold != holdOff {
		return objectLock{}, errInvalidArgument("Legal Hold must be either of 'ON' or 'OFF'", "x-amz-object-lock-legal-hold", l.hold)
	}
	return l, nil
}

func (l objectLock) any() bool { return l.mode != "" || l.hold != "" }

// set gives rec the lock asked for.
func (l objectLock) set(rec *objectRecord) {
	if l.mode != "" {
		rec.LockMode, rec.LockUntil = l.mode, l.until
	}
	rec.LegalHold = l.hold
}

// lockNewVersion checks the lock a new version asked for against its
// bucket, and gives it the bucket's default retention when it asked for
// no retention of its own.
func lockNewVersion(b *bucketRecord, rec *objectRecord) error {
	if !b.ObjectLock {
		if rec.LockMode != "" || rec.LegalHold != "" {
			return errNoLockConfiguration()
		}
		return nil
	}
	d := b.LockRetention
	if d == nil || rec.DeleteMarker || rec.LockMode != "" {
		return nil
	}
	until := rec.Modified.AddDate(int(deref32(d.Years)), 0, int(deref32(d.Days)))
	rec.LockMode, rec.LockUntil = deref(d.Mode), &until
	return nil
}

// needsLockDigest reports whether a PutObject must carry Content-MD5 or a
// checksum: S3 wants one for every write Object Lock applies to.
func needsLockDigest(b *bucketRecord, l objectLock) bool {
	return l.any() || (b.ObjectLock && b.LockRetention != nil)
}

// retained reports whether v's retention is in force at now.
func (v *objectRecord) retained(now time.Time) bool {
	return v.LockMode != "" && v.LockUntil != nil && now.Before(*v.LockUntil)
}

// checkRemovable refuses to delete or replace a version its lock protects;
// bypass is x-amz-bypass-governance-retention.
func checkRemovable(ctx context.Context, b *bucketRecord, key string, v *objectRecord, bypass bool, now time.Time) error {
	if v.LegalHold == holdOn {
		return errLocked()
	}
	if !v.retained(now) {
		return nil
	}
	if v.LockMode == lockCompliance || !bypass {
		return errLocked()
	}
	return authorize(ctx, b, "s3:BypassGovernanceRetention", key, nil)
}

func (s *Service) PutObjectLockConfiguration(ctx context.Context, in *api.PutObjectLockConfigurationRequest) (*api.PutObjectLockConfigurationOutput, error) {
	err := s.changeBucket(ctx, *in.Bucket, "s3:PutBucketObjectLockConfiguration", func(b *bucketRecord) error {
		cfg := in.ObjectLockConfiguration
		if cfg == nil || deref(cfg.ObjectLockEnabled) != "Enabled" {
			return errMalformedXML()
		}
		var d *api.DefaultRetention
		if cfg.Rule != nil {
			if d = cfg.Rule.DefaultRetention; d == nil {
				return errMalformedXML()
			}
			if m := deref(d.Mode); (m != lockGovernance && m != lockCompliance) || (d.Days == nil) == (d.Years == nil) {
				return errMalformedXML()
			}
			if deref32(d.Days) < 0 || deref32(d.Years) < 0 || (d.Days != nil && *d.Days == 0) || (d.Years != nil && *d.Years == 0) {
				return errInvalidArgument("Default retention period must be a positive integer value", "DefaultRetention", "")
			}
		}
		if !b.ObjectLock && b.Versioning != "Enabled" {
			return s3err(http.StatusConflict, "InvalidBucketState",
				"Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration", "BucketName", b.Name)
		}
		b.ObjectLock, b.LockRetention = true, d
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.PutObjectLockConfigurationOutput{}, nil
}

func (s *Service) GetObjectLockConfiguration(ctx context.Context, in *api.GetObjectLockConfigurationRequest) (*api.GetObjectLockConfigurationOutput, error) {
	b, err := bucketPart(ctx, s, *in.Bucket, "s3:GetBucketObjectLockConfiguration",
		"ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket",
		func(b *bucketRecord) (*bucketRecord, bool) { return b, b.ObjectLock })
	if err != nil {
		return nil, err
	}
	cfg := &api.ObjectLockConfiguration{ObjectLockEnabled: new("Enabled")}
	if b.LockRetention != nil {
		cfg.Rule = &api.ObjectLockRule{DefaultRetention: b.LockRetention}
	}
	return &api.GetObjectLockConfigurationOutput{ObjectLockConfiguration: cfg}, nil
}

// lockedVersion finds the version a retention or legal hold request
// addresses, in a bucket with Object Lock.
func (s *Service) lockedVersion(ctx context.Context, tx store.Tx, bucket, key, versionID, action string) (*bucketRecord, *objectRecord, error) {
	b, o, err := s.objectVersion(ctx, tx, bucket, key, versionID, action)
	if err != nil {
		return nil, nil, err
	}
	if !b.ObjectLock {
		return nil, nil, errNoLockConfiguration()
	}
	return b, o, nil
}

// lockPart reads one part of the lock of one version: get returns it and
// whether the version has it; a version without it is NoSuchObjectLockConfiguration.
func lockPart[T any](ctx context.Context, s *Service, bucket, key, versionID, action string, get func(o *objectRecord) (T, bool)) (T, error) {
	var part T
	err := s.view(ctx, func(tx store.Tx) error {
		_, o, err := s.lockedVersion(ctx, tx, bucket, key, versionID, action)
		if err != nil {
			return err
		}
		var ok bool
		if part, ok = get(o); !ok {
			return errNoObjectLock()
		}
		return nil
	})
	return part, err
}

// changeLock runs a read-modify-write of the lock of one version.
func (s *Service) changeLock(ctx context.Context, bucket, key, versionID, action string, fn func(b *bucketRecord, o *objectRecord) error) error {
	return s.update(ctx, func(tx store.Tx, c *change) error {
		b, o, err := s.lockedVersion(ctx, tx, bucket, key, versionID, action)
		if err != nil {
			return err
		}
		if err := fn(b, o); err != nil {
			return err
		}
		_, err = store.PutJSON(tx, tableObject, objectKey(bucket, key, o.Seq), o, store.AnyVersion)
		return err
	})
}

func (s *Service) PutObjectRetention(ctx context.Context, in *api.PutObjectRetentionRequest) (*api.PutObjectRetentionOutput, error) {
	r := in.Retention
	if r == nil {
		return nil, errMalformedXML()
	}
	mode := deref(r.Mode)
	if (mode != "" && mode != lockGovernance && mode != lockCompliance) || (mode == "") != (r.RetainUntilDate == nil) {
		return nil, errMalformedXML()
	}
	now := s.now()
	if r.RetainUntilDate != nil && !r.RetainUntilDate.After(now) {
		return nil, errInvalidArgument("The retain until date must be in the future!", "RetainUntilDate", r.RetainUntilDate.UTC().Format(time.RFC3339))
	}
	bypass := isTrue(in.BypassGovernanceRetention)
	err := s.changeLock(ctx, *in.Bucket, *in.Key, deref(in.VersionId), "s3:PutObjectRetention", func(b *bucketRecord, o *objectRecord) error {
		if o.retained(now) {
			// A retention in force may be made longer or stricter; anything
			// else weakens it.
			weakens := mode == "" || r.RetainUntilDate.Before(*o.LockUntil) || (o.LockMode == lockCompliance && mode != lockCompliance)
			if weakens {
				if o.LockMode == lockCompliance || !bypass {
					return errLocked()
				}
				if err := authorize(ctx, b, "s3:BypassGovernanceRetention", *in.Key, nil); err != nil {
					return err
				}
			}
		}
		o.LockMode, o.LockUntil = mode, r.RetainUntilDate
		return nil
	})
	return &api.PutObjectRetentionOutput{}, err
}

func (s *Service) GetObjectRetention(ctx context.Context, in *api.GetObjectRetentionRequest) (*api.GetObjectRetentionOutput, error) {
	r, err := lockPart(ctx, s, *in.Bucket, *in.Key, deref(in.VersionId), "s3:GetObjectRetention", func(o *objectRecord) (*api.ObjectLockRetention, bool) {
		return &api.ObjectLockRetention{Mode: new(o.LockMode), RetainUntilDate: o.LockUntil}, o.LockMode != ""
	})
	return &api.GetObjectRetentionOutput{Retention: r}, err
}

func (s *Service) PutObjectLegalHold(ctx context.Context, in *api.PutObjectLegalHoldRequest) (*api.PutObjectLegalHoldOutput, error) {
	if in.LegalHold == nil {
		return nil, errMalformedXML()
	}
	status := deref(in.LegalHold.Status)
	if status != holdOn && status != holdOff {
		return nil, errMalformedXML()
	}
	err := s.changeLock(ctx, *in.Bucket, *in.Key, deref(in.VersionId), "s3:PutObjectLegalHold", func(_ *bucketRecord, o *objectRecord) error {
		o.LegalHold = status
		return nil
	})
	return &api.PutObjectLegalHoldOutput{}, err
}

func (s *Service) GetObjectLegalHold(ctx context.Context, in *api.GetObjectLegalHoldRequest) (*api.GetObjectLegalHoldOutput, error) {
	hold, err := lockPart(ctx, s, *in.Bucket, *in.Key, deref(in.VersionId), "s3:GetObjectLegalHold", func(o *objectRecord) (*api.ObjectLockLegalHold, bool) {
		return &api.ObjectLockLegalHold{Status: new(o.LegalHold)}, o.LegalHold != ""
	})
	return &api.GetObjectLegalHoldOutput{LegalHold: hold}, err
}
