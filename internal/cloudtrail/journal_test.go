package cloudtrail

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast"
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
	err := replayJournalFile(path, 3, journalPos{File: 3, Offset: ends[0]}, func(batch []pending) { got = append(got, batch...) })
	if err != nil {
		t.Fatal(err)
	}
	want := []pending{written[1], written[2]}
	want[0].pos, want[1].pos = journalPos{3, ends[1]}, journalPos{3, ends[2]}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(pending{}, recorded{}, resource{})); diff != "" {
		t.Errorf("replayed (-want +got):\n%s", diff)
	}
}
