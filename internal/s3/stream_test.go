package s3_test

import (
	"crypto/md5"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// patternReader yields n bytes of a repeating random block, hashing them.
type patternReader struct {
	block []byte
	left  int64
	off   int
	h     hash.Hash
}

func newPatternReader(n int64) *patternReader {
	return &patternReader{block: randomBytes(1<<20+7, 42), left: n, h: md5.New()}
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(int64(len(p)), r.left)], r.block[r.off:])
	r.off = (r.off + n) % len(r.block)
	r.left -= int64(n)
	r.h.Write(p[:n])
	return n, nil
}

// heapWatch samples HeapInuse until stopped and reports the peak.
type heapWatch struct {
	peak atomic.Uint64
	stop chan struct{}
	done sync.WaitGroup
}

func watchHeap() *heapWatch {
	w := &heapWatch{stop: make(chan struct{})}
	w.done.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > w.peak.Load() {
				w.peak.Store(m.HeapInuse)
			}
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	})
	return w
}

func (w *heapWatch) Stop() uint64 {
	close(w.stop)
	w.done.Wait()
	return w.peak.Load()
}

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestStreamingOneGigabyte puts and gets a 1 GB object through presigned
// URLs and checks the process's heap stays flat: both directions stream.
// Set OVERCAST_STREAM_SIZE to change the size (bytes).
func TestStreamingOneGigabyte(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 2 GB; skipped with -short")
	}
	size := int64(1 << 30)
	if v := os.Getenv("OVERCAST_STREAM_SIZE"); v != "" {
		size, _ = strconv.ParseInt(v, 10, 64)
	}
	srv, c := startWithBucket(t, "stream")
	ps := s3.NewPresignClient(c)
	put, err := ps.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("stream"), Key: aws.String("huge")})
	if err != nil {
		t.Fatal(err)
	}
	get, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("stream"), Key: aws.String("huge")})
	if err != nil {
		t.Fatal(err)
	}
	_ = srv

	base := heapInuse()
	w := watchHeap()
	body := newPatternReader(size)
	start := time.Now()
	req, _ := http.NewRequest("PUT", put.URL, body)
	req.ContentLength = size
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	putTime := time.Since(start)
	if resp.StatusCode != 200 {
		t.Fatalf("PUT: %s", resp.Status)
	}
	wantETag := fmt.Sprintf(`"%x"`, body.h.Sum(nil))
	if got := resp.Header.Get("ETag"); got != wantETag {
		t.Errorf("ETag: got %s, want %s", got, wantETag)
	}

	start = time.Now()
	resp, err = http.Get(get.URL)
	if err != nil {
		t.Fatal(err)
	}
	h := md5.New()
	n, err := io.Copy(h, resp.Body)
	resp.Body.Close()
	getTime := time.Since(start)
	if err != nil || n != size {
		t.Fatalf("GET: %d bytes, %v", n, err)
	}
	if got := fmt.Sprintf(`"%x"`, h.Sum(nil)); got != wantETag {
		t.Errorf("downloaded MD5 %s, want %s", got, wantETag)
	}
	peak := w.Stop()
	growth := int64(peak) - int64(base)
	t.Logf("%d MiB: PUT %.2fs (%.0f MiB/s), GET %.2fs (%.0f MiB/s); HeapInuse %d MiB before, peak %d MiB, growth %.1f MiB",
		size>>20, putTime.Seconds(), float64(size>>20)/putTime.Seconds(), getTime.Seconds(), float64(size>>20)/getTime.Seconds(),
		base>>20, peak>>20, float64(growth)/(1<<20))
	if growth > 64<<20 {
		t.Errorf("heap grew by %d MiB while streaming, want < 64 MiB", growth>>20)
	}
}
