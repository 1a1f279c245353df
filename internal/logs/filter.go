package logs

import (
	"container/heap"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"

	api "overcast/internal/api/logs"
	"overcast/internal/awsproto"
	"overcast/internal/store"
)

const (
	// maxFilterScan bounds the events one FilterLogEvents call examines.
	// Like AWS, a search that has not found a page of matches by then
	// returns what it has with a nextToken, so a rare pattern over a big
	// group costs several quick calls rather than one that times out.
	maxFilterScan = 100_000
	cursorChunk   = 32
)

// FilterLogEvents implements api.Server: the group's streams (all, named, or
// by prefix) merged in time order, filtered by the pattern. The nextToken is
// the merge position of the last event examined.
func (s *Service) FilterLogEvents(ctx context.Context, in *api.FilterLogEventsRequest) (*api.FilterLogEventsResponse, error) {
	ref, err := resolveGroup(ctx, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	limit := awsproto.PageSize(in.Limit, maxResponseEvents)
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != nil {
		return nil, invalidParameter("You cannot specify both LogStreamNames and LogStreamNamePrefix.")
	}
	pat, err := compilePattern(deref(in.FilterPattern))
	if err != nil {
		return nil, err
	}
	resume, err := parseToken(in.NextToken, parseMergeToken)
	if err != nil {
		return nil, err
	}

	out := &api.FilterLogEventsResponse{Events: api.FilteredLogEvents{}, SearchedLogStreams: api.SearchedLogStreams{}}
	err = s.Store.View(ctx, func(tx store.Tx) error {
		g, _, err := loadGroup(tx, ref)
		if err != nil {
			return err
		}
		r := s.readableRange(&g, in.StartTime, in.EndTime)
		streams, err := selectStreams(tx, g.ID, in.LogStreamNames, deref(in.LogStreamNamePrefix))
		if err != nil {
			return err
		}
		var m merger
		for i := range streams {
			st := &streams[i]
			if !st.HasEvents || st.LastEvent < r.lo || (r.hi >= 0 && st.FirstEvent >= r.hi) {
				continue // nothing in range, no need to look
			}
			c := &cursor{stream: st, prefix: eventPrefix(g.ID, st.ID), r: r}
			c.after = eventKey(c.prefix, c.start(resume))
			if err := c.fill(tx); err != nil {
				return err
			}
			if c.more() {
				m = append(m, c)
			}
		}
		heap.Init(&m)

		size, scanned := 0, 0
		var last mergePos
		for len(m) > 0 {
			if len(out.Events) == limit || scanned == s.filterScan {
				out.NextToken = new(last.token())
				break
			}
			c := m[0]
			e := c.head()
			last = mergePos{TS: e.Pos.TS, Stream: c.stream.ID, Seq: e.Pos.Seq}
			scanned++
			if pat.match(e.Message) {
				if size += len(e.Message) + eventOverhead; size > maxResponseBytes && len(out.Events) > 0 {
					out.NextToken = new(mergePos{TS: e.Pos.TS, Stream: c.stream.ID, Seq: e.Pos.Seq - 1}.token())
					break
				}
				out.Events = append(out.Events, api.FilteredLogEvent{
					LogStreamName: new(c.stream.Name),
					Timestamp:     new(e.Pos.TS),
					Message:       new(e.Message),
					IngestionTime: new(e.Ingestion),
					EventId:       new(last.eventID()),
				})
			}
			if err := c.advance(tx); err != nil {
				return err
			}
			if c.more() {
				heap.Fix(&m, 0)
			} else {
				heap.Pop(&m)
			}
		}
		for i := range streams {
			out.SearchedLogStreams = append(out.SearchedLogStreams, api.SearchedLogStream{
				LogStreamName:      new(streams[i].Name),
				SearchedCompletely: new(out.NextToken == nil),
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// selectStreams returns the streams a filter searches: the named ones that
// exist, or those with the prefix (all of them for "").
func selectStreams(tx store.Tx, groupID uint64, names []string, prefix string) ([]stream, error) {
	var out []stream
	if len(names) > 0 {
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				continue
			}
			seen[n] = true
			st, err := loadStream(tx, groupID, n)
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, st)
		}
		return out, nil
	}
	err := store.ScanJSON(tx, streamsTable, store.ScanOptions{Prefix: streamPrefix(groupID) + prefix}, func(_ string, st stream, _ int64) error {
		out = append(out, st)
		return nil
	})
	return out, err
}

// mergePos orders events across streams: by time, then stream, then
// arrival. It is FilterLogEvents' nextToken and, in digits, its eventId.
type mergePos struct {
	TS     int64
	Stream uint64
	Seq    uint64
}

func (p mergePos) less(q mergePos) bool {
	switch {
	case p.TS != q.TS:
		return p.TS < q.TS
	case p.Stream != q.Stream:
		return p.Stream < q.Stream
	}
	return p.Seq < q.Seq
}

// eventID is 56 digits like AWS's, unique within the region and stable, so
// that `aws logs tail --follow`, which re-reads the newest millisecond on
// every poll, can tell the events it has already printed.
func (p mergePos) eventID() string {
	return fmt.Sprintf("%020d%018d%018d", p.TS, p.Stream, p.Seq)
}

func (p mergePos) token() string {
	var b [24]byte
	binary.BigEndian.PutUint64(b[:8], uint64(p.TS))
	binary.BigEndian.PutUint64(b[8:16], p.Stream)
	binary.BigEndian.PutUint64(b[16:], p.Seq)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func parseMergeToken(s string) (mergePos, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 24 {
		return mergePos{}, errBadToken()
	}
	return mergePos{
		TS:     int64(binary.BigEndian.Uint64(b[:8])),
		Stream: binary.BigEndian.Uint64(b[8:16]),
		Seq:    binary.BigEndian.Uint64(b[16:]),
	}, nil
}

// cursor reads one stream's events in order, a chunk at a time, so that
// merging many streams never holds more than a chunk of each in memory.
type cursor struct {
	stream *stream
	prefix string
	r      eventRange
	after  string // key of the last event read
	buf    []storedEvent
	i      int
	done   bool // nothing left after buf
	chunk  int
}

// start is where this stream's events begin: the range's start, or just
// after the merge position resumed from.
func (c *cursor) start(resume *mergePos) position {
	p := position{TS: c.r.lo}
	if resume == nil || resume.TS < c.r.lo {
		return p
	}
	switch id := c.stream.ID; {
	case id > resume.Stream:
		return position{TS: resume.TS} // everything at resume.TS comes after
	case id == resume.Stream:
		return position{TS: resume.TS, Seq: resume.Seq}
	default:
		return position{TS: resume.TS, Seq: math.MaxUint64} // only later timestamps
	}
}

func (c *cursor) head() storedEvent { return c.buf[c.i] }

func (c *cursor) more() bool { return c.i < len(c.buf) }

func (c *cursor) advance(tx store.Tx) error {
	c.i++
	if c.i < len(c.buf) || c.done {
		return nil
	}
	return c.fill(tx)
}

func (c *cursor) fill(tx store.Tx) error {
	// Busy streams get bigger chunks: fewer queries per merge.
	c.chunk = min(max(cursorChunk, 2*c.chunk), 64*cursorChunk)
	c.buf, c.i = c.buf[:0], 0
	n := 0
	err := tx.Scan(eventsTable, store.ScanOptions{Prefix: c.prefix, After: c.after, Limit: c.chunk}, func(it store.Item) error {
		n++
		e, err := decodeEvent(it)
		if err != nil {
			return err
		}
		if c.r.hi >= 0 && e.Pos.TS >= c.r.hi {
			c.done = true
			return store.ErrStop
		}
		c.buf = append(c.buf, e)
		c.after = it.Key
		return nil
	})
	if n < c.chunk {
		c.done = true
	}
	return err
}

// merger is a min-heap of cursors by their head event's merge position.
type merger []*cursor

func (m merger) Len() int { return len(m) }
func (m merger) Less(i, j int) bool {
	a, b := m[i], m[j]
	return mergePos{a.head().Pos.TS, a.stream.ID, a.head().Pos.Seq}.less(mergePos{b.head().Pos.TS, b.stream.ID, b.head().Pos.Seq})
}
func (m merger) Swap(i, j int) { m[i], m[j] = m[j], m[i] }
func (m *merger) Push(x any)   { *m = append(*m, x.(*cursor)) }
func (m *merger) Pop() any {
	old := *m
	c := old[len(old)-1]
	*m = old[:len(old)-1]
	return c
}

// StartLiveTail implements api.Server. AWS answers it with an HTTP/2 event
// stream that overcast's codec does not produce; the refusal is a modeled
// error every client reports cleanly, and `aws logs tail --follow` (which
// polls FilterLogEvents) is the way to follow logs here.
func (s *Service) StartLiveTail(ctx context.Context, in *api.StartLiveTailRequest) (*api.StartLiveTailResponse, error) {
	return nil, &awsproto.Error{Code: "InvalidOperationException", Status: 400,
		Message: "StartLiveTail (an event stream) is not supported by overcast; use FilterLogEvents polling, e.g. `aws logs tail --follow`."}
}
