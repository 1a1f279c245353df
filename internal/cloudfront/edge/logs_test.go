package edge

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	api "overcast/internal/api/cloudfront"
)

type memoryLogs struct {
	mu    sync.Mutex
	files map[string][]byte // bucket/key → body
}

func (m *memoryLogs) PutLog(ctx context.Context, _, bucket, key string, body []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[bucket+"/"+key] = body
	return nil
}

func TestAccessLogs(t *testing.T) {
	o := newTestOrigin(t, nil)
	logs := &memoryLogs{files: map[string][]byte{}}
	e, _ := newTestEdge(t, Config{Logs: logs}, distribution([]api.Origin{customOrigin("o1", o)}, func(c *api.DistributionConfig) {
		c.Logging = &api.LoggingConfig{Enabled: ptr(true), Bucket: ptr("logs.s3.amazonaws.com"), Prefix: ptr("cf/"), IncludeCookies: ptr(false)}
	}))
	readBody(t, get(e, "GET", "http://example.com/a.txt?x=1", http.Header{"User-Agent": {"curl/8.5 test"}}))
	readBody(t, get(e, "GET", "http://example.com/a.txt", nil))
	if err := e.FlushLogs(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(logs.files) != 1 {
		t.Fatalf("got %d log files, want 1", len(logs.files))
	}
	for name, body := range logs.files {
		if !strings.HasPrefix(name, "logs/cf/E1TEST.2026-12-07-06.") || !strings.HasSuffix(name, ".gz") {
			t.Errorf("got log file %q, want logs/cf/E1TEST.2026-12-07-06.<id>.gz", name)
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		text, _ := io.ReadAll(zr)
		lines := strings.Split(strings.TrimSpace(string(text)), "\n")
		if len(lines) != 4 {
			t.Fatalf("got %d lines, want 2 header lines and 2 requests:\n%s", len(lines), text)
		}
		header := strings.Fields(strings.TrimPrefix(lines[1], "#Fields: "))
		for i, line := range lines[2:] {
			fields := strings.Split(line, "\t")
			if len(fields) != len(header) {
				t.Fatalf("line %d: got %d fields, want %d", i, len(fields), len(header))
			}
			got := map[string]string{}
			for j, name := range header {
				got[name] = fields[j]
			}
			want := map[string]string{"cs-method": "GET", "cs-uri-stem": "/a.txt", "sc-status": "200", "x-edge-location": "IAD89-C1",
				"cs(Host)": "e1test.cloudfront.localhost", "x-edge-result-type": []string{"Miss", "Hit"}[i], "cs-uri-query": []string{"x=1", "-"}[i]}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("line %d %s: got %q, want %q", i, k, got[k], v)
				}
			}
		}
	}
}
