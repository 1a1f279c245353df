package s3

import (
	"context"
	"net/http"
	"strings"

	"overcast"
	api "overcast/internal/api/s3"
	"overcast/internal/controller"
	"overcast/internal/store"
)

// Replication: a bucket's replication configuration, validated as S3
// validates it, and a controller that copies each new version it selects
// to the destination bucket (any region: buckets share one namespace).
//
// Writing a selected version records a replicationTask in the same
// transaction and marks the version PENDING; the s3-replication controller
// copies it (bytes, metadata, content headers, tags, the same version ID and
// seq) to the destination, marked REPLICA, and marks the source COMPLETED,
// or FAILED when the destination is gone or no longer versioned. The task
// is deleted in the transaction that does so: a restart finds the tasks
// left and finishes them. Replicas are written past writeVersion, so they
// are never replicated again; versions written before the configuration,
// and delete markers lifecycle rules make, have no task.

// tableReplication holds the versions waiting to be replicated.
const tableReplication = "s3.replication" // tableObject key of the source version NUL destination bucket → replicationTask

// Replication statuses, as x-amz-replication-status reports them.
const (
	replicationPending   = "PENDING"
	replicationCompleted = "COMPLETED"
	replicationFailed    = "FAILED"
	replicationReplica   = "REPLICA"
)

// replicationTask is one version to copy.
type replicationTask struct {
	Bucket       string `json:"bucket"`
	Key          string `json:"key"`
	Dest         string `json:"dest"`         // destination bucket name
	StorageClass string `json:"sc,omitempty"` // the rule's Destination.StorageClass; "" keeps the source's
}

// replicationCaller is who acts in replication events: S3 itself.
var replicationCaller = overcast.Caller{ARN: "s3.amazonaws.com"}

// destinationBucket returns the bucket name of a destination ARN.
func destinationBucket(arn string) (string, bool) {
	name, ok := strings.CutPrefix(arn, "arn:aws:s3:::")
	return name, ok && validBucketName(name)
}

// isV2 reports whether a rule is in the current schema (it has a Filter),
// which needs a Priority and a DeleteMarkerReplication; rules with the
// legacy Prefix always replicate delete markers.
func isV2(r *api.ReplicationRule) bool { return r.Filter != nil }

// validateReplication refuses a configuration S3 would refuse, with its
// error: MalformedXML for what its schema rules out, InvalidArgument for a
// bad value, InvalidRequest for what it does not allow. The buckets it
// names are checked by checkReplicationBuckets.
func validateReplication(cfg *api.ReplicationConfiguration) error {
	if cfg == nil || deref(cfg.Role) == "" || len(cfg.Rules) == 0 || len(cfg.Rules) > 1000 {
		return errMalformedXML()
	}
	ids := map[string]bool{}
	for i := range cfg.Rules {
		if err := validateReplicationRule(ids, &cfg.Rules[i]); err != nil {
			return err
		}
	}
	return nil
}

// validateReplicationRule checks one rule; ids are the rule IDs before it.
func validateReplicationRule(ids map[string]bool, r *api.ReplicationRule) error {
	if err := checkRuleID(ids, deref(r.ID)); err != nil {
		return err
	}
	if s := deref(r.Status); s != "Enabled" && s != "Disabled" {
		return errMalformedXML()
	}
	if r.Destination == nil || r.Destination.Bucket == nil || (r.Prefix != nil && r.Filter != nil) {
		return errMalformedXML()
	}
	if f := r.Filter; f != nil {
		n := 0
		for _, set := range []bool{f.Prefix != nil, f.Tag != nil, f.And != nil} {
			if set {
				n++
			}
		}
		if n > 1 {
			return errMalformedXML()
		}
	}
	if _, ok := destinationBucket(*r.Destination.Bucket); !ok {
		return errInvalidArgument("Invalid bucket ARN.", "Bucket", *r.Destination.Bucket)
	}
	if _, err := storageClass(r.Destination.StorageClass); err != nil {
		return err
	}
	if !isV2(r) {
		return nil
	}
	if r.Priority == nil {
		return errInvalidRequest("Priority must be specified for this version of Cross Region Replication configuration schema. Please refer to S3 Developer Guide for more information.")
	}
	if r.DeleteMarkerReplication == nil {
		return errInvalidRequest("DeleteMarkerReplication must be specified for this version of Cross Region Replication configuration schema. Please refer to S3 Developer Guide for more information.")
	}
	if deref(r.DeleteMarkerReplication.Status) == "Enabled" && len(filterTags(r.Filter)) > 0 {
		return errInvalidRequest("Delete marker replication is not supported if any Tag filter is specified. Please refer to S3 Developer Guide for more information.")
	}
	return nil
}

