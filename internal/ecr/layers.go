package ecr

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"sync"
	"time"

	"overcast/internal/blob"
	"overcast/internal/ecr/registry"
	"overcast/internal/store"
)

// layerLink is a blob linked into a repository.
type layerLink struct {
	Size int64 `json:"size"`
	// At is when the link was made or last reported by a blob check: the
	// garbage collector keeps unreferenced links younger than its grace
	// period.
	At time.Time `json:"at"`
}

// content is the one stored copy of a digest's bytes.
type content struct {
	BlobID string    `json:"blobId"`
	Size   int64     `json:"size"`
	At     time.Time `json:"at"`
	// Registries ("account/region") that have linked the content: a mount
	// without a source repository is allowed only into one of them.
	Registries []string `json:"registries"`
}

// orphan is a blob ID nothing may reference: an upload in progress, or
// content being dropped. At zero means "delete at the next collection".
type orphan struct {
	At time.Time `json:"at"`
}

func hasLayer(tx store.Tx, repo registry.Repo, d string) (bool, error) {
	_, err := tx.Get(layersTable, layerKey(repo, d))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func getLink(tx store.Tx, repo registry.Repo, d string) (layerLink, int64, error) {
	var l layerLink
	ver, err := store.GetJSON(tx, layersTable, layerKey(repo, d), &l)
	return l, ver, err
}

func getContent(tx store.Tx, d string) (content, int64, error) {
	var c content
	ver, err := store.GetJSON(tx, contentTable, d, &c)
	return c, ver, err
}

func registryKey(repo registry.Repo) string { return repo.Account + "/" + repo.Region }

// linkBlob links content d (stored in blobID if it is new) into repo. It
// reports whether the digest's content already existed (blobID is then
// surplus) and whether the repository already had it.
func linkBlob(tx store.Tx, repo registry.Repo, d, blobID string, size int64, now time.Time) (dup, linked bool, err error) {
	c, ver, err := getContent(tx, d)
	switch {
	case errors.Is(err, store.ErrNotFound):
		c = content{BlobID: blobID, Size: size, At: now, Registries: []string{registryKey(repo)}}
		if _, err := store.PutJSON(tx, contentTable, d, c, 0); err != nil {
			return false, false, err
		}
		if err := tx.Delete(orphansTable, blobID, store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
			return false, false, err
		}
	case err != nil:
		return false, false, err
	default:
		dup = true
		if !slices.Contains(c.Registries, registryKey(repo)) {
			c.Registries = append(c.Registries, registryKey(repo))
			if _, err := store.PutJSON(tx, contentTable, d, c, ver); err != nil {
				return false, false, err
			}
		}
	}
	linked, err = hasLayer(tx, repo, d)
	if err != nil {
		return false, false, err
	}
	_, err = store.PutJSON(tx, layersTable, layerKey(repo, d), layerLink{Size: c.Size, At: now}, store.AnyVersion)
	return dup, linked, err
}

// ----- uploads in progress

// upload is a blob being received: the open blob writer and the running
// hash, so that chunks are hashed once, as they arrive.
type upload struct {
	mu   sync.Mutex
	id   string
	repo registry.Repo
	w    blob.Writer
	h    registry.Digester
	size int64
	last time.Time
	// broken is set when a write failed: the stored bytes and the hash
	// disagree, so the upload can only be abandoned.
	broken error
	// parts are the blobs of what the upload received before it was
	// parked, and version its record's, when replicas share the store
	// (handoff.go).
	parts   []string
	version int64
}

type uploads struct {
	mu sync.Mutex
	m  map[string]*upload
}

func newUploads() *uploads { return &uploads{m: map[string]*upload{}} }

func (us *uploads) get(id string) *upload {
	us.mu.Lock()
	defer us.mu.Unlock()
	return us.m[id]
}

func (us *uploads) take(id string) *upload {
	us.mu.Lock()
	defer us.mu.Unlock()
	u := us.m[id]
	delete(us.m, id)
	return u
}

// live lists the blob IDs uploads are writing, which collection must spare.
func (us *uploads) live() map[string]bool {
	us.mu.Lock()
	defer us.mu.Unlock()
	out := make(map[string]bool, len(us.m))
	for _, u := range us.m {
		out[u.w.ID()] = true
	}
	return out
}

// idle removes and returns uploads untouched since before cutoff.
func (us *uploads) idle(cutoff time.Time) []*upload {
	us.mu.Lock()
	defer us.mu.Unlock()
	var out []*upload
	for id, u := range us.m {
		if u.mu.TryLock() {
			if u.last.Before(cutoff) {
				out = append(out, u)
				delete(us.m, id)
			}
			u.mu.Unlock()
		}
	}
	return out
}

func (us *uploads) abortAll() {
	us.mu.Lock()
	defer us.mu.Unlock()
	for id, u := range us.m {
		u.w.Abort()
		delete(us.m, id)
	}
}

// startUpload opens a blob writer for repo, recording its ID as an orphan
// first so that a crash mid-upload leaks nothing.
func (s *Service) startUpload(ctx context.Context, repo registry.Repo) (*upload, error) {
	if err := s.repoExists(ctx, repo); err != nil {
		return nil, err
	}
	w, err := s.newUploadWriter(ctx)
	if err != nil {
		return nil, err
	}
	u := &upload{id: s.IDs.UUID(), repo: repo, w: w, h: registry.Canonical.Digester(), last: s.Now()}
	s.uploads.mu.Lock()
	s.uploads.m[u.id] = u
	s.uploads.mu.Unlock()
	// Where replicas share the store, the next request may reach another.
	if err := s.park(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// newUploadWriter opens a blob writer, recording its ID as an orphan
// first so that a crash mid-upload leaks nothing.
func (s *Service) newUploadWriter(ctx context.Context) (blob.Writer, error) {
	w, err := s.blobs.Create(ctx)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := store.PutJSON(tx, orphansTable, w.ID(), orphan{At: now}, store.AnyVersion)
		return err
	})
	if err != nil {
		w.Abort()
		return nil, err
	}
	return w, nil
}

// findUpload is upload id of repo: in memory, or parked in the store by
// another replica.
func (s *Service) findUpload(ctx context.Context, repo registry.Repo, id string) (*upload, error) {
	u := s.uploads.get(id)
	if u == nil && s.shared {
		var err error
		if u, err = s.adopt(ctx, repo, id); err != nil {
			return nil, err
		}
	}
	if u == nil || u.repo != repo {
		return nil, uploadNotFound(repo, id)
	}
	return u, nil
}

// copyBuffers are the chunks uploads are read in: large, to hash and write
// hundreds of megabytes in few calls.
var copyBuffers = sync.Pool{New: func() any { return new([1 << 20]byte) }}

// write appends body to u; offset, when not negative, must be where the
// upload stands.
func (s *Service) write(u *upload, offset int64, body io.Reader) (int64, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.broken != nil {
		return u.size, u.broken
	}
	if offset >= 0 && offset != u.size {
		e := derr(kindLayerPart, "The part starts at byte %d but the upload has %d bytes: parts must be sent in order, without gaps", offset, u.size)
		e.lastByte, e.upload, e.reg, e.repo = u.size-1, u.id, repoOf(u.repo), u.repo.Name
		return u.size, e
	}
	n, rerr, werr := pipeline(body, u.h.Hash(), u.w)
	if werr != nil {
		// The file no longer matches the hash: the upload cannot finish.
		u.broken = derr(kindEmptyUpload, "the upload failed to store its data; start a new upload")
		return u.size, werr
	}
	u.size += n
	u.last = s.Now()
	if rerr != nil {
		return u.size, fmt.Errorf("ecr: reading upload: %w", rerr)
	}
	return u.size, nil
}

// pipeline copies r to w, hashing what it reads into h. Reading and hashing
// (CPU) run on this goroutine while writing (the disk) runs on another, so
// a large layer costs the slower of the two rather than their sum. A body
// that fits one buffer is written directly.
func pipeline(r io.Reader, h hash.Hash, w io.Writer) (n int64, rerr, werr error) {
	first := copyBuffers.Get().(*[1 << 20]byte)
	k, err := io.ReadFull(r, first[:])
	h.Write(first[:k])
	if err != nil {
		defer copyBuffers.Put(first)
		if _, werr := w.Write(first[:k]); werr != nil {
			return 0, nil, werr
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = nil
		}
		return int64(k), err, nil
	}
	type chunk struct {
		b *[1 << 20]byte
		n int
	}
	chunks := make(chan chunk, 3)
	written := make(chan error, 1)
	go func() {
		var err error
		for c := range chunks {
			if err == nil {
				_, err = w.Write(c.b[:c.n])
			}
			copyBuffers.Put(c.b)
		}
		written <- err
	}()
	chunks <- chunk{first, k}
	n = int64(k)
	for {
		buf := copyBuffers.Get().(*[1 << 20]byte)
		k, err := io.ReadFull(r, buf[:])
		if k > 0 {
			h.Write(buf[:k])
			chunks <- chunk{buf, k}
			n += int64(k)
		} else {
			copyBuffers.Put(buf)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			rerr = err
			break
		}
	}
	close(chunks)
	return n, rerr, <-written
}

// finishResult is a completed upload.
type finishResult struct {
	size int64
	// linked: the repository already had the blob (LayerAlreadyExists).
	linked bool
}

// finishJoined finishes u, joining the parts it was parked with first,
// and forgets its parked record either way.
func (s *Service) finishJoined(ctx context.Context, u *upload, d registry.Digest) (finishResult, error) {
	defer s.forget(context.WithoutCancel(ctx), u)
	if err := s.joinParts(ctx, u); err != nil {
		return finishResult{}, err
	}
	return s.finish(ctx, u, d)
}

// finish verifies an upload is d and links it into its repository. A
// mismatch stores nothing.
func (s *Service) finish(ctx context.Context, u *upload, d registry.Digest) (finishResult, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	id := u.w.ID()
	discard := func() {
		u.w.Abort()
		s.blobs.Delete(context.WithoutCancel(ctx), id)
		s.dropOrphan(context.WithoutCancel(ctx), id)
	}
	// Callers parse d, but a malformed one must not reach Algorithm, which
	// panics on it.
	if _, ok := registry.ParseDigest(string(d)); !ok {
		discard()
		return finishResult{}, derr(kindLayerInvalid, "unsupported digest %q", d)
	}
	if d.Algorithm() == registry.Canonical {
		if got := u.h.Digest(); got != d {
			discard()
			return finishResult{}, derr(kindLayerInvalid, "The layer digest %s does not match the digest %s calculated for the uploaded bytes", d, got)
		}
	}
	if err := u.w.Commit(ctx); err != nil {
		discard()
		return finishResult{}, err
	}
	if d.Algorithm() != registry.Canonical {
		// Other algorithms are rare (the spec's sha512): hash again, from
		// disk, rather than run two hashes over every upload.
		got, err := s.digestBlob(ctx, id, d)
		if err != nil || got != d {
			discard()
			if err != nil {
				return finishResult{}, err
			}
			return finishResult{}, derr(kindLayerInvalid, "The layer digest %s does not match the digest %s calculated for the uploaded bytes", d, got)
		}
	}
	var dup, linked bool
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		if _, _, err := getRepo(tx, u.repo); err != nil {
			return err
		}
		var err error
		dup, linked, err = linkBlob(tx, u.repo, string(d), id, u.size, s.Now())
		return err
	})
	if err != nil {
		discard()
		return finishResult{}, err
	}
	if dup {
		s.blobs.Delete(ctx, id)
		s.dropOrphan(ctx, id)
	}
	return finishResult{size: u.size, linked: linked}, nil
}

