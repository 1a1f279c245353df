package s3

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	api "overcast/internal/api/s3"
	"overcast/internal/awsproto"
	"overcast/internal/blob"
	"overcast/internal/bus"
	"overcast/internal/controller"
	"overcast/internal/policy"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Service implements S3's API (api.Server), its website endpoint, bucket
// CORS for the gateway, and ReadObjectAs for CloudFront.
type Service struct {
	api.UnimplementedServer

	service.Base
	blobs       blob.Store
	inlineLimit int // object bytes up to this size live in the store, with the metadata; tests lower it
	keys        KeyLookup
	strict      bool

	clock versionClock
	inUse blobsInUse

	bucketsMu sync.Mutex
	buckets   map[string]cachedBucket // see getBucket

	// bucketAPI serves the bucket requests ServeRaw readdresses.
	bucketAPI *awsproto.Handler
	// lifecycle applies buckets' lifecycle rules; see lifecycle.go.
	lifecycle *controller.Controller
	// replication copies versions to replication destinations; see
	// replication.go.
	replication *controller.Controller
}

var _ api.Server = (*Service)(nil)

// defaultInlineLimit is the size up to which object bytes live in the
// store with their metadata rather than in a blob.
const defaultInlineLimit = 128 << 10

// New returns the service. keys verifies the signatures of browser POST
// uploads, which S3 checks itself; nil accepts any (as the gateway does
// outside --strict).
func New(env *service.Env, keys KeyLookup) *Service {
	s := &Service{Base: env.Base(), blobs: env.Blobs,
		inlineLimit: defaultInlineLimit, keys: keys, strict: env.Strict}
	s.clock.now = env.Clock.Now
	s.buckets = map[string]cachedBucket{}
	s.inUse.refs = map[string]int{}
	s.inUse.doomed = map[string]bool{}
	s.bucketAPI = awsproto.NewHandler(api.Bind(s), env.Logger)
	s.lifecycle = env.Controllers.AddFunc("s3-lifecycle", s.reconcileLifecycle, s.lifecycleBuckets)
	s.replication = env.Controllers.AddFunc("s3-replication", s.reconcileReplication, s.pendingReplications)
	return s
}

// BucketHostSuffix is the host suffix of virtual-hosted-style requests:
// <bucket>.s3.localhost.
const BucketHostSuffix = ".s3.localhost"

// API is S3's API for the gateway, with what sets S3 apart from other
// APIs: unsigned requests are anonymous (bucket policies decide), requests
// that name no service are S3's (as at AWS's bare endpoint), SigV2
// presigned URLs work, buckets are reachable as virtual hosts, and buckets
// answer CORS with their own configuration.
func (s *Service) API() service.API {
	return service.API{Binding: api.Bind(s), Authz: &table, Anonymous: true, Fallback: true, PresignedV2: true,
		VirtualHosts: []string{BucketHostSuffix}, CORS: s}
}

// Planes are the website endpoint, by host and, without DNS, by path.
func (s *Service) Planes() []service.Plane {
	website := http.HandlerFunc(s.serveWebsite)
	return []service.Plane{
		{Name: "s3-website", Match: service.PathPrefix(WebsitePathPrefix), Handler: website},
		{Name: "s3-website", Match: func(r *http.Request) bool { _, ok := websiteHost(r.Host); return ok }, Handler: website},
	}
}

// Start deletes the blobs a crash left behind; see Recover.
func (s *Service) Start(ctx context.Context) error { return s.Recover(ctx) }

// Recover deletes the blobs a crash left behind: those written but never
// referenced (an upload killed before its metadata committed) and those
// dereferenced but not yet deleted. Incomplete multipart uploads are kept:
// they are listable and can be completed or aborted.
func (s *Service) Recover(ctx context.Context) error {
	ids, err := store.TableKeys(ctx, s.Store, tableOrphan)
	if err != nil {
		return fmt.Errorf("s3: recover: %w", err)
	}
	return s.deleteBlobs(ctx, ids)
}

// deleteBlobs deletes blobs listed in tableOrphan and then their entries.
// Blobs a GET is still streaming are deleted when it finishes.
func (s *Service) deleteBlobs(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	var done []string
	for _, id := range ids {
		if s.inUse.deferDelete(id) {
			continue
		}
		if err := s.blobs.Delete(ctx, id); err != nil {
			s.Logger.Error("s3: deleting blob", "blob", id, "err", err)
			continue
		}
		done = append(done, id)
	}
	return s.forgetOrphans(ctx, done)
}

