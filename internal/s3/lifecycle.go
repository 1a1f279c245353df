package s3

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/s3"
	"overcast/internal/controller"
	"overcast/internal/store"
)

// Lifecycle configurations: validated as S3 validates them, and applied
// by a controller (below).

// transitionClasses are the classes a lifecycle rule can move objects to.
var transitionClasses = map[string]bool{"STANDARD_IA": true, "ONEZONE_IA": true, "INTELLIGENT_TIERING": true,
	"GLACIER": true, "DEEP_ARCHIVE": true, "GLACIER_IR": true}

// validateLifecycle refuses a configuration S3 would refuse, with S3's
// error: MalformedXML for what its schema rules out, InvalidArgument for a
// bad value, InvalidRequest for a combination it does not allow.
func validateLifecycle(cfg *api.BucketLifecycleConfiguration) error {
	if cfg == nil || len(cfg.Rules) == 0 {
		return errMalformedXML()
	}
	ids := map[string]bool{}
	for i := range cfg.Rules {
		r := &cfg.Rules[i]
		if err := checkRuleID(ids, deref(r.ID)); err != nil {
			return err
		}
		if s := deref(r.Status); s != "Enabled" && s != "Disabled" {
			return errMalformedXML()
		}
		if err := validateRuleFilter(r); err != nil {
			return err
		}
		if r.Expiration == nil && len(r.Transitions) == 0 && r.NoncurrentVersionExpiration == nil &&
			len(r.NoncurrentVersionTransitions) == 0 && r.AbortIncompleteMultipartUpload == nil {
			return errInvalidRequest("At least one action needs to be specified in a rule")
		}
		if err := validateRuleActions(r); err != nil {
			return err
		}
	}
	return nil
}

// checkRuleID checks the ID of a lifecycle or replication rule: at most
// 255 characters, and unique among the IDs seen (which it adds to).
func checkRuleID(seen map[string]bool, id string) error {
	if len(id) > 255 {
		return errInvalidArgument("ID length should not exceed allowed limit of 255", "ID", id)
	}
	if id != "" && seen[id] {
		return errInvalidArgument("Rule ID must be unique. Found same ID for more than one rule", "ID", id)
	}
	seen[id] = true
	return nil
}

// validateRuleFilter checks that a rule names its objects once: by the
// legacy Prefix or by a Filter holding one condition (several go in And).
func validateRuleFilter(r *api.LifecycleRule) error {
	if (r.Prefix == nil) == (r.Filter == nil) {
		return errMalformedXML()
	}
	if f := r.Filter; f != nil {
		n := 0
		for _, set := range []bool{f.Prefix != nil, f.Tag != nil, f.ObjectSizeGreaterThan != nil, f.ObjectSizeLessThan != nil, f.And != nil} {
			if set {
				n++
			}
		}
		if n > 1 {
			return errMalformedXML()
		}
	}
	return nil
}

