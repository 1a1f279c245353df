package cloudtrail

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"sync"

	"overcast"
	"overcast/internal/store"
)

// The event history is stored in segments: one item per scope per batch
// the recorder writes, holding its events compressed, keyed by
// account/region/<stamp>/<suffix>. A row per event costs the store more
// than recording a call costs everything else (measured: two thirds of
// the recorder's time went to its per-event writes), and a batch of
// records compresses several times over.

// segmentKey is the key of a segment of scope's events whose first stamp
// is stamp.
func segmentKey(scope overcast.Scope, stamp int64, suffix string) string {
	return scope.Prefix() + stampKey(stamp) + "/" + suffix
}

var flaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// storedEvent is an event as a segment holds it: its fields, and its
// record beside them as it was made.
type storedEvent struct {
	Event  event           `json:"e"`
	Record json.RawMessage `json:"r"`
}

// encodeSegment is events, in the order they were written, as stored:
// a JSON array of storedEvents, compressed. The records are appended as
// they are: encoding/json would validate and compact each again.
func encodeSegment(events []event) ([]byte, error) {
	raw := []byte{'['}
	for i, ev := range events {
		fields, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			raw = append(raw, ',')
		}
		raw = append(raw, `{"e":`...)
		raw = append(raw, fields...)
		raw = append(raw, `,"r":`...)
		raw = append(raw, ev.Record...)
		raw = append(raw, '}')
	}
	raw = append(raw, ']')
	var b bytes.Buffer
	w := flaters.Get().(*flate.Writer)
	defer flaters.Put(w)
	w.Reset(&b)
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func decodeSegment(value []byte) ([]event, error) {
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(value)))
	if err != nil {
		return nil, err
	}
	var stored []storedEvent
	if err := json.Unmarshal(raw, &stored); err != nil {
		return nil, err
	}
	events := make([]event, len(stored))
	for i, st := range stored {
		events[i] = st.Event
		events[i].Record = st.Record
	}
	return events, nil
}

// position is an event's place in the history: its segment's key and its
// index in the segment.
type position struct {
	key   string
	index int
}

// scanEvents calls fn with the events of the segments opt selects, in
// the segments' order, and within a segment in writing order (or its
// reverse when opt.Reverse). from, when set, is where to resume: the
// events of from's segment after it (before it, when reversed), then the
// segments after from's segment. fn returning store.ErrStop ends the scan.
func scanEvents(tx store.Tx, opt store.ScanOptions, from *position, fn func(position, event) error) error {
	visit := func(key string, value []byte, skipUntil int) error {
		events, err := decodeSegment(value)
		if err != nil {
			return err
		}
		for i := range events {
			j := i
			if opt.Reverse {
				j = len(events) - 1 - i
			}
			if skipUntil >= 0 && (!opt.Reverse && j <= skipUntil || opt.Reverse && j >= skipUntil) {
				continue
			}
			if err := fn(position{key, j}, events[j]); err != nil {
				return err
			}
		}
		return nil
	}
	if from != nil {
		it, err := tx.Get(eventsTable, from.key)
		if err == nil {
			if err := visit(from.key, it.Value, from.index); err != nil {
				if err == store.ErrStop {
					return nil
				}
				return err
			}
		} else if err != store.ErrNotFound {
			return err
		}
		opt.After = from.key
	}
	return tx.Scan(eventsTable, opt, func(it store.Item) error { return visit(it.Key, it.Value, -1) })
}

// String is the position as a NextToken holds it, without its scope's
// prefix: a token is good only in the scope that made it.
func (p position) token(scope overcast.Scope) string {
	return strings.TrimPrefix(p.key, scope.Prefix()) + "#" + strconv.Itoa(p.index)
}

func parsePosition(token string, scope overcast.Scope) (position, bool) {
	key, index, ok := strings.Cut(token, "#")
	i, err := strconv.Atoi(index)
	if !ok || err != nil || i < 0 || len(key) < 21 || key[20] != '/' {
		return position{}, false
	}
	return position{scope.Prefix() + key, i}, true
}
