package cloudtrail

import (
	"context"
	"testing"

	"overcast"
	api "overcast/internal/api/cloudtrail"
	"overcast/internal/api/sts"
	"overcast/internal/awsproto"
	"overcast/internal/service/servicetest"
	"overcast/internal/store"
)

// TestHistoryMovesOutOfTheMainStore: events that an earlier version
// recorded in the main store move to the history store at start, and
// LookupEvents finds them there.
func TestHistoryMovesOutOfTheMainStore(t *testing.T) {
	dir := t.TempDir()
	old := servicetest.Env(t, servicetest.InDir(dir))
	r := NewRecorder(old.Store, old.Store, "", old.IDs, old.Clock.Now, old.Logger, nil) // as before the history store
	ctx := overcast.WithCaller(context.Background(), overcast.RootCaller("000000000000", "us-east-1"))
	const calls = 300
	for range calls {
		c := &awsproto.Call{Service: sts.Service, Operation: operation(sts.Service, "GetCallerIdentity"), Input: &sts.GetCallerIdentityRequest{}}
		r.Intercept(ctx, c, func(context.Context) (any, error) { return &sts.GetCallerIdentityResponse{}, nil })
	}
	r.Close()
	if n := countEvents(t, old.Store); n == 0 {
		t.Fatal("the old layout holds no events")
	}
	old.Controllers.Stop()
	old.Close()

	env := servicetest.Env(t, servicetest.InDir(dir))
	s := New(env, Options{})
	env.Controllers.Start()
	servicetest.WaitFor(t, "the main store to hold no events", func() bool { return countEvents(t, env.Store) == 0 })

	var found int
	in := &api.LookupEventsRequest{MaxResults: new(int32(50))}
	for {
		out, err := s.LookupEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		found += len(out.Events)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if found != calls {
		t.Errorf("LookupEvents found %d events after the move, want %d", found, calls)
	}
}

// countEvents counts the events in st's segments.
func countEvents(t *testing.T, st store.Store) int {
	t.Helper()
	var n int
	err := st.View(context.Background(), func(tx store.Tx) error {
		return scanEvents(tx, store.ScanOptions{}, nil, func(position, event) error { n++; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