func validateRuleActions(r *api.LifecycleRule) error {
	tagged := r.Filter != nil && (r.Filter.Tag != nil || (r.Filter.And != nil && len(r.Filter.And.Tags) > 0))
	if e := r.Expiration; e != nil {
		n := 0
		for _, set := range []bool{e.Days != nil, e.Date != nil, e.ExpiredObjectDeleteMarker != nil} {
			if set {
				n++
			}
		}
		switch {
		case n != 1:
			return errMalformedXML()
		case e.Days != nil && *e.Days <= 0:
			return errInvalidArgument("'Days' for Expiration action must be a positive integer", "Days", strconv.Itoa(int(*e.Days)))
		case e.Date != nil && !atMidnight(*e.Date):
			return errInvalidArgument("'Date' must be at midnight GMT", "Date", e.Date.UTC().Format(time.RFC3339))
		case e.ExpiredObjectDeleteMarker != nil && tagged:
			return errInvalidRequest("ExpiredObjectDeleteMarker cannot be specified with Tags.")
		}
	}
	for _, t := range r.Transitions {
		class := deref(t.StorageClass)
		switch {
		case !transitionClasses[class] || (t.Days == nil) == (t.Date == nil):
			return errMalformedXML()
		case t.Days != nil && *t.Days < 0:
			return errInvalidArgument("'Days' in Transition action must be nonnegative", "Days", strconv.Itoa(int(*t.Days)))
		case t.Days != nil && *t.Days < 30 && (class == "STANDARD_IA" || class == "ONEZONE_IA"):
			return errInvalidArgument("'Days' in Transition action must be greater than or equal to 30 for storageClass '"+class+"'",
				"Days", strconv.Itoa(int(*t.Days)))
		case t.Date != nil && !atMidnight(*t.Date):
			return errInvalidArgument("'Date' must be at midnight GMT", "Date", t.Date.UTC().Format(time.RFC3339))
		}
	}
	for _, t := range r.NoncurrentVersionTransitions {
		if !transitionClasses[deref(t.StorageClass)] || t.NoncurrentDays == nil {
			return errMalformedXML()
		}
	}
	if e := r.NoncurrentVersionExpiration; e != nil && (e.NoncurrentDays == nil || *e.NoncurrentDays <= 0) {
		return errInvalidArgument("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
			"NoncurrentDays", strconv.Itoa(int(deref32(e.NoncurrentDays))))
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil {
		if a.DaysAfterInitiation == nil || *a.DaysAfterInitiation <= 0 {
			return errInvalidArgument("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
				"DaysAfterInitiation", strconv.Itoa(int(deref32(a.DaysAfterInitiation))))
		}
		if tagged {
			return errInvalidRequest("AbortIncompleteMultipartUpload cannot be specified with Tags.")
		}
	}
	return nil
}

func atMidnight(t time.Time) bool { return t.UTC().Truncate(24 * time.Hour).Equal(t) }

func deref32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// Lifecycle rules are applied by the s3-lifecycle controller, one bucket a
// key. S3 counts a rule's days from an object's creation (or, for a
// noncurrent version, from when it stopped being current) and rounds up
// to the next midnight UTC, and dates are midnights: so every action falls
// due at a midnight, and a pass over a bucket at each midnight finds all
// that is due. The pass is the only state: a restart lists the buckets
// with rules and passes over each at once.

// lifecycleBatch bounds the changes one pass makes; a pass that reaches it
// asks for another at once.
const lifecycleBatch = 1000

// lifecycleCaller is who acts in lifecycle events: S3 itself.
var lifecycleCaller = overcast.Caller{ARN: "s3.amazonaws.com"}

// lifecycleBuckets lists the buckets with a lifecycle configuration: the
// controller's keys.
func (s *Service) lifecycleBuckets(ctx context.Context) ([]string, error) {
	var names []string
	err := s.view(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, tableBucket, store.ScanOptions{}, func(name string, b bucketRecord, _ int64) error {
			if b.Lifecycle != nil {
				names = append(names, name)
			}
			return nil
		})
	})
	return names, err
}

