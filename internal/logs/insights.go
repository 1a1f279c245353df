package logs

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"overcast"
	api "overcast/internal/api/logs"
	"overcast/internal/awsproto"
	"overcast/internal/controller"
	"overcast/internal/store"
)

// Logs Insights: StartQuery stores a query, Scheduled; the logs-insights
// controller runs it (Running) over the events of its groups and time
// range and stores the results (Complete); GetQueryResults reads them, and
// they are deleted after seven days, as AWS keeps them. A restart runs the
// queries that were Scheduled or Running again.

const (
	// maxConcurrentQueries is AWS's quota of queries Scheduled or Running
	// at once in an account and region.
	maxConcurrentQueries = 100
	maxQueryGroups       = 50
	// defaultQueryLimit is how many rows a query returns when neither it
	// nor StartQuery's limit says; maxQueryLimit the most it can.
	defaultQueryLimit = 10_000
	maxQueryLimit     = 100_000
	maxResultsPage    = 10_000
	queryResultsKept  = 7 * 24 * time.Hour
	queryWorkers      = 4
)

// queryRecord is a query and, once it ran, its results: keyed
// account/region/queryId.
type queryRecord struct {
	ID       string       `json:"id"`
	Account  string       `json:"account"`
	Region   string       `json:"region"`
	String   string       `json:"string"`
	Groups   []queryGroup `json:"groups"`
	Start    int64        `json:"start"` // ms, included
	End      int64        `json:"end"`   // ms, included
	Limit    int          `json:"limit"`
	Status   string       `json:"status"`
	Created  int64        `json:"created"`
	Duration int64        `json:"duration,omitempty"`
	User     string       `json:"user,omitempty"`

	Results [][]resultField `json:"results,omitempty"`
	Matched int64           `json:"matched,omitempty"`
	Scanned int64           `json:"scanned,omitempty"`
	Bytes   int64           `json:"bytes,omitempty"`
}

// queryGroup is a group a query reads, by ID: a group deleted and created
// again meanwhile is not the one queried.
type queryGroup struct {
	Name string `json:"name"`
	ID   uint64 `json:"id"`
}

func (q *queryRecord) key() string { return groupKey(q.Account, q.Region, q.ID) }

func (q *queryRecord) active() bool {
	return q.Status == api.QueryStatusScheduled || q.Status == api.QueryStatusRunning
}

func errQueryNotFound() error {
	return &awsproto.Error{Code: "ResourceNotFoundException", Status: 400, Message: "Query does not exist."}
}

// queryRunner cancels the queries running in this process, for StopQuery.
type queryRunner struct {
	mu      sync.Mutex
	cancels map[string]context.CancelFunc
}

func (r *queryRunner) start(ctx context.Context, id string) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancels == nil {
		r.cancels = map[string]context.CancelFunc{}
	}
	r.cancels[id] = cancel
	return ctx, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.cancels, id)
		cancel()
	}
}

func (r *queryRunner) stop(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cancel, ok := r.cancels[id]; ok {
		cancel()
	}
}

