package logs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"overcast/internal/controller"
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

func addTombstone(tx store.Tx, groupID, streamID uint64) (key string, err error) {
	t := tombstone{Group: groupID, Stream: streamID}
	_, err = store.PutJSON(tx, gcTable, t.key(), t, store.AnyVersion)
	return t.key(), err
}

// Sweep does at once what the controllers do in the background: it
// reclaims the events of deleted groups and streams, then deletes events
// older than their group's retention (reads already hide them).
func (s *Service) Sweep(ctx context.Context) error {
	tombs, err := store.TableKeys(ctx, s.st, gcTable)
	if err != nil {
		return err
	}
	for _, key := range tombs {
		for {
			res, err := s.reclaimTombstone(ctx, key)
			if err != nil {
				return err
			}
			if !res.Requeue {
				break
			}
		}
	}
	groups, err := s.retainingGroups(ctx)
	if err != nil {
		return err
	}
	for _, key := range groups {
		if _, err := s.expireGroup(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

// reclaimTombstone deletes one chunk of what a tombstone stands for, and
// asks to run again until nothing is left; then it deletes the tombstone.
// Each chunk is its own transaction, so a restart resumes where the last
// committed chunk left off.
func (s *Service) reclaimTombstone(ctx context.Context, key string) (controller.Result, error) {
	var t tombstone
	if found, err := s.recordFound(ctx, gcTable, key, &t); !found {
		return controller.Result{}, err
	}
	events := eventPrefix(t.Group, t.Stream)
	if t.Stream == 0 {
		events = events[:8] // every stream of the group
	}
	ranges := []struct{ table, prefix string }{{eventsTable, events}}
	if t.Stream == 0 {
		ranges = append(ranges, struct{ table, prefix string }{streamsTable, streamPrefix(t.Group)})
	}
	for _, r := range ranges {
		more, err := s.deleteChunk(ctx, r.table, r.prefix)
		if err != nil || more {
			return controller.Result{Requeue: more}, err
		}
	}
	return controller.Result{}, s.update(ctx, func(tx store.Tx) error {
		err := tx.Delete(gcTable, key, store.AnyVersion)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
}

// retainingGroups lists the keys of the groups with a retention: the
// retention controller's keys.
func (s *Service) retainingGroups(ctx context.Context) ([]string, error) {
	var keys []string
	err := s.st.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, groupsTable, store.ScanOptions{}, func(key string, g group, _ int64) error {
			if g.RetentionDays > 0 {
				keys = append(keys, key)
			}
			return nil
		})
	})
	return keys, err
}

// expireGroup deletes the events of one group that its retention expired.
func (s *Service) expireGroup(ctx context.Context, key string) (controller.Result, error) {
	parts := strings.SplitN(key, "/", 3)
	if len(parts) != 3 {
		return controller.Result{}, nil
	}
	return controller.Result{}, s.expire(ctx, groupRef{Account: parts[0], Region: parts[1], Name: parts[2]})
}

// deleteChunk deletes up to sweepChunk items of a key range in one
// transaction and reports whether more remain.
func (s *Service) deleteChunk(ctx context.Context, table, prefix string) (more bool, err error) {
	err = s.update(ctx, func(tx store.Tx) error {
		n, err := store.DeleteScanned(tx, table, store.ScanOptions{Prefix: prefix, Limit: sweepChunk})
		more = n == sweepChunk
		return err
	})
	return more, err
}

// expire deletes one group's events older than its retention, stream by
// stream, skipping streams whose oldest event is recent enough.
func (s *Service) expire(ctx context.Context, ref groupRef) error {
	var g group
	var due []string
	err := s.st.View(ctx, func(tx store.Tx) error {
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
		if err := store.DeleteKeys(tx, eventsTable, keys); err != nil {
			return err
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