// checkReplicationBuckets checks the source and destination buckets of a
// valid configuration: both versioned, the destinations existing and not
// the source.
func checkReplicationBuckets(tx store.Tx, src *bucketRecord, cfg *api.ReplicationConfiguration) error {
	if src.Versioning != "Enabled" {
		return errInvalidRequest("Versioning must be 'Enabled' on the bucket to apply a replication configuration")
	}
	for i := range cfg.Rules {
		name, _ := destinationBucket(*cfg.Rules[i].Destination.Bucket)
		if name == src.Name {
			return errInvalidRequest("Destination bucket cannot be the same as the source bucket.")
		}
		var dest bucketRecord
		if _, err := store.GetJSON(tx, tableBucket, name, &dest); isNotFound(err) {
			return errInvalidRequest("Destination bucket must exist.")
		} else if err != nil {
			return err
		}
		if dest.Versioning != "Enabled" {
			return errInvalidRequest("Destination bucket must have versioning enabled.")
		}
	}
	return nil
}

func filterTags(f *api.ReplicationRuleFilter) []api.Tag {
	if f == nil {
		return nil
	}
	var tags []api.Tag
	if f.Tag != nil {
		tags = append(tags, *f.Tag)
	}
	if f.And != nil {
		tags = append(tags, f.And.Tags...)
	}
	return tags
}

// replicationSelects reports whether r selects version o of key, by the
// lifecycle filter of the same shape.
func replicationSelects(r *api.ReplicationRule, key string, o *objectRecord) bool {
	lr := &api.LifecycleRule{Prefix: r.Prefix}
	if f := r.Filter; f != nil {
		lr.Filter = &api.LifecycleRuleFilter{Prefix: f.Prefix, Tag: f.Tag}
		if f.And != nil {
			lr.Filter.And = &api.LifecycleRuleAndOperator{Prefix: f.And.Prefix, Tags: f.And.Tags}
		}
	}
	return ruleSelects(lr, key, o)
}

// replicationFor returns the tasks for a new version of key in b: one a
// destination some enabled rule selecting it names. Of the rules that
// name a destination and select the version, the one with the highest
// Priority wins; a delete marker is replicated only when that rule says so.
func replicationFor(b *bucketRecord, key string, o *objectRecord) []*replicationTask {
	if b.Replication == nil || b.Versioning != "Enabled" {
		return nil
	}
	best := map[string]*api.ReplicationRule{}
	var dests []string
	for i := range b.Replication.Rules {
		r := &b.Replication.Rules[i]
		if deref(r.Status) != "Enabled" || !replicationSelects(r, key, o) {
			continue
		}
		dest, _ := destinationBucket(*r.Destination.Bucket)
		if cur, ok := best[dest]; !ok {
			dests = append(dests, dest)
		} else if deref32(r.Priority) <= deref32(cur.Priority) {
			continue
		}
		best[dest] = r
	}
	var tasks []*replicationTask
	for _, dest := range dests {
		r := best[dest]
		if o.DeleteMarker && isV2(r) && deref(r.DeleteMarkerReplication.Status) != "Enabled" {
			continue
		}
		class, _ := storageClass(r.Destination.StorageClass)
		tasks = append(tasks, &replicationTask{Bucket: b.Name, Key: key, Dest: dest, StorageClass: class})
	}
	return tasks
}