// StartQuery implements api.Server.
func (s *Service) StartQuery(ctx context.Context, in *api.StartQueryRequest) (*api.StartQueryResponse, error) {
	if lang := deref(in.QueryLanguage); lang != "" && lang != api.QueryLanguageCWLI {
		return nil, invalidParameter("Query language %s is not supported here; use CWLI, the Logs Insights query language.", lang)
	}
	refs, err := queryGroupRefs(ctx, in)
	if err != nil {
		return nil, err
	}
	if *in.EndTime < *in.StartTime {
		return nil, invalidParameter("End time %d is before start time %d.", *in.EndTime, *in.StartTime)
	}
	compiled, err := compileQuery(*in.QueryString)
	if err != nil {
		return nil, err
	}
	limit := defaultQueryLimit
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	if slices.ContainsFunc(compiled.commands, func(c queryCommand) bool { _, ok := c.(limitCmd); return ok }) {
		limit = maxQueryLimit // the query's own limit wins over StartQuery's
	}
	caller := overcast.CallerFrom(ctx)
	q := queryRecord{ID: s.ids.UUID(), Account: refs[0].Account, Region: refs[0].Region, String: *in.QueryString,
		Start: *in.StartTime * 1000, End: *in.EndTime * 1000, Limit: limit, Status: api.QueryStatusScheduled, Created: s.nowMillis(), User: caller.ARN}
	err = s.update(ctx, func(tx store.Tx) error {
		q.Groups = q.Groups[:0]
		for _, ref := range refs {
			g, _, err := loadGroup(tx, ref)
			if isNotFound(err) {
				return &awsproto.Error{Code: "ResourceNotFoundException", Status: 400,
					Message: "Log group '" + ref.Name + "' does not exist for account ID '" + ref.Account + "'"}
			}
			if err != nil {
				return err
			}
			q.Groups = append(q.Groups, queryGroup{Name: g.Name, ID: g.ID})
		}
		active := 0
		err := store.ScanJSON(tx, queriesTable, store.ScanOptions{Prefix: groupKey(q.Account, q.Region, "")}, func(_ string, other queryRecord, _ int64) error {
			if other.active() {
				active++
			}
			return nil
		})
		if err != nil {
			return err
		}
		if active >= maxConcurrentQueries {
			return &awsproto.Error{Code: "LimitExceededException", Status: 400,
				Message: "Account maximum query concurrency limit of [" + strconv.Itoa(maxConcurrentQueries) + "] reached."}
		}
		_, err = store.PutJSON(tx, queriesTable, q.key(), &q, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.queries.Enqueue(q.key())
	return &api.StartQueryResponse{QueryId: new(q.ID)}, nil
}

// queryGroupRefs are the groups StartQuery names, in exactly one of its
// three ways.
func queryGroupRefs(ctx context.Context, in *api.StartQueryRequest) ([]groupRef, error) {
	given := 0
	for _, set := range []bool{in.LogGroupName != nil, len(in.LogGroupNames) > 0, len(in.LogGroupIdentifiers) > 0} {
		if set {
			given++
		}
	}
	if given != 1 {
		return nil, invalidParameter("Exactly one of logGroupName, logGroupNames or logGroupIdentifiers must be specified.")
	}
	if len(in.LogGroupNames) > maxQueryGroups || len(in.LogGroupIdentifiers) > maxQueryGroups {
		return nil, invalidParameter("A query can reference at most %d log groups.", maxQueryGroups)
	}
	var refs []groupRef
	switch {
	case in.LogGroupName != nil:
		refs = append(refs, callerGroup(ctx, *in.LogGroupName))
	case len(in.LogGroupNames) > 0:
		for _, name := range in.LogGroupNames {
			refs = append(refs, callerGroup(ctx, name))
		}
	default:
		for _, id := range in.LogGroupIdentifiers {
			ref, err := groupFromIdentifier(ctx, "logGroupIdentifiers", id)
			if err != nil {
				return nil, err
			}
			refs = append(refs, ref)
		}
	}
	return refs, nil
}

// GetQueryResults implements api.Server: the results once the query is
// Complete (none before), a page of maxItems at a time.
func (s *Service) GetQueryResults(ctx context.Context, in *api.GetQueryResultsRequest) (*api.GetQueryResultsResponse, error) {
	var q queryRecord
	err := s.viewRecord(ctx, queriesTable, callerGroup(ctx, *in.QueryId).key(), &q)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errQueryNotFound()
	}
	if err != nil {
		return nil, err
	}
	offset := 0
	if in.NextToken != nil {
		after, err := awsproto.PageAfter(in.NextToken, errBadToken())
		if offset, err = strconv.Atoi(after); err != nil || offset < 0 {
			return nil, errBadToken()
		}
	}
	size := maxResultsPage
	if in.MaxItems != nil && *in.MaxItems > 0 {
		size = int(*in.MaxItems)
	}
	out := &api.GetQueryResultsResponse{QueryLanguage: new(api.QueryLanguageCWLI), Status: new(q.Status), Results: api.QueryResults{},
		Statistics: &api.QueryStatistics{RecordsMatched: new(float64(q.Matched)), RecordsScanned: new(float64(q.Scanned)),
			BytesScanned: new(float64(q.Bytes))}}
	page := q.Results[min(offset, len(q.Results)):]
	if len(page) > size {
		page = page[:size]
		out.NextToken = awsproto.PageToken(strconv.Itoa(offset + size))
	}
	for _, r := range page {
		row := make(api.ResultRows, len(r))
		for i, f := range r {
			row[i] = api.ResultField{Field: new(f.Field), Value: new(f.Value)}
		}
		out.Results = append(out.Results, row)
	}
	return out, nil
}

// StopQuery implements api.Server: a Scheduled or Running query is
// Cancelled, and stops running.
func (s *Service) StopQuery(ctx context.Context, in *api.StopQueryRequest) (*api.StopQueryResponse, error) {
	key := callerGroup(ctx, *in.QueryId).key()
	err := modifyRecord(ctx, s, queriesTable, key, errQueryNotFound(), func(q *queryRecord) error {
		if !q.active() {
			return invalidParameter("Query %s is not running.", q.ID)
		}
		q.Status = api.QueryStatusCancelled
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.running.stop(*in.QueryId)
	return &api.StopQueryResponse{Success: new(true)}, nil
}

const describeQueriesMax = 1000

// DescribeQueries implements api.Server: the caller's recent queries,
// newest first, of a group or with a status.
func (s *Service) DescribeQueries(ctx context.Context, in *api.DescribeQueriesRequest) (*api.DescribeQueriesResponse, error) {
	limit := awsproto.PageSize(in.MaxResults, describeQueriesMax)
	offset := 0
	if in.NextToken != nil {
		after, err := awsproto.PageAfter(in.NextToken, errBadToken())
		if offset, err = strconv.Atoi(after); err != nil || offset < 0 {
			return nil, errBadToken()
		}
	}
	var queries []queryRecord
	err := s.st.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, queriesTable, store.ScanOptions{Prefix: callerGroup(ctx, "").key()}, func(_ string, q queryRecord, _ int64) error {
			inGroup := in.LogGroupName == nil || slices.ContainsFunc(q.Groups, func(g queryGroup) bool { return g.Name == *in.LogGroupName })
			if inGroup && (in.Status == nil || q.Status == *in.Status) && (in.QueryLanguage == nil || *in.QueryLanguage == api.QueryLanguageCWLI) {
				q.Results = nil
				queries = append(queries, q)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(queries, func(a, b queryRecord) int { return cmp.Compare(b.Created, a.Created) })
	out := &api.DescribeQueriesResponse{Queries: api.QueryInfoList{}}
	queries = queries[min(offset, len(queries)):]
	if len(queries) > limit {
		queries = queries[:limit]
		out.NextToken = awsproto.PageToken(strconv.Itoa(offset + limit))
	}
	for _, q := range queries {
		info := api.QueryInfo{QueryLanguage: new(api.QueryLanguageCWLI), QueryId: new(q.ID), QueryString: new(q.String),
			Status: new(q.Status), CreateTime: new(q.Created), LogGroupName: new(q.Groups[0].Name)}
		if q.Status == api.QueryStatusComplete {
			info.QueryDuration, info.BytesScanned = new(q.Duration), new(float64(q.Bytes))
		}
		if q.User != "" {
			info.UserIdentity = new(q.User)
		}
		out.Queries = append(out.Queries, info)
	}
	return out, nil
}

// runQuery runs a Scheduled (or, after a restart, Running) query to
// completion, and deletes a finished one's results after seven days.
func (s *Service) runQuery(ctx context.Context, key string) (controller.Result, error) {
	var q queryRecord
	if found, err := s.recordFound(ctx, queriesTable, key, &q); !found {
		return controller.Result{}, err
	}
	expires := time.UnixMilli(q.Created).Add(queryResultsKept)
	if !q.active() {
		if s.now().Before(expires) {
			return controller.At(expires), nil
		}
		return controller.Result{}, s.update(ctx, func(tx store.Tx) error {
			err := tx.Delete(queriesTable, key, store.AnyVersion)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		})
	}
	compiled, err := compileQuery(q.String)
	if err != nil {
		return controller.Result{}, err // it compiled when it was started
	}
	started := s.now()
	if !s.setQuery(ctx, key, func(cur *queryRecord) { cur.Status = api.QueryStatusRunning }) {
		return controller.Result{}, nil // stopped meanwhile
	}
	qctx, done := s.running.start(ctx, q.ID)
	defer done()
	results, stats, err := s.executeQuery(qctx, &q, compiled)
	if qctx.Err() != nil && ctx.Err() == nil {
		return controller.At(expires), nil // StopQuery: it is Cancelled
	}
	if err != nil {
		return controller.Result{}, err
	}
	s.setQuery(ctx, key, func(cur *queryRecord) {
		cur.Status, cur.Results, cur.Duration = api.QueryStatusComplete, results, s.now().Sub(started).Milliseconds()
		cur.Matched, cur.Scanned, cur.Bytes = stats.Matched, stats.Scanned, stats.Bytes
	})
	return controller.At(expires), nil
}

// setQuery changes a query that is still active, reporting whether it
// was.
func (s *Service) setQuery(ctx context.Context, key string, change func(*queryRecord)) bool {
	changed := false
	err := s.update(ctx, func(tx store.Tx) error {
		var cur queryRecord
		if _, err := store.GetJSON(tx, queriesTable, key, &cur); err != nil {
			return err
		}
		if changed = cur.active(); !changed {
			return nil
		}
		change(&cur)
		_, err := store.PutJSON(tx, queriesTable, key, &cur, store.AnyVersion)
		return err
	})
	return err == nil && changed
}

type queryStats struct{ Matched, Scanned, Bytes int64 }

// executeQuery runs a query over its groups' events in its time range
// (within each group's retention), in one snapshot of the store.
func (s *Service) executeQuery(ctx context.Context, q *queryRecord, compiled *query) ([][]resultField, queryStats, error) {
	var stats queryStats
	var results [][]resultField
	err := s.st.View(ctx, func(tx store.Tx) error {
		scan := func(yield func(*queryEvent) bool) error {
			for _, qg := range q.Groups {
				if err := s.scanQueryGroup(ctx, tx, q, qg, &stats, yield); err != nil {
					return err
				}
			}
			return nil
		}
		var err error
		results, stats.Matched, err = compiled.run(scan, q.Limit)
		return err
	})
	return results, stats, err
}

func (s *Service) scanQueryGroup(ctx context.Context, tx store.Tx, q *queryRecord, qg queryGroup, stats *queryStats, yield func(*queryEvent) bool) error {
	g, _, err := loadGroup(tx, groupRef{Account: q.Account, Region: q.Region, Name: qg.Name})
	if isNotFound(err) || (err == nil && g.ID != qg.ID) {
		return nil // deleted since
	}
	if err != nil {
		return err
	}
	lo := max(q.Start, g.retentionCutoff(s.nowMillis()))
	var streams []stream
	err = store.ScanJSON(tx, streamsTable, store.ScanOptions{Prefix: streamPrefix(g.ID)}, func(_ string, st stream, _ int64) error {
		if st.HasEvents && st.LastEvent >= lo && st.FirstEvent <= q.End {
			streams = append(streams, st)
		}
		return nil
	})
	if err != nil {
		return err
	}
	log := g.Account + ":" + g.Name
	for i := range streams {
		st := &streams[i]
		prefix := eventPrefix(g.ID, st.ID)
		err := tx.Scan(eventsTable, store.ScanOptions{Prefix: prefix, After: eventKey(prefix, position{TS: lo})}, func(it store.Item) error {
			e, err := decodeEvent(it)
			if err != nil {
				return err
			}
			if e.Pos.TS > q.End {
				return store.ErrStop
			}
			if stats.Scanned++; stats.Scanned%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			stats.Bytes += int64(len(e.Message))
			yield(&queryEvent{ts: e.Pos.TS, ingestion: e.Ingestion, message: e.Message, stream: st.Name, log: log,
				ptr: queryPtr(g.ID, st.ID, e.Pos)})
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// queryPtr is a result's @ptr: where its event is stored.
func queryPtr(groupID, streamID uint64, p position) string {
	var b [32]byte
	binary.BigEndian.PutUint64(b[:8], groupID)
	binary.BigEndian.PutUint64(b[8:16], streamID)
	binary.BigEndian.PutUint64(b[16:24], uint64(p.TS))
	binary.BigEndian.PutUint64(b[24:], p.Seq)
	return base64.RawStdEncoding.EncodeToString(b[:])
}
