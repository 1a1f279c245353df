package logs

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	api "overcast/internal/api/logs"
	"overcast/internal/awsproto"
	"overcast/internal/controller"
	"overcast/internal/store"
)

// ObjectWriter is what export tasks need of S3, which CloudWatch Logs
// calls as its service principal (logs.<region>.amazonaws.com) on behalf of
// the log group sourceARN: the bucket's policy must allow it, as in AWS.
// Errors are S3's API errors (NoSuchBucket, AccessDenied, ...).
type ObjectWriter interface {
	// GetBucketAcl is S3's GetBucketAcl, the check AWS makes of a
	// destination before it accepts an export.
	GetBucketAcl(ctx context.Context, principal, sourceARN, bucket string) error
	// PutObject stores size bytes of body at key, with the canned ACL
	// bucket-owner-full-control that AWS's documented policy requires.
	PutObject(ctx context.Context, principal, sourceARN, bucket, key string, body io.Reader, size int64) error
}

const (
	// exportPartEvents bounds one exported object and one reconcile: a
	// stream with more events in range is exported as 000000.gz,
	// 000001.gz, ...
	exportPartEvents = 100_000
	// defaultExportPrefix is the key prefix when a task names none.
	defaultExportPrefix = "exportedlogs"
	// writeTestKey is the object AWS writes under the prefix to check it
	// may, before it accepts a task.
	writeTestKey     = "aws-logs-write-test"
	writeTestContent = "Permission Check Successful"
)

// exportTask is an export task's record, keyed account/region/taskId, and
// the export controller's progress through it: the stream being exported,
// the next object's number and the last event written, so that a
// restart resumes at the object it was writing.
type exportTask struct {
	ID           string `json:"id"`
	Name         string `json:"name,omitempty"`
	Account      string `json:"account"`
	Region       string `json:"region"`
	Group        string `json:"group"`
	GroupID      uint64 `json:"groupId"`
	StreamPrefix string `json:"streamPrefix,omitempty"`
	From         int64  `json:"from"`
	To           int64  `json:"to"`
	Bucket       string `json:"bucket"`
	Prefix       string `json:"prefix"`
	Status       string `json:"status"`
	Message      string `json:"message"`
	Created      int64  `json:"created"`
	Completed    int64  `json:"completed,omitempty"`

	Stream     string    `json:"stream,omitempty"`
	StreamDone bool      `json:"streamDone,omitempty"`
	Part       int       `json:"part,omitempty"`
	After      *position `json:"after,omitempty"` // of the last event exported from Stream
}

func (t *exportTask) key() string { return groupKey(t.Account, t.Region, t.ID) }

func (t *exportTask) active() bool {
	return t.Status == api.ExportTaskStatusCodePENDING || t.Status == api.ExportTaskStatusCodeRUNNING
}

func (t *exportTask) groupARN() string {
	return (&group{Account: t.Account, Region: t.Region, Name: t.Group}).arn()
}

// logsPrincipal is CloudWatch Logs' service principal in a region.
func logsPrincipal(region string) string { return "logs." + region + ".amazonaws.com" }

func errExportNotFound() error {
	return &awsproto.Error{Code: "ResourceNotFoundException", Status: 400, Message: "The specified export task does not exist."}
}

// bucketError words S3's refusal of a call as CloudWatch Logs reports it;
// other errors are overcast's own.
func bucketError(call string, err error) error {
	if e, ok := awsproto.AsAPIError(err); ok {
		return invalidParameter("%s", bucketRefusal(call, e))
	}
	return err
}

func bucketRefusal(call string, e awsproto.APIError) string {
	switch e.ErrorCode() {
	case "NoSuchBucket":
		return "The specified bucket does not exist."
	case "AccessDenied":
		return call + " call on the given bucket failed. Please check if CloudWatch Logs has been granted permission to perform this operation."
	}
	return call + " call on the given bucket failed: " + e.ErrorMessage()
}