// scheduleReplication records, inside tx, that the version stored at sk
// is to be replicated to each task's destination; the controller hears of
// it once tx commits.
func (c *change) scheduleReplication(tx store.Tx, sk string, tasks []*replicationTask) error {
	for _, t := range tasks {
		tk := sk + sep + t.Dest
		if _, err := store.PutJSON(tx, tableReplication, tk, t, store.AnyVersion); err != nil {
			return err
		}
		c.replicate = append(c.replicate, tk)
	}
	return nil
}

// sourceKey is the tableObject key of the version a task key replicates.
func sourceKey(taskKey string) string { return taskKey[:strings.LastIndex(taskKey, sep)] }

func (s *Service) PutBucketReplication(ctx context.Context, in *api.PutBucketReplicationRequest) error {
	cfg := in.ReplicationConfiguration
	if err := validateReplication(cfg); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx, c *change) error {
		b, err := getBucketCopy(tx, *in.Bucket)
		if err != nil {
			return err
		}
		if err := ownerOnly(ctx, b, "s3:PutReplicationConfiguration"); err != nil {
			return err
		}
		if err := checkReplicationBuckets(tx, b, cfg); err != nil {
			return err
		}
		b.Replication = cfg
		_, err = store.PutJSON(tx, tableBucket, b.Name, b, store.AnyVersion)
		return err
	})
}

func (s *Service) GetBucketReplication(ctx context.Context, in *api.GetBucketReplicationRequest) (*api.GetBucketReplicationOutput, error) {
	cfg, err := bucketPart(ctx, s, *in.Bucket, "s3:GetReplicationConfiguration", "ReplicationConfigurationNotFoundError",
		"The replication configuration was not found",
		func(b *bucketRecord) (*api.ReplicationConfiguration, bool) {
			return b.Replication, b.Replication != nil
		})
	if err != nil {
		return nil, err
	}
	return &api.GetBucketReplicationOutput{ReplicationConfiguration: cfg}, nil
}

func (s *Service) DeleteBucketReplication(ctx context.Context, in *api.DeleteBucketReplicationRequest) error {
	return s.setBucket(ctx, *in.Bucket, "s3:PutReplicationConfiguration", func(b *bucketRecord) { b.Replication = nil })
}

// pendingReplications lists the versions waiting to be replicated: the
// controller's keys, so a restart resumes them.
func (s *Service) pendingReplications(ctx context.Context) ([]string, error) {
	return store.TableKeys(ctx, s.Store, tableReplication)
}

// reconcileReplication copies one pending version to one destination.
// The bytes are copied first (blobs cloned, recorded as orphans), then one
// transaction writes the replica, marks the source and drops the task.
func (s *Service) reconcileReplication(ctx context.Context, tk string) (controller.Result, error) {
	sk := sourceKey(tk)
	var t replicationTask
	var src *objectRecord
	var inline []byte
	destOK := false
	err := s.view(ctx, func(tx store.Tx) error {
		if _, err := store.GetJSON(tx, tableReplication, tk, &t); err != nil {
			return err
		}
		var o objectRecord
		if _, err := store.GetJSON(tx, tableObject, sk, &o); isNotFound(err) {
			return nil // the version was deleted: nothing to copy
		} else if err != nil {
			return err
		}
		src = &o
		var err error
		if inline, err = inlineBytes(tx, t.Bucket, t.Key, src); err != nil {
			return err
		}
		dest, err := s.getBucket(tx, t.Dest)
		if err != nil && !isCode(err, "NoSuchBucket") {
			return err
		}
		destOK = err == nil && dest.Versioning == "Enabled"
		return nil
	})
	if isNotFound(err) {
		return controller.Result{}, nil // done already
	}
	if err != nil {
		return controller.Result{}, err
	}
	var replica objectRecord
	if src != nil {
		replica = *src
		replica.Replication = replicationReplica
		if t.StorageClass != "" {
			replica.StorageClass = t.StorageClass
		}
		if destOK && !src.Inline {
			if err := s.copyBlobs(ctx, src, &replica); err != nil {
				return controller.Result{}, err
			}
		} else {
			replica.Segments = nil
		}
	}
	ctx = overcast.WithCaller(ctx, replicationCaller)
	err = s.update(ctx, func(tx store.Tx, c *change) error {
		return s.finishReplication(ctx, tx, c, tk, &t, src, &replica, inline, destOK)
	})
	if err != nil {
		s.discard(ctx, replica.blobIDs()...)
		return controller.Result{}, err
	}
	return controller.Result{}, nil
}

