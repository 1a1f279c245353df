package logs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	api "overcast/internal/api/logs"
	"overcast/internal/awsproto"
	"overcast/internal/store"
)

// inputEvent is one event to store, timestamp in ms since the epoch.
type inputEvent struct {
	TS      int64
	Message string
}

// putResult reports what a write kept and refused.
type putResult struct {
	Seq      uint64 // the stream's sequence after the write
	Rejected *api.RejectedLogEventsInfo
}

// putEvents appends events, already in chronological order, to a stream in
// one transaction. Events too old (14 days, or the group's retention) or
// too far ahead (2 hours) are left out and reported, as AWS does. With
// create, a missing group and stream are created first, as the awslogs
// driver's awslogs-create-group does.
func (s *Service) putEvents(ctx context.Context, ref groupRef, streamName string, events []inputEvent, create bool) (putResult, error) {
	var res putResult
	delivered := false
	err := s.update(ctx, func(tx store.Tx) error {
		res, delivered = putResult{}, false
		g, _, err := loadGroup(tx, ref)
		if err != nil && create && isNotFound(err) {
			if err := s.insertGroup(tx, ref, nil); err != nil {
				return err
			}
			g, _, err = loadGroup(tx, ref)
		}
		if err != nil {
			return err
		}
		st, err := loadStream(tx, g.ID, streamName)
		if err != nil && create && isNotFound(err) {
			st, err = s.newStream(tx, g.ID, streamName)
		}
		if err != nil {
			return err
		}

		now := s.nowMillis()
		tooOld := now - int64(maxEventAge/time.Millisecond)
		expired := g.retentionCutoff(now)
		tooNew := now + int64(maxEventAhead/time.Millisecond)
		var rejected api.RejectedLogEventsInfo
		prefix := eventPrefix(g.ID, st.ID)
		var added int64
		stored := make([]storedEvent, 0, len(events))
		for i, e := range events {
			switch {
			case e.TS < tooOld || e.TS < 0:
				rejected.TooOldLogEventEndIndex = new(int32(i))
				continue
			case e.TS < expired:
				rejected.ExpiredLogEventEndIndex = new(int32(i))
				continue
			case e.TS > tooNew:
				if rejected.TooNewLogEventStartIndex == nil {
					rejected.TooNewLogEventStartIndex = new(int32(i))
				}
				continue
			}
			st.Seq++
			key := eventKey(prefix, position{TS: e.TS, Seq: st.Seq})
			if _, err := tx.Put(eventsTable, key, encodeEventValue(now, e.Message), store.AnyVersion); err != nil {
				return err
			}
			if !st.HasEvents || e.TS < st.FirstEvent {
				st.FirstEvent = e.TS
			}
			if !st.HasEvents || e.TS > st.LastEvent {
				st.LastEvent = e.TS
			}
			if !st.HasEvents || e.TS < st.Oldest {
				st.Oldest = e.TS
			}
			st.HasEvents = true
			added += int64(len(e.Message))
			stored = append(stored, storedEvent{Pos: position{TS: e.TS, Seq: st.Seq}, Ingestion: now, Message: e.Message})
		}
		if rejected != (api.RejectedLogEventsInfo{}) {
			res.Rejected = &rejected
		}
		res.Seq = st.Seq
		if added == 0 {
			return nil // nothing stored, no counter moved
		}
		st.LastIngestion = now
		st.StoredBytes += added
		if err := putStream(tx, g.ID, &st); err != nil {
			return err
		}
		if err := s.recordMetrics(tx, &g, stored); err != nil {
			return err
		}
		if delivered, err = s.deliver(ctx, tx, &g, &st, stored); err != nil {
			return err
		}
		g.StoredBytes += added
		return putGroup(tx, &g)
	})
	if err == nil && delivered {
		s.Bus.Notify()
	}
	return res, err
}

func isNotFound(err error) bool {
	e, ok := awsproto.AsAPIError(err)
	return ok && e.ErrorCode() == "ResourceNotFoundException"
}

// PutLogEvents implements api.Server. Sequence tokens are accepted and
// ignored, as AWS has done since 2023; DataAlreadyAcceptedException and
// InvalidSequenceTokenException are therefore never returned.
func (s *Service) PutLogEvents(ctx context.Context, in *api.PutLogEventsRequest) (*api.PutLogEventsResponse, error) {
	ref := groupFromName(ctx, *in.LogGroupName)
	events, err := checkBatch(in.LogEvents)
	if err != nil {
		return nil, err
	}
	res, err := s.putEvents(ctx, ref, *in.LogStreamName, events, false)
	if err != nil {
		return nil, err
	}
	return &api.PutLogEventsResponse{NextSequenceToken: new(sequenceToken(res.Seq)), RejectedLogEventsInfo: res.Rejected}, nil
}