func (s *Service) forgetOrphans(ctx context.Context, ids []string) error {
	for len(ids) > 0 {
		n := min(len(ids), 500)
		batch := ids[:n]
		ids = ids[n:]
		err := s.Store.Update(ctx, func(tx store.Tx) error {
			for _, id := range batch {
				if err := tx.Delete(tableOrphan, id, store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("s3: %w", err)
		}
	}
	return nil
}

// change collects what a write transaction leaves to do once it commits.
type change struct {
	orphans   []string // blobs no longer referenced
	events    []bus.Event
	replicate []string // versions to replicate (tableReplication keys)
	// lifecycle marks changes a lifecycle rule makes, which S3 does not
	// replicate.
	lifecycle bool
}

// orphan records, inside tx, that blobs are no longer referenced.
func (c *change) orphan(tx store.Tx, ids ...string) error {
	for _, id := range ids {
		if _, err := tx.Put(tableOrphan, id, nil, store.AnyVersion); err != nil {
			return err
		}
		c.orphans = append(c.orphans, id)
	}
	return nil
}

// updateAttempts bounds update's retries. On PostgreSQL, SERIALIZABLE
// tracks reads by index page, so concurrent writes to neighbouring keys
// (distinct objects of one bucket) abort one another now and then although
// they do not really conflict; the retries absorb that, and past them the
// client gets SlowDown to retry in its turn.
const updateAttempts = 20

// update runs fn in a store transaction (retrying lost races), then deletes
// the blobs it orphaned and wakes event subscribers.
func (s *Service) update(ctx context.Context, fn func(tx store.Tx, c *change) error) error {
	var c change
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		c = change{}
		if err := fn(tx, &c); err != nil {
			return err
		}
		if len(c.events) > 0 && s.Bus != nil {
			return s.Bus.Publish(ctx, tx, c.events...)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(c.events) > 0 && s.Bus != nil {
		s.Bus.Notify()
	}
	for _, sk := range c.replicate {
		s.replication.Enqueue(sk)
	}
	if len(c.orphans) > 0 {
		// The request is answered either way; a failure here leaves the
		// entries for Recover.
		if err := s.deleteBlobs(context.WithoutCancel(ctx), c.orphans); err != nil {
			s.Logger.Error("s3: deleting orphaned blobs", "err", err)
		}
	}
	return nil
}

// view runs fn in a read-only snapshot.
func (s *Service) view(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.Store.View(ctx, fn)
}

// getBucketCopy reads a bucket into a record of the caller's own, to
// modify and store.
func getBucketCopy(tx store.Tx, name string) (*bucketRecord, error) {
	var b bucketRecord
	if _, err := store.GetJSON(tx, tableBucket, name, &b); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errNoSuchBucket(name)
		}
		return nil, err
	}
	return &b, nil
}

// getBucket reads a bucket for reading only: every object operation does,
// so the decoded record (and its parsed policy) is kept while the stored
// bytes stay the same. Callers must not modify it.
func (s *Service) getBucket(tx store.Tx, name string) (*bucketRecord, error) {
	it, err := tx.Get(tableBucket, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSuchBucket(name)
	}
	if err != nil {
		return nil, err
	}
	s.bucketsMu.Lock()
	c, ok := s.buckets[name]
	s.bucketsMu.Unlock()
	if ok && bytes.Equal(c.raw, it.Value) {
		return c.b, nil
	}
	var b bucketRecord
	if err := json.Unmarshal(it.Value, &b); err != nil {
		return nil, fmt.Errorf("s3: decode bucket %s: %w", name, err)
	}
	if b.Policy != "" {
		b.parsed, _ = policy.Parse(b.Policy)
	}
	s.bucketsMu.Lock()
	if len(s.buckets) > 10_000 {
		clear(s.buckets)
	}
	s.buckets[name] = cachedBucket{raw: it.Value, b: &b}
	s.bucketsMu.Unlock()
	return &b, nil
}

// authorizedBucket reads a bucket, as getBucket does, and returns it when
// the caller in ctx may perform action on it (and key).
func (s *Service) authorizedBucket(ctx context.Context, tx store.Tx, name, action, key string, extra map[string]string) (*bucketRecord, error) {
	b, err := s.getBucket(tx, name)
	if err != nil {
		return nil, err
	}
	if err := authorize(ctx, b, action, key, extra); err != nil {
		return nil, err
	}
	return b, nil
}

type cachedBucket struct {
	raw []byte
	b   *bucketRecord
}

// versionClock hands out increasing sequence numbers that double as
// timestamps (nanoseconds), so version order is creation order even when
// the wall clock stalls.
type versionClock struct {
	mu   sync.Mutex
	now  func() time.Time
	last uint64
}

// next returns a seq greater than every one before and than floor.
func (c *versionClock) next(floor uint64) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := uint64(c.now().UnixNano())
	n = max(n, c.last+1, floor+1)
	c.last = n
	return n
}

// blobsInUse counts readers streaming each blob, so that deleting an
// object while a GET streams it lets the GET finish: the deletion waits for
// the last reader.
type blobsInUse struct {
	mu     sync.Mutex
	refs   map[string]int
	doomed map[string]bool
}

func (u *blobsInUse) acquire(ids []string) {
	u.mu.Lock()
	for _, id := range ids {
		u.refs[id]++
	}
	u.mu.Unlock()
}

// release drops the references and returns the blobs that are now free to
// delete.
func (u *blobsInUse) release(ids []string) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var free []string
	for _, id := range ids {
		if u.refs[id]--; u.refs[id] <= 0 {
			delete(u.refs, id)
			if u.doomed[id] {
				delete(u.doomed, id)
				free = append(free, id)
			}
		}
	}
	return free
}

// deferDelete reports whether id is being read; if so it is deleted when
// the last reader releases it.
func (u *blobsInUse) deferDelete(id string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.refs[id] > 0 {
		u.doomed[id] = true
		return true
	}
	return false
}

// releaseBlobs is called when a reader finishes.
func (s *Service) releaseBlobs(ids []string) {
	if free := s.inUse.release(ids); len(free) > 0 {
		if err := s.deleteBlobs(context.Background(), free); err != nil {
			s.Logger.Error("s3: deleting released blobs", "err", err)
		}
	}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

func encodeB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// escapePath escapes a key for a URL path, keeping its slashes.
func escapePath(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}
