package logs

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	api "overcast/internal/api/logs"
	"overcast/internal/awsproto"
	"overcast/internal/service/servicetest"
)

// bucket is an ObjectWriter keeping objects in memory; refuse makes it
// answer every call as S3 answers a policy that does not allow it.
type bucket struct {
	mu      sync.Mutex
	objects map[string][]byte
	refuse  bool
}

var _ ObjectWriter = (*bucket)(nil)

func (b *bucket) GetBucketAcl(ctx context.Context, principal, sourceARN, name string) error {
	return nil
}

func (b *bucket) PutObject(ctx context.Context, principal, sourceARN, name, key string, body io.Reader, size int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.refuse {
		return &awsproto.Error{Code: "AccessDenied", Status: 403, Message: "Access Denied"}
	}
	data, err := io.ReadAll(body)
	if err != nil || int64(len(data)) != size {
		return fmt.Errorf("read %d of %d bytes: %v", len(data), size, err)
	}
	if b.objects == nil {
		b.objects = map[string][]byte{}
	}
	b.objects[key] = data
	return nil
}

// lines returns the objects under prefix, gunzipped, key by key.
func (b *bucket) lines(t *testing.T, prefix string) map[string]string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]string{}
	for k, v := range b.objects {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		r, err := gzip.NewReader(bytes.NewReader(v))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		text, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimPrefix(k, prefix)] = string(text)
	}
	return out
}

func exportStatus(t *testing.T, s *Service, id string) string {
	t.Helper()
	out, err := s.DescribeExportTasks(context.Background(), &api.DescribeExportTasksRequest{TaskId: new(id)})
	if err != nil || len(out.ExportTasks) != 1 {
		t.Fatalf("DescribeExportTasks %s: %v, %v", id, out, err)
	}
	return *out.ExportTasks[0].Status.Code + " " + *out.ExportTasks[0].Status.Message
}

// TestExportResumes exports a stream in objects of two events, stops
// after the first (as a kill would), and lets a new service on the same
// store finish: it resumes at the second object and writes no event twice.
func TestExportResumes(t *testing.T) {
	ctx := context.Background()
	b := &bucket{}
	start, fake := restartable(t, b)
	s := start()
	s.exportPart = 2
	at := fake.Now()
	var events []Event
	for i := range 5 {
		events = append(events, Event{Timestamp: at.Add(time.Duration(i) * time.Second), Message: fmt.Sprint("event ", i)})
	}
	for _, st := range []string{"a", "b"} {
		appendEvents(t, s, "g", st, events...)
	}
	out, err := s.CreateExportTask(ctx, &api.CreateExportTaskRequest{LogGroupName: new("g"), From: new(at.UnixMilli()),
		To: new(at.Add(time.Hour).UnixMilli()), Destination: new("bucket"), DestinationPrefix: new("p")})
	if err != nil {
		t.Fatal(err)
	}
	id := *out.TaskId
	if got := exportStatus(t, s, id); got != "PENDING Pending" {
		t.Errorf("new task: %s", got)
	}
	// One active task per account.
	_, err = s.CreateExportTask(ctx, &api.CreateExportTaskRequest{LogGroupName: new("g"), From: new(int64(0)),
		To: new(at.UnixMilli()), Destination: new("bucket")})
	if code, msg := apiCode(err); code != "LimitExceededException" || msg != "Resource limit exceeded." {
		t.Errorf("a second active task: got %q %q, want LimitExceededException", code, msg)
	}

	key := defaultKey(id)
	if res, err := s.runExport(ctx, key); err != nil || !res.Requeue {
		t.Fatalf("first reconcile: %+v, %v; want a requeue", res, err)
	}
	if got := exportStatus(t, s, id); got != "RUNNING Started successfully" {
		t.Errorf("after one object: %s", got)
	}

	restarted := start()
	restarted.exportPart = 2
	keys, err := restarted.activeExportKeys(ctx)
	if err != nil || !cmp.Equal(keys, []string{key}) {
		t.Fatalf("keys after the restart: %v, %v; want the task", keys, err)
	}
	for i := 0; ; i++ {
		res, err := restarted.runExport(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Requeue {
			break
		}
		if i > 10 {
			t.Fatal("the export never ends")
		}
	}
	if got := exportStatus(t, restarted, id); got != "COMPLETED Completed successfully" {
		t.Errorf("at the end: %s", got)
	}
	line := func(i int) string {
		return at.Add(time.Duration(i)*time.Second).Format("2006-01-02T15:04:05.000Z") + fmt.Sprint(" event ", i, "\n")
	}
	want := map[string]string{}
	for _, st := range []string{"a", "b"} {
		want[st+"/000000.gz"] = line(0) + line(1)
		want[st+"/000001.gz"] = line(2) + line(3)
		want[st+"/000002.gz"] = line(4)
	}
	if diff := cmp.Diff(want, b.lines(t, "p/"+id+"/")); diff != "" {
		t.Errorf("exported objects (-want +got):\n%s", diff)
	}
}

func TestExportCancelAndFail(t *testing.T) {
	ctx := context.Background()
	b := &bucket{}
	env := servicetest.Env(t)
	s := New(env, b)
	at := servicetest.Fake(env).Now()
	appendEvents(t, s, "g", "s", Event{Timestamp: at, Message: "m"})
	create := func() string {
		t.Helper()
		out, err := s.CreateExportTask(ctx, &api.CreateExportTaskRequest{LogGroupName: new("g"), From: new(int64(0)),
			To: new(at.UnixMilli()), Destination: new("bucket")})
		if err != nil {
			t.Fatal(err)
		}
		return *out.TaskId
	}

	// The range must end after the group was created.
	_, err := s.CreateExportTask(ctx, &api.CreateExportTaskRequest{LogGroupName: new("g"), From: new(int64(0)),
		To: new(at.Add(-time.Hour).UnixMilli()), Destination: new("bucket")})
	if code, _ := apiCode(err); code != "InvalidParameterException" {
		t.Errorf("a range before the group: got %v, want InvalidParameterException", err)
	}

	id := create()
	if err := s.CancelExportTask(ctx, &api.CancelExportTaskRequest{TaskId: new(id)}); err != nil {
		t.Fatal(err)
	}
	if got := exportStatus(t, s, id); got != "CANCELLED Cancelled by user" {
		t.Errorf("cancelled task: %s", got)
	}
	err = s.CancelExportTask(ctx, &api.CancelExportTaskRequest{TaskId: new(id)})
	if code, _ := apiCode(err); code != "InvalidOperationException" {
		t.Errorf("cancelling again: got %v, want InvalidOperationException", err)
	}
	if res, err := s.runExport(ctx, defaultKey(id)); err != nil || res.Requeue {
		t.Errorf("reconciling a cancelled task: %+v, %v; want nothing done", res, err)
	}

	// A bucket that stops accepting the objects fails the task.
	id = create()
	b.refuse = true
	env.Controllers.Start()
	servicetest.WaitFor(t, "the export to fail", func() bool { return strings.HasPrefix(exportStatus(t, s, id), "FAILED ") })
	if got, want := exportStatus(t, s, id), "FAILED PutObject call on the given bucket failed. Please check if CloudWatch Logs has been granted permission to perform this operation."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
