// Package logs implements Amazon CloudWatch Logs: log groups and streams,
// retention, tags, PutLogEvents, GetLogEvents and FilterLogEvents with the
// filter-pattern language, in the store, per account and region. Other
// services (ECS's awslogs driver, CodeBuild) write through Append.
//
// Storage layout, chosen so that one stream's reads stay fast however many
// events the store holds:
//
//	logs.groups   account/region/name        → group (JSON)
//	logs.streams  %016x(groupID)/streamName  → stream (JSON)
//	logs.events   be64(groupID) be64(streamID) be64(timestamp) be64(seq) → be64(ingestion) message
//	logs.gc       be64(groupID)[be64(streamID)] → nothing: event ranges to delete
//	logs.meta     "next-id"                   → the last ID handed out
//	logs.metricfilters, logs.subscriptions
//	              account/region/name:filter → filter (JSON)
//	logs.metrics  account/region/namespace NUL metric NUL dimensions NUL minute → minute's statistics (JSON)
//	logs.exports  account/region/taskId       → export task and its progress (JSON)
//	logs.queries  account/region/queryId      → Logs Insights query and its results (JSON)
//
// Events are keyed by IDs, not names: a stream's events are one contiguous
// key range ordered by time, so GetLogEvents is a single range scan, and
// deleting a group or stream only drops its record and leaves a tombstone;
// the reclaim controller deletes the range in small transactions. A
// re-created group of the same name gets a new ID and never sees the old
// events.
package logs

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	api "overcast/internal/api/logs"
	"overcast/internal/awsproto"
	"overcast/internal/controller"
	"overcast/internal/service"
	"overcast/internal/store"
)

const (
	groupsTable  = "logs.groups"
	streamsTable = "logs.streams"
	eventsTable  = "logs.events"
	gcTable      = "logs.gc"
	metaTable    = "logs.meta"

	metricFiltersTable = "logs.metricfilters"
	subscriptionsTable = "logs.subscriptions"
	metricsTable       = "logs.metrics"
	exportsTable       = "logs.exports"
	queriesTable       = "logs.queries"
)

// Limits AWS documents for CloudWatch Logs.
const (
	maxBatchEvents    = 10_000
	maxBatchBytes     = 1_048_576
	eventOverhead     = 26 // bytes AWS adds to each message when sizing a batch
	maxBatchSpan      = 24 * time.Hour
	maxEventAge       = 14 * 24 * time.Hour
	maxEventAhead     = 2 * time.Hour
	maxResponseEvents = 10_000
	maxResponseBytes  = 1_048_576
	maxTagsPerGroup   = 50
	msPerDay          = int64(24 * time.Hour / time.Millisecond)
	// maxLogGroups is the per account and region quota (AWS's default is
	// 1,000,000); beyond it CreateLogGroup is LimitExceededException.
	maxLogGroups = 1_000_000
)

// Service is the CloudWatch Logs API.
type Service struct {
	api.UnimplementedServer
	service.Base
	objects ObjectWriter // S3, for export tasks

	filterScan   int // maxFilterScan; tests lower it
	maxLogGroups int // maxLogGroups; tests lower it

	patterns   patternCache // of metric and subscription filters
	exportPart int          // exportPartEvents; tests lower it

	// reclaim deletes the events of deleted groups and streams; retention
	// deletes events older than their group's retention. Reads hide both
	// at once: the controllers only give the space back.
	reclaim, retention *controller.Controller
	// exports runs export tasks, an object per reconcile.
	exports *controller.Controller
	// queries runs Logs Insights queries; running cancels them.
	queries *controller.Controller
	running queryRunner
}

var _ api.Server = (*Service)(nil)

// retentionResync is how often every group with a retention is looked at
// again: events expire as time passes, with no request to say so.
const retentionResync = time.Minute

// New returns CloudWatch Logs; export tasks write to S3 through objects.
func New(env *service.Env, objects ObjectWriter) *Service {
	s := &Service{Base: env.Base(), objects: objects,
		filterScan: maxFilterScan, maxLogGroups: maxLogGroups, exportPart: exportPartEvents}
	// reclaim is keyed by the tombstones.
	s.reclaim = env.Controllers.AddFunc("logs-reclaim", s.reclaimTombstone, store.TableKeysFunc(s.Store, gcTable))
	s.retention = env.Controllers.Add(controller.Config{
		Name:       "logs-retention",
		Reconciler: controller.ReconcilerFunc(s.expireGroup),
		Keys:       s.retainingGroups,
		Resync:     retentionResync,
	})
	s.exports = env.Controllers.AddFunc("logs-export", s.runExport, s.activeExportKeys)
	// Queries are keyed by every query: the active ones to run (again,
	// after a restart), the others to delete when their results expire.
	s.queries = env.Controllers.Add(controller.Config{
		Name:       "logs-insights",
		Reconciler: controller.ReconcilerFunc(s.runQuery),
		Keys:       store.TableKeysFunc(s.Store, queriesTable),
		Workers:    queryWorkers,
	})
	return s
}

// API is CloudWatch Logs' API for the gateway.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: authzTable} }

func (s *Service) nowMillis() int64 { return s.Now().UnixMilli() }

