package ecr

import (
	"context"
	"errors"
	"strings"
	"time"

	"overcast/internal/controller"
	"overcast/internal/ecr/registry"
	"overcast/internal/store"
)

// passInterval is how often, by the clock, the controller applies
// lifecycle policies and collects garbage (AWS applies lifecycle policies
// within 24 hours).
const passInterval = time.Hour

// uploadIdle is how long an upload may sit untouched before it is dropped.
const uploadIdle = time.Hour

// housekeepingKey is the one key of the housekeeping controller, and the
// key of its record in metaTable: when it last ran, by the clock.
const housekeepingKey = "housekeeping"

// reconcileHousekeeping applies lifecycle policies and collects garbage
// once per passInterval of the clock. When the last pass ran is in the
// store, so a restart neither repeats a pass too soon nor skips one.
func (s *Service) reconcileHousekeeping(ctx context.Context, _ string) (controller.Result, error) {
	var last time.Time
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, metaTable, housekeepingKey, &last)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return controller.Result{}, err
	}
	now := s.Now()
	// A clock that went backwards (a test, a host clock reset) runs a pass.
	if due := last.Add(passInterval); now.Before(due) && !now.Before(last) {
		return controller.At(due), nil
	}
	if _, err := s.ApplyLifecyclePolicies(ctx); err != nil {
		return controller.Result{}, err
	}
	if _, err := s.CollectGarbage(ctx); err != nil {
		return controller.Result{}, err
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := store.PutJSON(tx, metaTable, housekeepingKey, now, store.AnyVersion)
		return err
	})
	return controller.At(now.Add(passInterval)), err
}

// GCStats counts what a collection removed.
type GCStats struct {
	Links   int // blob links no image referenced
	Content int // stored blobs no link referenced
	Orphans int // blobs of abandoned uploads and dropped content
}

// CollectGarbage removes what no image needs any more, sparing everything
// younger than the grace period (see the package comment). It is safe to
// run while pushes are in progress.
func (s *Service) CollectGarbage(ctx context.Context) (GCStats, error) {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	var st GCStats
	cutoff := s.Now().Add(-s.grace)

	// Mark and sweep each repository's links in one transaction: a
	// manifest put, which checks links in its own transaction, is either
	// wholly before (its image marks the links) or wholly after (it sees
	// them gone and fails with MANIFEST_BLOB_UNKNOWN).
	var repos []registry.Repo
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return tx.Scan(reposTable, store.ScanOptions{}, func(it store.Item) error {
			if parts := strings.SplitN(it.Key, "/", 3); len(parts) == 3 {
				repos = append(repos, registry.Repo{Account: parts[0], Region: parts[1], Name: parts[2]})
			}
			return nil
		})
	})
	if err != nil {
		return st, err
	}
	for _, repo := range repos {
		n, err := s.sweepLinks(ctx, repo, cutoff)
		if err != nil {
			return st, err
		}
		st.Links += n
	}
	// Links of repositories that were deleted went with them; sweep
	// content no link references.
	var dropped []string
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		dropped = nil
		live := map[string]bool{}
		err := tx.Scan(layersTable, store.ScanOptions{}, func(it store.Item) error {
			if i := strings.LastIndexByte(it.Key, '@'); i >= 0 {
				live[it.Key[i+1:]] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		var dead []string
		err = store.ScanJSON(tx, contentTable, store.ScanOptions{}, func(d string, c content, _ int64) error {
			if !live[d] && c.At.Before(cutoff) {
				dead = append(dead, d)
				dropped = append(dropped, c.BlobID)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := store.DeleteKeys(tx, contentTable, dead); err != nil {
			return err
		}
		for _, id := range dropped {
			if _, err := store.PutJSON(tx, orphansTable, id, orphan{}, store.AnyVersion); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	st.Content = len(dropped)

	// Delete the blobs of dropped content and of uploads nobody finished.
	live := s.uploads.live()
	if err := s.parkedParts(ctx, live); err != nil {
		return st, err
	}
	var orphans []string
	err = s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, orphansTable, store.ScanOptions{}, func(id string, o orphan, _ int64) error {
			if !live[id] && (o.At.IsZero() || o.At.Before(cutoff)) {
				orphans = append(orphans, id)
			}
			return nil
		})
	})
	if err != nil {
		return st, err
	}
	for _, id := range orphans {
		if err := s.blobs.Delete(ctx, id); err != nil {
			return st, err
		}
		s.dropOrphan(ctx, id)
		st.Orphans++
	}
	return st, nil
}

// sweepLinks drops repo's links that no image references and that are
// older than cutoff.
func (s *Service) sweepLinks(ctx context.Context, repo registry.Repo, cutoff time.Time) (int, error) {
	n := 0
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		n = 0
		marked := map[string]bool{}
		err := store.ScanJSON(tx, imagesTable, store.ScanOptions{Prefix: imagesPrefix(repo)}, func(_ string, img image, _ int64) error {
			for _, b := range img.Blobs {
				marked[b] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		var dead []string
		err = store.ScanJSON(tx, layersTable, store.ScanOptions{Prefix: imagesPrefix(repo)}, func(key string, l layerLink, _ int64) error {
			if d := strings.TrimPrefix(key, imagesPrefix(repo)); !marked[d] && l.At.Before(cutoff) {
				dead = append(dead, key)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := store.DeleteKeys(tx, layersTable, dead); err != nil {
			return err
		}
		n = len(dead)
		return nil
	})
	return n, err
}