// finishReplication writes the replica, drops the task and updates the
// source's status: FAILED once a destination fails, COMPLETED when the last
// destination succeeds. destOK says whether the bytes were copied for a
// destination that could take them; it must still be so now.
func (s *Service) finishReplication(ctx context.Context, tx store.Tx, c *change, tk string, t *replicationTask,
	src, replica *objectRecord, inline []byte, destOK bool) error {
	sk := sourceKey(tk)
	if err := tx.Delete(tableReplication, tk, store.AnyVersion); isNotFound(err) {
		return c.orphan(tx, replica.blobIDs()...) // another pass finished it
	} else if err != nil {
		return err
	}
	var cur objectRecord
	if _, err := store.GetJSON(tx, tableObject, sk, &cur); isNotFound(err) || src == nil {
		return c.orphan(tx, replica.blobIDs()...)
	} else if err != nil {
		return err
	}
	status := replicationCompleted
	dest, err := getBucketCopy(tx, t.Dest)
	if isCode(err, "NoSuchBucket") || (err == nil && dest.Versioning != "Enabled") || !destOK {
		status = replicationFailed
	} else if err != nil {
		return err
	}
	if status == replicationCompleted {
		if err := putReplica(tx, c, dest.Name, t.Key, replica, inline); err != nil {
			return err
		}
	} else if err := c.orphan(tx, replica.blobIDs()...); err != nil {
		return err
	}
	if status == replicationFailed {
		if b, err := s.getBucket(tx, t.Bucket); err == nil {
			c.events = append(c.events, s.objectEvent(ctx, b, "Replication:OperationFailedReplication", t.Key, &cur))
		}
	}
	if cur.DeleteMarker || cur.Replication == replicationFailed {
		return nil // delete markers report no status; a failure stays
	}
	if status == replicationCompleted {
		others, err := tx.Count(tableReplication, sk+sep)
		if err != nil {
			return err
		}
		if others > 0 {
			return nil // PENDING until every destination has its copy
		}
	}
	cur.Replication = status
	_, err = store.PutJSON(tx, tableObject, sk, &cur, store.AnyVersion)
	return err
}

// putReplica stores a replica under its source's seq and version ID,
// unless an earlier pass already did.
func putReplica(tx store.Tx, c *change, bucket, key string, replica *objectRecord, inline []byte) error {
	sk := objectKey(bucket, key, replica.Seq)
	if _, err := tx.Get(tableObject, sk); err == nil {
		return c.orphan(tx, replica.blobIDs()...)
	} else if !isNotFound(err) {
		return err
	}
	if _, err := store.PutJSON(tx, tableObject, sk, replica, store.AnyVersion); err != nil {
		return err
	}
	if replica.Inline {
		if _, err := tx.Put(tableData, sk, inline, store.AnyVersion); err != nil {
			return err
		}
	}
	return adopt(tx, replica.blobIDs()...)
}

// errReplicationVersioning refuses suspending versioning on a bucket that
// replicates.
func errReplicationVersioning(bucket string) error {
	return s3err(http.StatusConflict, "InvalidBucketState",
		"Replication configuration is present on this bucket, so the versioning state cannot be changed.", "BucketName", bucket)
}