// digestBlob digests the stored blob id with the algorithm of want.
func (s *Service) digestBlob(ctx context.Context, id string, want registry.Digest) (registry.Digest, error) {
	r, err := s.blobs.Open(ctx, id, 0, -1)
	if err != nil {
		return "", err
	}
	defer r.Close()
	return want.Algorithm().FromReader(r)
}

func (s *Service) dropOrphan(ctx context.Context, id string) {
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		err := tx.Delete(orphansTable, id, store.AnyVersion)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		s.Logger.Warn("ecr: dropping an orphan record", "blob", id, "err", err)
	}
}

func (s *Service) cancel(ctx context.Context, u *upload) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.w.Abort()
	s.dropOrphan(ctx, u.w.ID())
}

// ----- registry.Backend: blobs and uploads

// StartUpload implements registry.Backend.
func (s *Service) StartUpload(ctx context.Context, repo registry.Repo) (string, error) {
	u, err := s.startUpload(ctx, repo)
	if err != nil {
		return "", registryError(err)
	}
	return u.id, nil
}

// UploadSize implements registry.Backend.
func (s *Service) UploadSize(ctx context.Context, repo registry.Repo, id string) (int64, error) {
	u, err := s.findUpload(ctx, repo, id)
	if err != nil {
		return 0, registryError(err)
	}
	u.mu.Lock()
	size := u.size
	u.mu.Unlock()
	// An upload adopted to answer goes back to the store: the next part
	// may reach another replica.
	return size, registryError(s.park(ctx, u))
}