// checkBatch enforces PutLogEvents' rules for a batch as a whole, beyond
// the model's (1 to 10,000 events of non-empty messages, which the codec
// checks); any violation refuses all of it.
func checkBatch(in api.InputLogEvents) ([]inputEvent, error) {
	events := make([]inputEvent, len(in))
	size := 0
	for i, e := range in {
		events[i] = inputEvent{TS: *e.Timestamp, Message: *e.Message}
		size += len(*e.Message) + eventOverhead
		if i > 0 && events[i].TS < events[i-1].TS {
			return nil, invalidParameter("Log events in a single PutLogEvents request must be in chronological order.")
		}
	}
	if size > maxBatchBytes {
		return nil, invalidParameter("Upload too large: %d bytes exceeds limit of %d", size, maxBatchBytes)
	}
	if time.Duration(events[len(events)-1].TS-events[0].TS)*time.Millisecond > maxBatchSpan {
		return nil, invalidParameter("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	}
	return events, nil
}

// Event is a log event written through Append.
type Event struct {
	Timestamp time.Time
	Message   string
}

// Append writes events to a stream on behalf of another service (ECS's
// awslogs driver, CodeBuild), creating the log group and stream when they
// do not exist, as the awslogs driver does with awslogs-create-group. The
// events need not be sorted; empty messages are skipped, and events AWS
// would refuse (older than 14 days or the retention, more than 2 hours
// ahead) are dropped. Large inputs are written in PutLogEvents-sized
// transactions.
func (s *Service) Append(ctx context.Context, account, region, groupName, streamName string, events []Event) error {
	if err := checkNewGroupName(groupName); err != nil {
		return err
	}
	if err := checkStreamName("logStreamName", streamName); err != nil {
		return err
	}
	in := make([]inputEvent, 0, len(events))
	for _, e := range events {
		if e.Message != "" {
			in = append(in, inputEvent{TS: e.Timestamp.UnixMilli(), Message: e.Message})
		}
	}
	slices.SortStableFunc(in, func(a, b inputEvent) int { return cmp.Compare(a.TS, b.TS) })
	ref := groupRef{Account: account, Region: region, Name: groupName}
	if len(in) == 0 {
		_, err := s.putEvents(ctx, ref, streamName, nil, true) // just create them
		return err
	}
	for len(in) > 0 {
		n, size := 0, 0
		for n < len(in) && n < maxBatchEvents && size+len(in[n].Message)+eventOverhead <= maxBatchBytes {
			size += len(in[n].Message) + eventOverhead
			n++
		}
		n = max(n, 1) // a single oversized event still goes, alone
		if _, err := s.putEvents(ctx, ref, streamName, in[:n], true); err != nil {
			return err
		}
		in = in[n:]
	}
	return nil
}

// GetLogEvents implements api.Server. Tokens are positions in the stream:
// "f/P" reads the events after P, "b/P" the events before it; when there is
// nothing more in that direction the same token comes back, which is how
// the aws CLI and SDK paginators know to stop.
func (s *Service) GetLogEvents(ctx context.Context, in *api.GetLogEventsRequest) (*api.GetLogEventsResponse, error) {
	ref, err := resolveGroup(ctx, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	limit := awsproto.PageSize(in.Limit, maxResponseEvents)
	tok, err := parseToken(in.NextToken, parseEventToken)
	if err != nil {
		return nil, err
	}
	fromHead := in.StartFromHead != nil && *in.StartFromHead

	var events []storedEvent
	var anchor position // where tokens point when nothing was read
	err = s.Store.View(ctx, func(tx store.Tx) error {
		g, _, err := loadGroup(tx, ref)
		if err != nil {
			return err
		}
		st, err := loadStream(tx, g.ID, *in.LogStreamName)
		if err != nil {
			return err
		}
		r := s.readableRange(&g, in.StartTime, in.EndTime)
		prefix := eventPrefix(g.ID, st.ID)
		switch {
		case tok != nil && tok.forward:
			anchor = tok.pos
			events, err = r.forward(tx, prefix, tok.pos, limit)
		case tok != nil:
			anchor = tok.pos
			events, err = r.backward(tx, prefix, &tok.pos, limit)
		case fromHead:
			anchor = position{TS: r.lo}
			events, err = r.forward(tx, prefix, anchor, limit)
		default:
			anchor = position{TS: r.lo}
			events, err = r.backward(tx, prefix, nil, limit)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.GetLogEventsResponse{Events: make(api.OutputLogEvents, len(events))}
	for i, e := range events {
		out.Events[i] = api.OutputLogEvent{Timestamp: new(e.Pos.TS), Message: new(e.Message), IngestionTime: new(e.Ingestion)}
	}
	first, last := anchor, anchor
	if len(events) > 0 {
		first, last = events[0].Pos, events[len(events)-1].Pos
	}
	out.NextForwardToken = new(eventToken{forward: true, pos: last}.String())
	out.NextBackwardToken = new(eventToken{pos: first}.String())
	return out, nil
}

// eventRange bounds a read of one stream: timestamps in [lo, hi), hi < 0
// meaning no upper bound.
type eventRange struct {
	lo, hi int64
}

// readableRange is the range a read of g asks for, from start to end
// (either may be nil), cut to what the group's retention keeps.
func (s *Service) readableRange(g *group, start, end *int64) eventRange {
	r := eventRange{lo: max(0, g.retentionCutoff(s.nowMillis())), hi: -1}
	if start != nil {
		r.lo = max(r.lo, *start)
	}
	if end != nil {
		r.hi = *end
	}
	return r
}

// forward reads up to limit events after p (exclusive), oldest first,
// within the range and the response size.
func (r eventRange) forward(tx store.Tx, prefix string, p position, limit int) ([]storedEvent, error) {
	if p.less(position{TS: r.lo}) {
		p = position{TS: r.lo}
	}
	var out []storedEvent
	size := 0
	err := tx.Scan(eventsTable, store.ScanOptions{Prefix: prefix, After: eventKey(prefix, p), Limit: limit}, func(it store.Item) error {
		e, err := decodeEvent(it)
		if err != nil {
			return err
		}
		if r.hi >= 0 && e.Pos.TS >= r.hi {
			return store.ErrStop
		}
		if size += len(e.Message) + eventOverhead; size > maxResponseBytes && len(out) > 0 {
			return store.ErrStop
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// backward reads up to limit events before p (exclusive; nil means from
// the end), returned oldest first.
func (r eventRange) backward(tx store.Tx, prefix string, p *position, limit int) ([]storedEvent, error) {
	opt := store.ScanOptions{Prefix: prefix, Reverse: true, Limit: limit}
	switch {
	case p != nil && (r.hi < 0 || p.less(position{TS: r.hi})):
		opt.After = eventKey(prefix, *p)
	case r.hi >= 0:
		opt.After = eventKey(prefix, position{TS: r.hi})
	}
	var out []storedEvent
	size := 0
	err := tx.Scan(eventsTable, opt, func(it store.Item) error {
		e, err := decodeEvent(it)
		if err != nil {
			return err
		}
		if e.Pos.TS < r.lo {
			return store.ErrStop
		}
		if size += len(e.Message) + eventOverhead; size > maxResponseBytes && len(out) > 0 {
			return store.ErrStop
		}
		out = append(out, e)
		return nil
	})
	slices.Reverse(out)
	return out, err
}

// eventToken is GetLogEvents' nextForwardToken/nextBackwardToken: a
// direction and a position, written like AWS's as "f/" or "b/" and 56
// digits (19 for the timestamp, 37 for the sequence).
type eventToken struct {
	forward bool
	pos     position
}

func (t eventToken) String() string {
	dir := "b"
	if t.forward {
		dir = "f"
	}
	return fmt.Sprintf("%s/%019d%037d", dir, t.pos.TS, t.pos.Seq)
}

func parseEventToken(s string) (eventToken, error) {
	if len(s) != 58 || s[1] != '/' || (s[0] != 'f' && s[0] != 'b') {
		return eventToken{}, errBadToken()
	}
	ts, err1 := strconv.ParseInt(s[2:21], 10, 64)
	seq, err2 := strconv.ParseUint(s[21:], 10, 64)
	if err := errors.Join(err1, err2); err != nil || ts < 0 {
		return eventToken{}, errBadToken()
	}
	return eventToken{forward: s[0] == 'f', pos: position{TS: ts, Seq: seq}}, nil
}
