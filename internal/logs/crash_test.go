package logs_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"overcast/internal/awstest"
	"overcast/internal/childtest"
	"overcast/internal/store"
	"overcast/internal/store/sqlite"
)

// crashChildEnv, when set to a data dir, makes TestKillDuringReclaim the
// child process that deletes a large log group and is killed mid-reclaim.
const crashChildEnv = "OVERCAST_LOGS_CRASH_CHILD"

// The store tables the reclaim controller works through (see logs.go).
const (
	eventsTable     = "logs.events"
	tombstonesTable = "logs.gc"
	crashEvents     = 100_000 // 20 of the controller's 5,000-event chunks
)

// TestKillDuringReclaim deletes a log group of 100,000 events in a child
// overcast, kills it with SIGKILL while the reclaim controller is half way
// through the events, and checks that a new overcast on the same data dir
// resumes the reclaim from the store and finishes it: what ARCHITECTURE
// promises of every controller.
func TestKillDuringReclaim(t *testing.T) {
	if childtest.IsChild(t, crashChildEnv, crashChild) {
		return
	}
	dir := t.TempDir()
	childtest.RunKilled(t, crashChildEnv, dir)

	events, tombstones := countTables(t, filepath.Join(dir, "overcast.db"))
	if events == 0 || events >= crashEvents || tombstones != 1 {
		t.Fatalf("after the kill: %d events and %d tombstones, want some but not all of %d events and the tombstone",
			events, tombstones, crashEvents)
	}
	t.Logf("killed with %d of %d events still to reclaim", events, crashEvents)

	srv := awstest.Start(t, awstest.InDir(dir))
	awstest.WaitFor(t, "the restarted controller to finish the reclaim", func() bool {
		events, tombstones := countTables(t, filepath.Join(dir, "overcast.db"))
		return events == 0 && tombstones == 0
	})
	groups, err := cwl.NewFromConfig(srv.Config()).DescribeLogGroups(context.Background(), &cwl.DescribeLogGroupsInput{})
	if err != nil || len(groups.LogGroups) != 0 {
		t.Errorf("DescribeLogGroups after the restart: %v, %v; want no groups", groups, err)
	}
}

// crashChild fills a group, deletes it, and kills itself once the reclaim
// has committed some of its chunks but not all.
func crashChild(t *testing.T, dir string) {
	ctx := context.Background()
	srv := awstest.Start(t, awstest.InDir(dir))
	c := cwl.NewFromConfig(srv.Config())
	createGroup(t, c, "big")
	createStream(t, c, "big", "s")
	at := time.Now().Add(-time.Hour).UnixMilli()
	batch := make([]types.InputLogEvent, 10_000)
	for i := 0; i < crashEvents; i += len(batch) {
		for j := range batch {
			batch[j] = ev(at, strings.Repeat("x", 20))
		}
		put(t, c, "big", "s", batch...)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "overcast.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("big")}); err != nil {
		t.Fatal(err)
	}
	for {
		if events, _ := count(t, db); events < crashEvents {
			os.Stdout.WriteString("killing\n")
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
}

// countTables counts the items of the events and tombstone tables of the
// database at path, through a connection of its own (SQLite in WAL mode
// serves it beside the server's).
func countTables(t *testing.T, path string) (events, tombstones int) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return count(t, db)
}

func count(t *testing.T, db store.Store) (events, tombstones int) {
	t.Helper()
	err := db.View(context.Background(), func(tx store.Tx) error {
		var err error
		if events, err = tx.Count(eventsTable, ""); err != nil {
			return err
		}
		tombstones, err = tx.Count(tombstonesTable, "")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return events, tombstones
}