// WriteUpload implements registry.Backend.
func (s *Service) WriteUpload(ctx context.Context, repo registry.Repo, id string, offset int64, body io.Reader) (int64, error) {
	u, err := s.findUpload(ctx, repo, id)
	if err != nil {
		return 0, registryError(err)
	}
	n, err := s.write(u, offset, body)
	if err == nil {
		err = s.park(ctx, u)
	}
	return n, registryError(err)
}

// FinishUpload implements registry.Backend.
func (s *Service) FinishUpload(ctx context.Context, repo registry.Repo, id string, d registry.Digest) (registry.Descriptor, error) {
	if _, err := s.findUpload(ctx, repo, id); err != nil {
		return registry.Descriptor{}, registryError(err)
	}
	u := s.uploads.take(id)
	if u == nil {
		return registry.Descriptor{}, registryError(uploadNotFound(repo, id))
	}
	res, err := s.finishJoined(ctx, u, d)
	if err != nil {
		return registry.Descriptor{}, registryError(err)
	}
	return registry.Descriptor{MediaType: "application/octet-stream", Digest: d, Size: res.size}, nil
}

// CancelUpload implements registry.Backend.
func (s *Service) CancelUpload(ctx context.Context, repo registry.Repo, id string) error {
	if _, err := s.findUpload(ctx, repo, id); err != nil {
		return registryError(err)
	}
	if u := s.uploads.take(id); u != nil {
		s.cancel(ctx, u)
		s.forget(ctx, u)
	}
	return nil
}