// group is a log group's record.
type group struct {
	ID                 uint64            `json:"id"`
	Account            string            `json:"account"`
	Region             string            `json:"region"`
	Name               string            `json:"name"`
	Created            int64             `json:"created"` // ms since the epoch
	RetentionDays      int32             `json:"retentionDays,omitempty"`
	KmsKeyID           string            `json:"kmsKeyId,omitempty"`
	Class              string            `json:"class"`
	Tags               map[string]string `json:"tags,omitempty"`
	StoredBytes        int64             `json:"storedBytes"`
	DeletionProtection bool              `json:"deletionProtection,omitempty"`
	MetricFilters      int32             `json:"metricFilters,omitempty"`
	Subscriptions      int32             `json:"subscriptions,omitempty"`
}

// retentionCutoff is the oldest timestamp (ms) still kept at now, or 0.
func (g *group) retentionCutoff(now int64) int64 {
	if g.RetentionDays <= 0 {
		return 0
	}
	return now - int64(g.RetentionDays)*msPerDay
}

func (g *group) arn() string {
	return groupRef{Account: g.Account, Region: g.Region, Name: g.Name}.arn()
}

func (r groupRef) arn() string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", r.Region, r.Account, r.Name)
}

// streamARN is the ARN of the group's stream name.
func (r groupRef) streamARN(name string) string { return r.arn() + ":log-stream:" + name }

// stream is a log stream's record, including the counters DescribeLogStreams
// reports, kept up to date by every write so that describing is one read.
type stream struct {
	ID            uint64 `json:"id"`
	Name          string `json:"name"`
	Created       int64  `json:"created"`
	FirstEvent    int64  `json:"firstEvent,omitempty"`
	LastEvent     int64  `json:"lastEvent,omitempty"`
	LastIngestion int64  `json:"lastIngestion,omitempty"`
	StoredBytes   int64  `json:"storedBytes"`
	HasEvents     bool   `json:"hasEvents,omitempty"`
	// Seq numbers this stream's events in arrival order; it breaks ties
	// between equal timestamps and is part of every event's key.
	Seq uint64 `json:"seq"`
	// Oldest is a lower bound on the timestamps still stored: the retention
	// controller skips streams with nothing older than the retention cutoff.
	Oldest int64 `json:"oldest,omitempty"`
}

func groupKey(account, region, name string) string { return account + "/" + region + "/" + name }

func streamPrefix(groupID uint64) string { return fmt.Sprintf("%016x/", groupID) }

func streamKey(groupID uint64, name string) string { return streamPrefix(groupID) + name }

// position is where an event sits in its stream: events sort by timestamp,
// then by arrival.
type position struct {
	TS  int64
	Seq uint64
}

func (p position) less(q position) bool {
	return p.TS < q.TS || p.TS == q.TS && p.Seq < q.Seq
}

// eventPrefix is the key prefix of one stream's events (or, with streamID
// 0 and len 8, of a whole group's).
func eventPrefix(groupID, streamID uint64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], groupID)
	binary.BigEndian.PutUint64(b[8:], streamID)
	return string(b[:])
}

func eventKey(prefix string, p position) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(p.TS))
	binary.BigEndian.PutUint64(b[8:], p.Seq)
	return prefix + string(b[:])
}

// storedEvent is one event as read back.
type storedEvent struct {
	Pos       position
	Ingestion int64
	Message   string
}

func decodeEvent(it store.Item) (storedEvent, error) {
	k, v := it.Key, it.Value
	if len(k) != 32 || len(v) < 8 {
		return storedEvent{}, fmt.Errorf("logs: corrupt event %x", k)
	}
	return storedEvent{
		Pos:       position{TS: int64(binary.BigEndian.Uint64([]byte(k[16:24]))), Seq: binary.BigEndian.Uint64([]byte(k[24:32]))},
		Ingestion: int64(binary.BigEndian.Uint64(v[:8])),
		Message:   string(v[8:]),
	}, nil
}

func encodeEventValue(ingestion int64, message string) []byte {
	v := make([]byte, 8+len(message))
	binary.BigEndian.PutUint64(v, uint64(ingestion))
	copy(v[8:], message)
	return v
}

// nextID hands out group and stream IDs, unique across accounts and
// regions; it must run inside the Update that uses the ID.
func nextID(tx store.Tx) (uint64, error) {
	var last uint64
	it, err := tx.Get(metaTable, "next-id")
	switch {
	case err == nil:
		if last, err = strconv.ParseUint(string(it.Value), 10, 64); err != nil {
			return 0, fmt.Errorf("logs: corrupt id counter: %w", err)
		}
	case err != store.ErrNotFound:
		return 0, err
	}
	last++
	if _, err := tx.Put(metaTable, "next-id", []byte(strconv.FormatUint(last, 10)), store.AnyVersion); err != nil {
		return 0, err
	}
	return last, nil
}

// Errors with the messages AWS sends. The modeled exceptions of this API
// carry no message member, so these are plain awsproto errors with the
// modeled codes; the SDKs decode them into the modeled types all the same.
func errGroupNotFound() error {
	return &awsproto.Error{Code: "ResourceNotFoundException", Status: 400, Message: "The specified log group does not exist."}
}

func errStreamNotFound() error {
	return &awsproto.Error{Code: "ResourceNotFoundException", Status: 400, Message: "The specified log stream does not exist."}
}

func invalidParameter(format string, args ...any) error {
	return &awsproto.Error{Code: "InvalidParameterException", Status: 400, Message: fmt.Sprintf(format, args...)}
}

// parseToken parses a request's NextToken with parse: nil when there is
// none.
func parseToken[T any](token *string, parse func(string) (T, error)) (*T, error) {
	if token == nil {
		return nil, nil
	}
	v, err := parse(*token)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func errBadToken() error { return invalidParameter("The specified nextToken is invalid.") }
