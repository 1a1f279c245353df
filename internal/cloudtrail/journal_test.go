package cloudtrail

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast"
	"overcast/internal/service/servicetest"
	"overcast/internal/store"
)

// TestJournalReplay: entries read back as written, from past the
// checkpoint, and a tail the process died writing ends the replay.
func TestJournalReplay(t *testing.T) {
	scope := overcast.Scope{Account: "000000000000", Region: "eu-west-1"}
	var written []pending
	var b []byte
	var ends []int64
	for i, name := range []string{"GetCallerIdentity", "CreateBucket", "PutObject"} {
		p := pending{scope: scope, ev: recorded{time: time.Unix(1700000000+int64(i), 0).UTC(), flags: flagReadOnly, requestID: "req", name: name,
			source: "sts.amazonaws.com", identity: `{"type":"Root"}`, username: "root", sourceIP: "127.0.0.1", userAgent: "ua",
			requestParameters: []byte(`{"bucket":"b"}`), resources: []resource{{Type: "AWS::S3::Bucket", Name: "b"}}}}
		b = appendJournalEntry(b, &p)
		ends = append(ends, int64(len(b)))
		written = append(written, p)
	}
	whole := len(b)
	b = appendJournalEntry(b, &written[0])[:whole+10] // torn: cut short
	path := filepath.Join(t.TempDir(), journalFileName(3))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var got []pending
	err := replayJournalFile(path, 3, journalPos{File: 3, Offset: ends[0]}, func(batch []pending) error { got = append(got, batch...); return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []pending{written[1], written[2]}
	want[0].pos, want[1].pos = journalPos{3, ends[1]}, journalPos{3, ends[2]}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(pending{}, recorded{}, resource{})); diff != "" {
		t.Errorf("replayed (-want +got):\n%s", diff)
	}
}

// TestJournalRollsOver: an event too big for what is left of a file goes
// to a file of its own, and a journal the history never took is replayed
// whole, across its files, in order.
func TestJournalRollsOver(t *testing.T) {
	env := servicetest.Env(t)
	dir := t.TempDir()
	j, err := openJournal(dir, "test", env.History, func([]pending) error { t.Error("nothing to replay in a new journal"); return nil })
	if err != nil {
		t.Fatal(err)
	}
	queue := make(chan pending, 3)
	names := []string{"small", "big", "after"}
	for _, name := range names {
		p := pending{ev: recorded{name: name, time: time.Unix(1700000000, 0).UTC()}}
		if name == "big" {
			p.ev.requestParameters = make([]byte, journalFileSize)
		}
		if err := j.add(&p, queue); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.close(); err != nil { // the history took none of it: the files stay
		t.Fatal(err)
	}
	files, err := journalFiles(dir)
	if err != nil || len(files) != 3 {
		t.Fatalf("journal files: %v, %v; want 3", files, err)
	}
	var got []string
	if _, err := openJournal(dir, "test", env.History, func(batch []pending) error {
		for _, p := range batch {
			got = append(got, p.ev.name)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(names, got); diff != "" {
		t.Errorf("replayed (-want +got):\n%s", diff)
	}
}

// TestJournalCountsOnFromTheCheckpoint: a journal that was closed cleanly
// leaves no file; the next one's positions must still come after the
// checkpoint, or a crash would have its events taken for written.
func TestJournalCountsOnFromTheCheckpoint(t *testing.T) {
	env := servicetest.Env(t)
	err := env.History.Update(context.Background(), func(tx store.Tx) error {
		return putCheckpoint(tx, "test", journalPos{File: 5, Offset: 100})
	})
	if err != nil {
		t.Fatal(err)
	}
	j, err := openJournal(t.TempDir(), "test", env.History, func([]pending) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	p := pending{ev: recorded{name: "after", time: time.Unix(1700000000, 0).UTC()}}
	if err := j.add(&p, make(chan pending, 1)); err != nil {
		t.Fatal(err)
	}
	if cp := (journalPos{File: 5, Offset: 100}); !cp.before(p.pos) {
		t.Errorf("a new journal appends at %+v, not after the checkpoint %+v", p.pos, cp)
	}
}
