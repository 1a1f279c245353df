package ecr

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"io"
	"time"

	"overcast/internal/blob"
	"overcast/internal/ecr/registry"
	"overcast/internal/store"
)

// Uploads handed between replicas.
//
// An upload in progress lives in the memory of the process that started
// it: its open blob writer and running hash. Replicas sharing a store sit
// behind a load balancer, and docker sends an upload's requests one after
// the other to whichever the balancer picks, so there every request that
// writes parks the upload when it is done: it commits the bytes written as
// a part blob and records the parts and the hash's state in the store. The
// next request, on any replica, adopts it from there. Finishing an upload
// of one part (docker's usual single PATCH) links that blob as it is;
// several parts are joined into one blob first.

// uploadsTable holds parked uploads, by upload ID.
const uploadsTable = "ecr.uploads"

type parkedUpload struct {
	Repo  registry.Repo `json:"repo"`
	Parts []string      `json:"parts"` // blob IDs, in order
	Size  int64         `json:"size"`
	Hash  []byte        `json:"hash"` // the canonical hash's state after Size bytes
	Last  time.Time     `json:"last"`
}

// park commits what u received since it was adopted as a part and records
// u in the store, dropping it from memory: the next request for it may
// reach another replica. The caller holds no lock on u.
func (s *Service) park(ctx context.Context, u *upload) error {
	if !s.shared {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.broken != nil {
		return u.broken
	}
	s.uploads.take(u.id)
	parts := u.parts
	if u.w.Size() > 0 {
		if err := u.w.Commit(ctx); err != nil {
			u.broken = err
			return err
		}
		parts = append(parts[:len(parts):len(parts)], u.w.ID())
	} else {
		u.w.Abort()
		s.dropOrphan(ctx, u.w.ID())
	}
	state, err := u.h.Hash().(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return err
	}
	rec := parkedUpload{Repo: u.repo, Parts: parts, Size: u.size, Hash: state, Last: u.last}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := store.PutJSON(tx, uploadsTable, u.id, rec, u.version)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		// Another request wrote to the upload at the same time: one of
		// them must lose, as parts must come in order.
		e := derr(kindLayerPart, "The upload %s received another part at the same time: parts must be sent in order, one at a time", u.id)
		e.lastByte, e.upload, e.reg, e.repo = u.size-1, u.id, repoOf(u.repo), u.repo.Name
		return e
	}
	return err
}

// adopt takes a parked upload from the store into memory, with a new
// writer for the bytes to come. It returns nil when none is parked as id.
func (s *Service) adopt(ctx context.Context, repo registry.Repo, id string) (*upload, error) {
	var rec parkedUpload
	var version int64
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		version, err = store.GetJSON(tx, uploadsTable, id, &rec)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && rec.Repo != repo) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	h := registry.Canonical.Digester()
	if err := h.Hash().(encoding.BinaryUnmarshaler).UnmarshalBinary(rec.Hash); err != nil {
		return nil, fmt.Errorf("ecr: upload %s: the hash's state: %w", id, err)
	}
	w, err := s.newUploadWriter(ctx)
	if err != nil {
		return nil, err
	}
	u := &upload{id: id, repo: repo, w: w, h: h, size: rec.Size, last: rec.Last, parts: rec.Parts, version: version}
	s.uploads.mu.Lock()
	defer s.uploads.mu.Unlock()
	if cur := s.uploads.m[id]; cur != nil {
		// Another request adopted it first.
		w.Abort()
		s.dropOrphan(ctx, w.ID())
		return cur, nil
	}
	s.uploads.m[id] = u
	return u, nil
}

// joinParts makes u's writer hold every byte of the upload, before finish
// verifies and links it. One part and nothing since is linked as it is.
func (s *Service) joinParts(ctx context.Context, u *upload) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.parts) == 0 {
		return nil
	}
	if len(u.parts) == 1 && u.w.Size() == 0 {
		u.w.Abort()
		s.dropOrphan(ctx, u.w.ID())
		u.w = committedPart{id: u.parts[0], size: u.size}
		u.parts = nil
		return nil
	}
	w, err := s.newUploadWriter(ctx)
	if err != nil {
		return err
	}
	for _, id := range u.parts {
		if err := copyBlob(ctx, s.blobs, id, w); err != nil {
			w.Abort()
			s.dropOrphan(ctx, w.ID())
			return err
		}
	}
	// Bytes received since the upload was adopted come last.
	if u.w.Size() > 0 {
		if err := u.w.Commit(ctx); err != nil {
			w.Abort()
			return err
		}
		if err := copyBlob(ctx, s.blobs, u.w.ID(), w); err != nil {
			w.Abort()
			return err
		}
		u.parts = append(u.parts, u.w.ID())
	}
	s.dropParts(context.WithoutCancel(ctx), u.parts)
	u.w, u.parts = w, nil
	return nil
}

// forget removes a parked upload's record and its parts: it finished or
// was cancelled.
func (s *Service) forget(ctx context.Context, u *upload) {
	if !s.shared {
		return
	}
	s.dropParts(ctx, u.parts)
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.Delete(uploadsTable, u.id, store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		s.Logger.Warn("ecr: dropping a parked upload", "upload", u.id, "err", err)
	}
}

func (s *Service) dropParts(ctx context.Context, parts []string) {
	for _, id := range parts {
		if err := s.blobs.Delete(ctx, id); err == nil {
			s.dropOrphan(ctx, id)
		}
	}
}

// dropIdleParked forgets parked uploads untouched since before cutoff;
// collection then deletes their parts as orphans.
func (s *Service) dropIdleParked(ctx context.Context, cutoff time.Time) error {
	if !s.shared {
		return nil
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		var idle []string
		err := store.ScanJSON(tx, uploadsTable, store.ScanOptions{}, func(id string, rec parkedUpload, _ int64) error {
			if rec.Last.Before(cutoff) {
				idle = append(idle, id)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return store.DeleteKeys(tx, uploadsTable, idle)
	})
}

// parkedParts lists the part blobs of parked uploads, which collection
// must spare.
func (s *Service) parkedParts(ctx context.Context, into map[string]bool) error {
	if !s.shared {
		return nil
	}
	return s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, uploadsTable, store.ScanOptions{}, func(_ string, rec parkedUpload, _ int64) error {
			for _, id := range rec.Parts {
				into[id] = true
			}
			return nil
		})
	})
}

func copyBlob(ctx context.Context, blobs blob.Store, id string, w io.Writer) error {
	r, err := blobs.Open(ctx, id, 0, -1)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(w, r)
	return err
}

// committedPart is a blob already committed, standing in for the writer
// of an upload whose one part it is.
type committedPart struct {
	id   string
	size int64
}

func (p committedPart) Write([]byte) (int, error)    { return 0, blob.ErrDone }
func (p committedPart) ID() string                   { return p.id }
func (p committedPart) Size() int64                  { return p.size }
func (p committedPart) Commit(context.Context) error { return nil }
func (p committedPart) Abort() error                 { return nil }

var _ blob.Writer = committedPart{}