// reconcileLifecycle applies the rules of one bucket that are due, and
// asks to look again at the next midnight.
func (s *Service) reconcileLifecycle(ctx context.Context, bucket string) (controller.Result, error) {
	now := s.Now().UTC()
	b, err := s.lookupBucket(ctx, bucket)
	if isCode(err, "NoSuchBucket") {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if b.Lifecycle == nil {
		return controller.Result{}, nil
	}
	var rules []*api.LifecycleRule
	for i := range b.Lifecycle.Rules {
		if r := &b.Lifecycle.Rules[i]; deref(r.Status) == "Enabled" {
			rules = append(rules, r)
		}
	}
	ctx = overcast.WithCaller(ctx, lifecycleCaller)
	done, err := s.expireObjects(ctx, bucket, rules, now, lifecycleBatch)
	if err != nil {
		return controller.Result{}, err
	}
	aborted, err := s.abortUploads(ctx, bucket, rules, now, lifecycleBatch-done)
	if err != nil {
		return controller.Result{}, err
	}
	if done+aborted >= lifecycleBatch {
		return controller.Result{Requeue: true}, nil
	}
	return controller.At(now.Truncate(24 * time.Hour).Add(24 * time.Hour)), nil
}

// lifecycleDue is when an action days after t falls due.
func lifecycleDue(t time.Time, days int32) time.Time {
	d := t.UTC().AddDate(0, 0, int(days))
	if m := d.Truncate(24 * time.Hour); m.Before(d) {
		return m.Add(24 * time.Hour)
	}
	return d
}

// ruleSelects reports whether r's filter selects version o of key. Delete
// markers have no tags and no size: a rule filtering on either leaves them.
func ruleSelects(r *api.LifecycleRule, key string, o *objectRecord) bool {
	prefix := deref(r.Prefix)
	var tags []api.Tag
	var larger, smaller *int64
	if f := r.Filter; f != nil {
		prefix, larger, smaller = deref(f.Prefix), f.ObjectSizeGreaterThan, f.ObjectSizeLessThan
		if f.Tag != nil {
			tags = append(tags, *f.Tag)
		}
		if a := f.And; a != nil {
			prefix, larger, smaller = deref(a.Prefix), a.ObjectSizeGreaterThan, a.ObjectSizeLessThan
			tags = append(tags, a.Tags...)
		}
	}
	if !strings.HasPrefix(key, prefix) {
		return false
	}
	if o.DeleteMarker {
		return len(tags) == 0 && larger == nil && smaller == nil
	}
	if (larger != nil && o.Size <= *larger) || (smaller != nil && o.Size >= *smaller) {
		return false
	}
	for _, t := range tags {
		if !slices.Contains(o.Tags, tag{Key: deref(t.Key), Value: deref(t.Value)}) {
			return false
		}
	}
	return true
}

// keyPlan is what the rules do to one key's versions (newest first).
type keyPlan struct {
	expireCurrent bool            // the current version expires
	remove        []*objectRecord // versions (or delete markers) to delete for good
}

func (p keyPlan) empty() bool { return !p.expireCurrent && len(p.remove) == 0 }

func planKey(rules []*api.LifecycleRule, key string, versions []*objectRecord, now time.Time) keyPlan {
	var p keyPlan
	if len(versions) == 0 {
		return p
	}
	cur := versions[0]
	removing := map[uint64]bool{}
	for _, r := range rules {
		if e := r.Expiration; e != nil && ruleSelects(r, key, cur) {
			switch {
			case cur.DeleteMarker:
				if isTrue(e.ExpiredObjectDeleteMarker) && len(versions) == 1 && !removing[cur.Seq] {
					removing[cur.Seq] = true
					p.remove = append(p.remove, cur)
				}
			case e.Days != nil && !now.Before(lifecycleDue(cur.Modified, *e.Days)),
				e.Date != nil && !now.Before(*e.Date):
				p.expireCurrent = true
			}
		}
		if e := r.NoncurrentVersionExpiration; e != nil && e.NoncurrentDays != nil {
			// The newest NewerNoncurrentVersions noncurrent versions stay
			// whatever their age.
			keep := int(deref32(e.NewerNoncurrentVersions))
			for i := 1 + keep; i < len(versions); i++ {
				v := versions[i]
				noncurrentSince := versions[i-1].Modified
				if removing[v.Seq] || !ruleSelects(r, key, v) || now.Before(lifecycleDue(noncurrentSince, *e.NoncurrentDays)) {
					continue
				}
				removing[v.Seq] = true
				p.remove = append(p.remove, v)
			}
		}
	}
	return p
}

// expireObjects applies the rules' expirations to the bucket's objects,
// making at most limit changes; it returns how many it made.
func (s *Service) expireObjects(ctx context.Context, bucket string, rules []*api.LifecycleRule, now time.Time, limit int) (int, error) {
	// Find the keys with something due in one snapshot, then act on each
	// in a transaction of its own that decides again.
	var due []string
	err := s.view(ctx, func(tx store.Tx) error {
		sc := &scanner{tx: tx, table: tableObject, prefix: bucket + sep}
		var key string
		var versions []*objectRecord
		flush := func() {
			if len(versions) > 0 && len(due) < limit && !planKey(rules, key, versions, now).empty() {
				due = append(due, key)
			}
		}
		for {
			it, ok, err := sc.next()
			if err != nil {
				return err
			}
			if !ok || len(due) >= limit {
				flush()
				return nil
			}
			k, _, ok := splitObjectKey(bucket, it.Key)
			if !ok {
				continue
			}
			if k != key {
				flush()
				key, versions = k, nil
			}
			var o objectRecord
			if err := json.Unmarshal(it.Value, &o); err != nil {
				return fmt.Errorf("s3: decode %q: %w", it.Key, err)
			}
			versions = append(versions, &o)
		}
	})
	if err != nil {
		return 0, err
	}
	changes := 0
	for _, key := range due {
		err := s.update(ctx, func(tx store.Tx, c *change) error {
			b, err := s.getBucket(tx, bucket)
			if err != nil {
				return err
			}
			versions, err := keyVersions(tx, bucket, key, 0)
			if err != nil {
				return err
			}
			return s.applyPlan(ctx, tx, c, b, key, planKey(rules, key, versions, now), now)
		})
		if err != nil {
			return changes, err
		}
		changes++
	}
	return changes, nil
}

// applyPlan makes one key's lifecycle changes. Versions Object Lock
// protects stay.
func (s *Service) applyPlan(ctx context.Context, tx store.Tx, c *change, b *bucketRecord, key string, p keyPlan, now time.Time) error {
	for _, v := range p.remove {
		if checkRemovable(ctx, b, key, v, false, now) != nil {
			continue
		}
		if err := s.removeVersion(tx, c, b.Name, key, v); err != nil {
			return err
		}
		c.events = append(c.events, s.objectEvent(ctx, b, "LifecycleExpiration:Delete", key, v))
	}
	if !p.expireCurrent {
		return nil
	}
	if !b.versioned() {
		cur, err := latestVersion(tx, b.Name, key)
		if err != nil || cur == nil {
			return err
		}
		c.events = append(c.events, s.objectEvent(ctx, b, "LifecycleExpiration:Delete", key, cur))
		return s.removeVersion(tx, c, b.Name, key, cur)
	}
	// A versioned bucket keeps the expired version, behind a delete marker.
	c.lifecycle = true
	marker := &objectRecord{DeleteMarker: true, Modified: now, Owner: b.Owner}
	return s.newVersion(ctx, tx, c, b, key, marker, nil, "LifecycleExpiration:DeleteMarkerCreated")
}

// abortUploads aborts the bucket's multipart uploads that the rules'
// AbortIncompleteMultipartUpload has made due, at most limit of them.
func (s *Service) abortUploads(ctx context.Context, bucket string, rules []*api.LifecycleRule, now time.Time, limit int) (int, error) {
	isDue := func(u *uploadRecord) bool {
		for _, r := range rules {
			if a := r.AbortIncompleteMultipartUpload; a != nil && a.DaysAfterInitiation != nil &&
				ruleSelects(r, u.Key, &objectRecord{}) && !now.Before(lifecycleDue(u.Initiated, *a.DaysAfterInitiation)) {
				return true
			}
		}
		return false
	}
	var due []uploadRecord
	err := s.view(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, tableUpload, store.ScanOptions{Prefix: bucket + sep}, func(_ string, u uploadRecord, _ int64) error {
			if len(due) >= limit {
				return store.ErrStop
			}
			if isDue(&u) {
				due = append(due, u)
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	for i := range due {
		err := s.update(ctx, func(tx store.Tx, c *change) error {
			u, err := getUpload(tx, bucket, due[i].Key, due[i].ID)
			if isCode(err, "NoSuchUpload") {
				return nil // completed or aborted meanwhile
			}
			if err != nil {
				return err
			}
			return s.dropUpload(tx, c, u)
		})
		if err != nil {
			return i, err
		}
	}
	return len(due), nil
}
