package controller_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"overcast/internal/clock"
	"overcast/internal/controller"
	"overcast/internal/service/servicetest"
	"overcast/internal/store"
	"overcast/internal/store/sqlite"
)

const (
	jobsTable = "test.jobs" // job name → steps still to do
	doneTable = "test.done" // job name/step → nothing: each step's effect
)

// jobs is a reconciler of store-backed work: each job has steps left, and
// a reconcile does one step (its effect and the new count in one
// transaction), then asks to run again. Everything it knows is in the
// store, as ARCHITECTURE asks of every controller.
type jobs struct {
	st    store.Store
	steps atomic.Int32
	// stall, when set, makes reconciles block once this many steps ran:
	// the process "dies" with work half done.
	stall int32
}

func (j *jobs) keys(ctx context.Context) ([]string, error) {
	return store.TableKeys(ctx, j.st, jobsTable)
}

func (j *jobs) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	if j.stall > 0 && j.steps.Load() >= j.stall {
		<-ctx.Done()
		return controller.Result{}, ctx.Err()
	}
	left := 0
	err := j.st.Update(ctx, func(tx store.Tx) error {
		it, err := tx.Get(jobsTable, key)
		if errors.Is(err, store.ErrNotFound) {
			left = 0
			return nil
		}
		if err != nil {
			return err
		}
		if left, err = strconv.Atoi(string(it.Value)); err != nil {
			return err
		}
		if _, err := tx.Put(doneTable, key+"/"+strconv.Itoa(left), nil, 0); err != nil {
			return err // a step done twice would be a conflict here
		}
		left--
		if left == 0 {
			return tx.Delete(jobsTable, key, store.AnyVersion)
		}
		_, err = tx.Put(jobsTable, key, []byte(strconv.Itoa(left)), store.AnyVersion)
		return err
	})
	if err != nil {
		return controller.Result{}, err
	}
	j.steps.Add(1)
	return controller.Result{Requeue: left > 0}, nil
}

func count(t *testing.T, st store.Store, table string) int {
	t.Helper()
	n := 0
	err := st.View(context.Background(), func(tx store.Tx) error {
		return tx.Scan(table, store.ScanOptions{}, func(store.Item) error { n++; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRestartResumesHalfDoneWork stops a controller in the middle of its
// work, reopens the store as a new process would, and checks that a new
// controller finishes every job from where the store says it stood, with
// no step done twice and none skipped.
func TestRestartResumesHalfDoneWork(t *testing.T) {
	const nJobs, nSteps = 5, 20
	path := filepath.Join(t.TempDir(), "overcast.db")
	ctx := context.Background()

	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(ctx, func(tx store.Tx) error {
		for i := range nJobs {
			if _, err := tx.Put(jobsTable, "job"+strconv.Itoa(i), []byte(strconv.Itoa(nSteps)), 0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	first := &jobs{st: db, stall: nJobs * nSteps / 3}
	m := controller.NewManager(clock.NewFake(epoch), nil, quiet())
	m.Add(controller.Config{Name: "jobs", Reconciler: first, Keys: first.keys, Workers: 2})
	m.Start()
	servicetest.WaitFor(t, "a third of the work", func() bool { return first.steps.Load() >= first.stall })
	m.Stop()
	db.Close()

	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	done := count(t, db, doneTable)
	if done == 0 || done >= nJobs*nSteps {
		t.Fatalf("steps done before the restart: got %d, want some but not all of %d", done, nJobs*nSteps)
	}
	second := &jobs{st: db}
	m = controller.NewManager(clock.NewFake(epoch.Add(time.Hour)), nil, quiet())
	m.Add(controller.Config{Name: "jobs", Reconciler: second, Keys: second.keys, Workers: 2})
	start(t, m)
	servicetest.WaitFor(t, "every job to finish", func() bool { return count(t, db, jobsTable) == 0 })
	if got := count(t, db, doneTable); got != nJobs*nSteps {
		t.Errorf("steps done: got %d, want %d", got, nJobs*nSteps)
	}
	if got, want := int(second.steps.Load()), nJobs*nSteps-done; got != want {
		t.Errorf("steps after the restart: got %d, want %d (only what was left)", got, want)
	}
}