// statLayer finds blob d in repo, refreshing an old link so that a client
// told "it exists" can still reference it in the manifest it pushes next.
func (s *Service) statLayer(ctx context.Context, repo registry.Repo, d string) (content, error) {
	var link layerLink
	var c content
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if link, _, err = getLink(tx, repo, d); err != nil {
			return err
		}
		c, _, err = getContent(tx, d)
		return err
	})
	now := s.Now()
	if err == nil && now.Sub(link.At) > s.grace/2 {
		err = s.Store.Update(ctx, func(tx store.Tx) error {
			link, ver, err := getLink(tx, repo, d)
			if err != nil {
				return err
			}
			link.At = now
			_, err = store.PutJSON(tx, layersTable, layerKey(repo, d), link, ver)
			return err
		})
	}
	if errors.Is(err, store.ErrNotFound) {
		if err := s.repoExists(ctx, repo); err != nil {
			return content{}, err
		}
		return content{}, derr(kindBlobUnknown, "The layer %s does not exist in the repository with name '%s' in the registry with id '%s'", d, repo.Name, repo.Account)
	}
	return c, err
}

// StatBlob implements registry.Backend.
func (s *Service) StatBlob(ctx context.Context, repo registry.Repo, d registry.Digest) (registry.Blob, error) {
	c, err := s.statLayer(ctx, repo, string(d))
	if err != nil {
		return registry.Blob{}, registryError(err)
	}
	return s.blobOf(d, c), nil
}

