package logs

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	api "overcast/internal/api/logs"
	"overcast/internal/store"
)

func queryStatus(t *testing.T, s *Service, id string) string {
	t.Helper()
	out, err := s.GetQueryResults(context.Background(), &api.GetQueryResultsRequest{QueryId: new(id)})
	if err != nil {
		t.Fatalf("GetQueryResults: %v", err)
	}
	return *out.Status
}

// TestQueryLifecycle follows queries from Scheduled: one stopped before it
// runs, one left Scheduled by a restart and run by the new service, and
// results deleted seven days later.
func TestQueryLifecycle(t *testing.T) {
	ctx := context.Background()
	start, fake := restartable(t, nil)
	s := start()
	at := fake.Now()
	appendEvents(t, s, "g", "s", Event{Timestamp: at, Message: "hello"})
	startQuery := func(s *Service) string {
		t.Helper()
		out, err := s.StartQuery(ctx, &api.StartQueryRequest{LogGroupName: new("g"), StartTime: new(at.Unix() - 60), EndTime: new(at.Unix()),
			QueryString: new("fields @message")})
		if err != nil {
			t.Fatal(err)
		}
		return *out.QueryId
	}
	key := defaultKey

	stopped := startQuery(s)
	if got := queryStatus(t, s, stopped); got != "Scheduled" {
		t.Errorf("new query: %s, want Scheduled", got)
	}
	if out, err := s.StopQuery(ctx, &api.StopQueryRequest{QueryId: new(stopped)}); err != nil || !*out.Success {
		t.Fatalf("StopQuery: %v, %v", out, err)
	}
	if _, err := s.runQuery(ctx, key(stopped)); err != nil {
		t.Fatal(err)
	}
	if got := queryStatus(t, s, stopped); got != "Cancelled" {
		t.Errorf("stopped query after its reconcile: %s, want Cancelled", got)
	}

	pending := startQuery(s)
	restarted := start()
	keys, err := store.TableKeys(ctx, restarted.st, queriesTable)
	if err != nil || !cmp.Equal(keys, []string{key(pending), key(stopped)}) && !cmp.Equal(keys, []string{key(stopped), key(pending)}) {
		t.Fatalf("keys after the restart: %v, %v", keys, err)
	}
	res, err := restarted.runQuery(ctx, key(pending))
	if err != nil {
		t.Fatal(err)
	}
	if want := at.Add(7 * 24 * time.Hour); !res.RequeueAt.Equal(want) {
		t.Errorf("a completed query is looked at again at %v, want %v (when its results expire)", res.RequeueAt, want)
	}
	out, err := restarted.GetQueryResults(ctx, &api.GetQueryResultsRequest{QueryId: new(pending)})
	if err != nil || *out.Status != "Complete" || len(out.Results) != 1 || *out.Results[0][0].Value != "hello" {
		t.Fatalf("GetQueryResults after the restart: %+v, %v", out, err)
	}

	fake.Advance(7 * 24 * time.Hour)
	if _, err := restarted.runQuery(ctx, key(pending)); err != nil {
		t.Fatal(err)
	}
	_, err = restarted.GetQueryResults(ctx, &api.GetQueryResultsRequest{QueryId: new(pending)})
	if code, _ := apiCode(err); code != "ResourceNotFoundException" {
		t.Errorf("results seven days later: got %v, want ResourceNotFoundException", err)
	}
}