// CreateExportTask implements api.Server. It checks what AWS checks before
// answering (the group, the time range, one active task per account, and
// that CloudWatch Logs may read the bucket's ACL and write under the
// prefix, by writing aws-logs-write-test there), then leaves the export
// to the controller.
func (s *Service) CreateExportTask(ctx context.Context, in *api.CreateExportTaskRequest) (*api.CreateExportTaskResponse, error) {
	ref := groupFromName(ctx, *in.LogGroupName)
	from, to := *in.From, *in.To
	g, err := s.viewGroup(ctx, ref)
	if err != nil {
		return nil, err
	}
	if from > to || to < g.Created {
		return nil, invalidParameter("Specified time range of '%d' and '%d' is not valid. Please make sure the values are within the retention period of the log group and from value is less than the to value", from, to)
	}
	if s.objects == nil {
		return nil, &awsproto.Error{Code: "ServiceUnavailableException", Status: 500, Message: "Export to S3 is not available."}
	}
	if err := s.checkActiveExports(ctx, ref); err != nil {
		return nil, err
	}
	prefix := defaultExportPrefix
	if in.DestinationPrefix != nil {
		prefix = *in.DestinationPrefix
	}
	principal, source := logsPrincipal(ref.Region), g.arn()
	if err := s.objects.GetBucketAcl(ctx, principal, source, *in.Destination); err != nil {
		return nil, bucketError("GetBucketAcl", err)
	}
	if err := s.objects.PutObject(ctx, principal, source, *in.Destination, exportKey(prefix, writeTestKey),
		strings.NewReader(writeTestContent), int64(len(writeTestContent))); err != nil {
		return nil, bucketError("PutObject", err)
	}
	t := exportTask{ID: s.IDs.UUID(), Name: deref(in.TaskName), Account: ref.Account, Region: ref.Region, Group: ref.Name,
		GroupID: g.ID, StreamPrefix: deref(in.LogStreamNamePrefix), From: from, To: to, Bucket: *in.Destination, Prefix: prefix,
		Status: api.ExportTaskStatusCodePENDING, Message: "Pending", Created: s.nowMillis()}
	err = s.update(ctx, func(tx store.Tx) error {
		if err := activeExport(tx, ref.Account); err != nil {
			return err
		}
		_, err := store.PutJSON(tx, exportsTable, t.key(), &t, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.exports.Enqueue(t.key())
	return &api.CreateExportTaskResponse{TaskId: new(t.ID)}, nil
}

// exportKey joins the prefix and the rest of an exported object's key.
func exportKey(prefix string, parts ...string) string {
	return strings.Join(append([]string{prefix}, parts...), "/")
}

// checkActiveExports refuses a task while the account has one active:
// checked before the bucket is written to, and again when the task is
// stored.
func (s *Service) checkActiveExports(ctx context.Context, ref groupRef) error {
	return s.Store.View(ctx, func(tx store.Tx) error { return activeExport(tx, ref.Account) })
}

func activeExport(tx store.Tx, account string) error {
	return store.ScanJSON(tx, exportsTable, store.ScanOptions{Prefix: account + "/"}, func(_ string, t exportTask, _ int64) error {
		if t.active() {
			return errLimitExceeded()
		}
		return nil
	})
}

// CancelExportTask implements api.Server: a PENDING or RUNNING task stops
// before its next object.
func (s *Service) CancelExportTask(ctx context.Context, in *api.CancelExportTaskRequest) error {
	key := callerGroup(ctx, *in.TaskId).key()
	return modifyRecord(ctx, s, exportsTable, key, errExportNotFound(), func(t *exportTask) error {
		if !t.active() {
			return &awsproto.Error{Code: "InvalidOperationException", Status: 400, Message: "The specified export task has already finished"}
		}
		t.Status, t.Message, t.Completed = api.ExportTaskStatusCodeCANCELLED, "Cancelled by user", s.nowMillis()
		return nil
	})
}

const describeExportsMax = 50

// DescribeExportTasks implements api.Server: the caller's tasks, newest
// first, by ID or status.
func (s *Service) DescribeExportTasks(ctx context.Context, in *api.DescribeExportTasksRequest) (*api.DescribeExportTasksResponse, error) {
	limit := awsproto.PageSize(in.Limit, describeExportsMax)
	after, err := awsproto.PageAfter(in.NextToken, errBadToken())
	if err != nil {
		return nil, err
	}
	var tasks []exportTask
	err = s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, exportsTable, store.ScanOptions{Prefix: callerGroup(ctx, "").key()}, func(_ string, t exportTask, _ int64) error {
			if (in.TaskId == nil || t.ID == *in.TaskId) && (in.StatusCode == nil || t.Status == *in.StatusCode) {
				tasks = append(tasks, t)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	order := func(t *exportTask) string { return fmt.Sprintf("%016x/%s", 1<<62-t.Created, t.ID) }
	slices.SortFunc(tasks, func(a, b exportTask) int { return cmp.Compare(order(&a), order(&b)) })
	i, _ := slices.BinarySearchFunc(tasks, after, func(t exportTask, k string) int { return cmp.Compare(order(&t), k) })
	if i < len(tasks) && after != "" && order(&tasks[i]) == after {
		i++
	}
	tasks = tasks[i:]
	out := &api.DescribeExportTasksResponse{ExportTasks: api.ExportTasks{}}
	if len(tasks) > limit {
		tasks = tasks[:limit]
		out.NextToken = awsproto.PageToken(order(&tasks[limit-1]))
	}
	for _, t := range tasks {
		out.ExportTasks = append(out.ExportTasks, t.describe())
	}
	return out, nil
}

func (t *exportTask) describe() api.ExportTask {
	et := api.ExportTask{TaskId: new(t.ID), LogGroupName: new(t.Group), From: new(t.From), To: new(t.To),
		Destination: new(t.Bucket), DestinationPrefix: new(t.Prefix),
		Status:        &api.ExportTaskStatus{Code: new(t.Status), Message: new(t.Message)},
		ExecutionInfo: &api.ExportTaskExecutionInfo{CreationTime: new(t.Created)}}
	if t.Name != "" {
		et.TaskName = new(t.Name)
	}
	if t.Completed != 0 {
		et.ExecutionInfo.CompletionTime = new(t.Completed)
	}
	return et
}

// activeExportKeys lists the tasks still to run: the export controller's
// keys, which is how a restart resumes them.
func (s *Service) activeExportKeys(ctx context.Context) ([]string, error) {
	var keys []string
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, exportsTable, store.ScanOptions{}, func(key string, t exportTask, _ int64) error {
			if t.active() {
				keys = append(keys, key)
			}
			return nil
		})
	})
	return keys, err
}

// runExport exports the next object of a task (PENDING → RUNNING →
// COMPLETED, or FAILED when S3 refuses), one reconcile per object.
func (s *Service) runExport(ctx context.Context, key string) (controller.Result, error) {
	var t exportTask
	if found, err := s.recordFound(ctx, exportsTable, key, &t); !found || !t.active() {
		return controller.Result{}, err
	}
	if t.Status == api.ExportTaskStatusCodePENDING {
		t.Status, t.Message = api.ExportTaskStatusCodeRUNNING, "Started successfully"
		if err := s.saveExport(ctx, &t); err != nil {
			return controller.Result{}, err
		}
	}
	part, err := s.nextExportPart(ctx, &t)
	if err != nil {
		return controller.Result{}, err
	}
	if part == nil {
		t.Status, t.Message, t.Completed = api.ExportTaskStatusCodeCOMPLETED, "Completed successfully", s.nowMillis()
		return controller.Result{}, s.saveExport(ctx, &t)
	}
	objectKey := exportKey(t.Prefix, t.ID, t.Stream, fmt.Sprintf("%06d.gz", t.Part))
	err = s.objects.PutObject(ctx, logsPrincipal(t.Region), t.groupARN(), t.Bucket, objectKey, bytes.NewReader(part.data), int64(len(part.data)))
	if refusal, refused := awsproto.AsAPIError(err); refused {
		t.Status, t.Message, t.Completed = api.ExportTaskStatusCodeFAILED, bucketRefusal("PutObject", refusal), s.nowMillis()
		return controller.Result{}, s.saveExport(ctx, &t)
	}
	if err != nil {
		return controller.Result{}, err
	}
	t.Part, t.After, t.StreamDone = t.Part+1, part.last, part.streamDone
	return controller.Result{Requeue: true}, s.saveExport(ctx, &t)
}

// saveExport writes the controller's progress, unless the task stopped
// meanwhile (CancelExportTask): then it stays as it is.
func (s *Service) saveExport(ctx context.Context, t *exportTask) error {
	return s.update(ctx, func(tx store.Tx) error {
		var cur exportTask
		if _, err := store.GetJSON(tx, exportsTable, t.key(), &cur); errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if !cur.active() {
			return nil
		}
		_, err := store.PutJSON(tx, exportsTable, t.key(), t, store.AnyVersion)
		return err
	})
}

// exportPart is one object's worth of a stream: gzipped lines
// "<ISO 8601 timestamp> <message>", its last event's position, and whether
// the stream has nothing more in range.
type exportPart struct {
	data       []byte
	last       *position
	streamDone bool
}

// nextExportPart reads the next part of the task: more of its current
// stream, or the first part of the next stream (in name order, with the
// prefix) with events in range; nil when every stream is done. It moves
// t to that stream. A group deleted meanwhile has nothing more.
func (s *Service) nextExportPart(ctx context.Context, t *exportTask) (*exportPart, error) {
	var part *exportPart
	err := s.Store.View(ctx, func(tx store.Tx) error {
		g, _, err := loadGroup(tx, groupRef{Account: t.Account, Region: t.Region, Name: t.Group})
		if isNotFound(err) || (err == nil && g.ID != t.GroupID) {
			return nil
		}
		if err != nil {
			return err
		}
		for {
			if t.Stream == "" || t.StreamDone {
				st, ok, err := s.nextExportStream(tx, t)
				if err != nil || !ok {
					return err
				}
				t.Stream, t.StreamDone, t.Part, t.After = st.Name, false, 0, nil
			}
			st, err := loadStream(tx, t.GroupID, t.Stream)
			if isNotFound(err) {
				t.StreamDone = true
				continue
			}
			if err != nil {
				return err
			}
			if part, err = s.readExportPart(tx, t, &st); err != nil || part != nil {
				return err
			}
			t.StreamDone = true
		}
	})
	return part, err
}

func (s *Service) nextExportStream(tx store.Tx, t *exportTask) (stream, bool, error) {
	opt := store.ScanOptions{Prefix: streamPrefix(t.GroupID) + t.StreamPrefix}
	if t.Stream != "" {
		opt.After = streamKey(t.GroupID, t.Stream)
	}
	var next stream
	found := false
	err := store.ScanJSON(tx, streamsTable, opt, func(_ string, st stream, _ int64) error {
		if st.HasEvents && st.LastEvent >= t.From && st.FirstEvent <= t.To {
			next, found = st, true
			return store.ErrStop
		}
		return nil
	})
	return next, found, err
}

// readExportPart reads up to exportPartEvents events of st after t.After
// with timestamps from t.From to t.To (both included), or nil when there
// are none.
func (s *Service) readExportPart(tx store.Tx, t *exportTask, st *stream) (*exportPart, error) {
	prefix := eventPrefix(t.GroupID, st.ID)
	after := eventKey(prefix, position{TS: t.From})
	if t.After != nil {
		after = eventKey(prefix, *t.After)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	n, done := 0, true
	var last position
	err := tx.Scan(eventsTable, store.ScanOptions{Prefix: prefix, After: after, Limit: s.exportPart + 1}, func(it store.Item) error {
		e, err := decodeEvent(it)
		if err != nil {
			return err
		}
		if e.Pos.TS > t.To {
			return store.ErrStop
		}
		if n == s.exportPart {
			done = false
			return store.ErrStop
		}
		fmt.Fprintf(zw, "%s %s\n", time.UnixMilli(e.Pos.TS).UTC().Format("2006-01-02T15:04:05.000Z"), e.Message)
		n, last = n+1, e.Pos
		return nil
	})
	if err != nil || n == 0 {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return &exportPart{data: buf.Bytes(), last: &last, streamDone: done}, nil
}