func (s *Service) blobOf(d registry.Digest, c content) registry.Blob {
	return registry.Blob{
		Descriptor: registry.Descriptor{MediaType: "application/octet-stream", Digest: d, Size: c.Size},
		Open: func(ctx context.Context, offset, length int64) (io.ReadCloser, error) {
			r, err := s.blobs.Open(ctx, c.BlobID, offset, length)
			if errors.Is(err, blob.ErrNotFound) {
				return nil, registry.Errorf(registry.CodeBlobUnknown, "blob unknown to registry")
			}
			return r, err
		},
	}
}

// DeleteBlob implements registry.Backend: the link goes, the bytes when
// nothing else links them.
func (s *Service) DeleteBlob(ctx context.Context, repo registry.Repo, d registry.Digest) error {
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		if _, _, err := getRepo(tx, repo); err != nil {
			return err
		}
		err := tx.Delete(layersTable, layerKey(repo, string(d)), store.AnyVersion)
		if errors.Is(err, store.ErrNotFound) {
			return derr(kindBlobUnknown, "blob unknown to registry")
		}
		return err
	})
	return registryError(err)
}

// MountBlob implements registry.Backend.
func (s *Service) MountBlob(ctx context.Context, from, to registry.Repo, d registry.Digest) (registry.Descriptor, error) {
	var size int64
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		if _, _, err := getRepo(tx, to); err != nil {
			return err
		}
		c, _, err := getContent(tx, string(d))
		if errors.Is(err, store.ErrNotFound) {
			return derr(kindBlobUnknown, "blob unknown to registry")
		}
		if err != nil {
			return err
		}
		if from == (registry.Repo{}) {
			if !slices.Contains(c.Registries, registryKey(to)) {
				return derr(kindBlobUnknown, "blob unknown to registry")
			}
		} else if ok, err := hasLayer(tx, from, string(d)); err != nil {
			return err
		} else if !ok {
			return derr(kindBlobUnknown, "blob unknown to registry")
		}
		size = c.Size
		_, _, err = linkBlob(tx, to, string(d), c.BlobID, c.Size, s.Now())
		return err
	})
	if err != nil {
		return registry.Descriptor{}, registryError(err)
	}
	return registry.Descriptor{MediaType: "application/octet-stream", Digest: d, Size: size}, nil
}

// ----- pull times

// pullRecorder keeps pull times in memory; the controller writes them to
// the image records in batches, so a pull costs no store write (AWS, too,
// records them only periodically: "lastRecordedPullTime").
type pullRecorder struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func newPullRecorder() *pullRecorder { return &pullRecorder{m: map[string]time.Time{}} }

func (p *pullRecorder) record(key string, t time.Time) {
	p.mu.Lock()
	p.m[key] = t
	p.mu.Unlock()
}

func (p *pullRecorder) take() map[string]time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.m) == 0 {
		return nil
	}
	m := p.m
	p.m = map[string]time.Time{}
	return m
}

// recordPull notes that the image under key was pulled at t; the
// pull-times controller writes the notes in batches, soon after.
func (s *Service) recordPull(key string, t time.Time) {
	s.pulls.record(key, t)
	s.pullTimes.Wake()
}

func (s *Service) flushPulls(ctx context.Context) error {
	m := s.pulls.take()
	if m == nil {
		return nil
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		for key, t := range m {
			var img image
			ver, err := store.GetJSON(tx, imagesTable, key, &img)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if img.LastPull != nil && !t.After(*img.LastPull) {
				continue
			}
			img.LastPull = new(t.UTC())
			if _, err := store.PutJSON(tx, imagesTable, key, img, ver); err != nil {
				return err
			}
		}
		return nil
	})
}
