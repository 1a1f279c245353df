package logs

import (
	"context"
	"errors"
	"fmt"

	"overcast/internal/store"
)

// sweepChunk bounds the deletions of one transaction, so that reclaiming
// a million events never holds the store's writer for long and API writes
// interleave with the sweep.
const sweepChunk = 5000

// tombstone is a deleted group (Stream 0) or stream whose events, and
// for a group stream records, are still to be reclaimed.
type tombstone struct {
	Group  uint64 `json:"group"`
	Stream uint64 `json:"stream,omitempty"`
}

func (t tombstone) key() string { return fmt.Sprintf("%016x/%016x", t.Group, t.Stream) }

func addTombstone(tx store.Tx, groupID, streamID uint64) error {
	t := tombstone{Group: groupID, Stream: streamID}
	_, err := store.PutJSON(tx, gcTable, t.key(), t, store.AnyVersion)
	return err
}

// Sweep makes one pass: it reclaims the events of deleted groups and
// streams, then deletes events older than their group's retention (reads
// already hide them). The background sweeper calls it; tests may too.
func (s *Service) Sweep(ctx context.Context) error {
	var tombs []tombstone
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, gcTable, store.ScanOptions{}, func(_ string, t tombstone, _ int64) error {
			tombs = append(tombs, t)
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, t := range tombs {
		if err := s.reap(ctx, t); err != nil {
			return err
		}
	}

	var refs []groupRef
	err = s.cfg.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, groupsTable, store.ScanOptions{}, func(_ string, g group, _ int64) error {
			if g.RetentionDays > 0 {
				refs = append(refs, groupRef{Account: g.Account, Region: g.Region, Name: g.Name})
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, ref := range refs {
		if err := s.expire(ctx, ref); err != nil {
			return err
		}
	}
	return nil
}

// reap deletes a tombstone's ranges chunk by chunk, then the tombstone.
func (s *Service) reap(ctx context.Context, t tombstone) error {
	events := eventPrefix(t.Group, t.Stream)
	if t.Stream == 0 {
		events = events[:8] // every stream of the group
	}
	if err := s.deleteRange(ctx, eventsTable, events); err != nil {
		return err
	}
	if t.Stream == 0 {
		if err := s.deleteRange(ctx, streamsTable, streamPrefix(t.Group)); err != nil {
			return err
		}
	}
	return s.update(ctx, func(tx store.Tx) error {
		err := tx.Delete(gcTable, t.key(), store.AnyVersion)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
}

func (s *Service) deleteRange(ctx context.Context, table, prefix string) error {
	for {
		n := 0
		err := s.update(ctx, func(tx store.Tx) error {
			var keys []string
			err := tx.Scan(table, store.ScanOptions{Prefix: prefix, Limit: sweepChunk}, func(it store.Item) error {
				keys = append(keys, it.Key)
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := tx.Delete(table, k, store.AnyVersion); err != nil {
					return err
				}
			}
			n = len(keys)
			return nil
		})
		if err != nil || n < sweepChunk {
			return err
		}
	}
}

// expire deletes one group's events older than its retention, stream by
// stream, skipping streams whose oldest event is recent enough.
func (s *Service) expire(ctx context.Context, ref groupRef) error {
	var g group
	var due []string
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if g, _, err = loadGroup(tx, ref); err != nil {
			return err
		}
		cutoff := g.retentionCutoff(s.nowMillis())
		return store.ScanJSON(tx, streamsTable, store.ScanOptions{Prefix: streamPrefix(g.ID)}, func(_ string, st stream, _ int64) error {
			if st.HasEvents && st.Oldest < cutoff {
				due = append(due, st.Name)
			}
			return nil
		})
	})
	if isNotFound(err) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return err
	}
	for _, name := range due {
		for {
			done, err := s.expireChunk(ctx, ref, g.ID, name)
			if err != nil {
				return err
			}
			if done {
				break
			}
		}
	}
	return nil
}

// expireChunk deletes up to sweepChunk expired events of one stream and
// moves the counters with them. It re-reads the group, so a retention
// changed or removed meanwhile is respected.
func (s *Service) expireChunk(ctx context.Context, ref groupRef, groupID uint64, streamName string) (done bool, err error) {
	err = s.update(ctx, func(tx store.Tx) error {
		done = true
		g, _, err := loadGroup(tx, ref)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		cutoff := g.retentionCutoff(s.nowMillis())
		if g.ID != groupID || cutoff == 0 {
			return nil
		}
		st, err := loadStream(tx, g.ID, streamName)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		var keys []string
		var freed int64
		st.Oldest = cutoff // unless an unexpired event is found below
		reachedCutoff := false
		err = tx.Scan(eventsTable, store.ScanOptions{Prefix: eventPrefix(g.ID, st.ID), Limit: sweepChunk}, func(it store.Item) error {
			e, err := decodeEvent(it)
			if err != nil {
				return err
			}
			if e.Pos.TS >= cutoff {
				st.Oldest, reachedCutoff = e.Pos.TS, true
				return store.ErrStop
			}
			keys = append(keys, it.Key)
			freed += int64(len(e.Message))
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.Delete(eventsTable, k, store.AnyVersion); err != nil {
				return err
			}
		}
		done = reachedCutoff || len(keys) < sweepChunk
		if !done {
			st.Oldest = 0 // more to come; keep the stream due
		}
		st.StoredBytes = max(0, st.StoredBytes-freed)
		if err := putStream(tx, g.ID, &st); err != nil {
			return err
		}
		if freed > 0 {
			g.StoredBytes = max(0, g.StoredBytes-freed)
			return putGroup(tx, &g)
		}
		return nil
	})
	return done, err
}
