package s3

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	api "overcast/internal/api/s3"
	"overcast/internal/service/servicetest"
	"overcast/internal/store"
)

// replicatingBuckets makes versioned buckets src and dst and replicates
// src to dst by rules.
func replicatingBuckets(t *testing.T, s *Service, rules ...api.ReplicationRule) {
	t.Helper()
	ctx := context.Background()
	for _, name := range []string{"src", "dst"} {
		if _, err := s.CreateBucket(ctx, &api.CreateBucketRequest{Bucket: new(name)}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutBucketVersioning(ctx, &api.PutBucketVersioningRequest{Bucket: new(name),
			VersioningConfiguration: &api.VersioningConfiguration{Status: new("Enabled")}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutBucketReplication(ctx, &api.PutBucketReplicationRequest{Bucket: new("src"),
		ReplicationConfiguration: &api.ReplicationConfiguration{Role: new("arn:aws:iam::000000000000:role/r"), Rules: rules}}); err != nil {
		t.Fatal(err)
	}
}

func putString(t *testing.T, s *Service, bucket, key, body string) *api.PutObjectOutput {
	t.Helper()
	out, err := s.PutObject(context.Background(), &api.PutObjectRequest{Bucket: new(bucket), Key: new(key),
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: new(int64(len(body)))})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func replicationStatus(t *testing.T, s *Service, bucket, key, version string) string {
	t.Helper()
	out, err := s.HeadObject(context.Background(), &api.HeadObjectRequest{Bucket: new(bucket), Key: new(key), VersionId: nonEmpty(version)})
	if err != nil {
		return err.Error()
	}
	return deref(out.ReplicationStatus)
}

func pendingTasks(t *testing.T, db store.Store) []string {
	t.Helper()
	keys, err := store.TableKeys(context.Background(), db, tableReplication)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestReplicationResumesAfterRestart writes versions while no controller
// runs, as a server killed right after answering leaves them: PENDING at
// once, each a task in the store. A new service on the same state
// replicates them.
func TestReplicationResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	env := servicetest.Env(t, servicetest.InDir(dir))
	s := New(env, nil)
	replicatingBuckets(t, s, api.ReplicationRule{Status: new("Enabled"), Priority: new(int32(1)),
		Filter: &api.ReplicationRuleFilter{Prefix: new("docs/")}, Destination: &api.Destination{Bucket: new("arn:aws:s3:::dst")},
		DeleteMarkerReplication: &api.DeleteMarkerReplication{Status: new("Enabled")}})
	a := putString(t, s, "src", "docs/a", "alpha")
	putString(t, s, "src", "docs/b", "beta")
	other := putString(t, s, "src", "other", "not selected")
	if _, err := s.DeleteObject(context.Background(), &api.DeleteObjectRequest{Bucket: new("src"), Key: new("docs/b")}); err != nil {
		t.Fatal(err)
	}
	if got := replicationStatus(t, s, "src", "docs/a", ""); got != "PENDING" {
		t.Errorf("docs/a right after PUT: got status %q, want PENDING", got)
	}
	if got := replicationStatus(t, s, "src", "other", *other.VersionId); got != "" {
		t.Errorf("an object no rule selects: got status %q, want none", got)
	}
	if got := len(pendingTasks(t, env.Store)); got != 3 {
		t.Errorf("got %d pending tasks, want 3 (two versions and a delete marker)", got)
	}

	env2 := servicetest.Env(t, servicetest.InDir(dir))
	s2 := New(env2, nil)
	env2.Controllers.Start()
	servicetest.WaitFor(t, "the pending replications", func() bool { return len(pendingTasks(t, env2.Store)) == 0 })
	if got := replicationStatus(t, s2, "src", "docs/a", ""); got != "COMPLETED" {
		t.Errorf("docs/a source: got status %q, want COMPLETED", got)
	}
	if got := replicationStatus(t, s2, "dst", "docs/a", *a.VersionId); got != "REPLICA" {
		t.Errorf("docs/a replica with the source's version ID: got status %q, want REPLICA", got)
	}
	versions, err := s2.ListObjectVersions(context.Background(), &api.ListObjectVersionsRequest{Bucket: new("dst")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range versions.Versions {
		got = append(got, "version "+deref(v.Key))
	}
	for _, m := range versions.DeleteMarkers {
		got = append(got, "marker "+deref(m.Key))
	}
	want := []string{"version docs/a", "version docs/b", "marker docs/b"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("destination versions (-want +got):\n%s", diff)
	}
}
