package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// LogsOptions choose what Logs reads and where it goes.
type LogsOptions struct {
	// Stdout and Stderr receive the container's two streams, separated.
	// A nil writer skips that stream. A TTY container has one stream: it
	// all goes to Stdout.
	Stdout io.Writer
	Stderr io.Writer
	// Follow keeps reading until the container stops or ctx ends.
	Follow bool
	// Since and Until bound the lines by time; zero means unbounded.
	Since time.Time
	Until time.Time
	// Tail is how many lines to start from at the end; 0 means all.
	Tail int
	// Timestamps prefixes every line with its RFC 3339 time and a space.
	Timestamps bool
}

// Logs copies a container's logs (json-file or local log driver) to the
// writers. With Follow it returns nil when the container stops, and
// ctx's error when ctx ends first.
func (e *Engine) Logs(ctx context.Context, id string, opts LogsOptions) error {
	op := "logs " + id
	c, err := e.InspectContainer(ctx, id)
	if err != nil {
		return err
	}
	q := client.ContainerLogsOptions{
		ShowStdout: opts.Stdout != nil,
		ShowStderr: opts.Stderr != nil,
		Follow:     opts.Follow,
		Timestamps: opts.Timestamps,
	}
	if c.TTY {
		// One stream, which the engine files as stdout.
		q.ShowStdout, q.ShowStderr = opts.Stdout != nil, opts.Stdout != nil
	}
	if !q.ShowStdout && !q.ShowStderr {
		return nil
	}
	if !opts.Since.IsZero() {
		q.Since = unixString(opts.Since)
	}
	if !opts.Until.IsZero() {
		q.Until = unixString(opts.Until)
	}
	if opts.Tail > 0 {
		q.Tail = strconv.Itoa(opts.Tail)
	}
	r, err := e.api.ContainerLogs(ctx, id, q)
	if err != nil {
		return wrap(op, err)
	}
	defer r.Close()
	if c.TTY {
		_, err = io.Copy(opts.Stdout, r)
	} else {
		_, err = stdcopy.StdCopy(writerOrDiscard(opts.Stdout), writerOrDiscard(opts.Stderr), r)
	}
	if ctx.Err() != nil {
		return wrap(op, ctx.Err())
	}
	return wrap(op, err)
}

func unixString(t time.Time) string {
	return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond())
}

func writerOrDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// LineWriter is an io.Writer that calls a function once per line, without
// the line's end, for callers that ship logs line by line (CloudWatch Logs
// events). Close flushes a last line that has no newline. It is safe for
// concurrent use.
type LineWriter struct {
	mu   sync.Mutex
	fn   func(line string)
	buf  []byte
	max  int
	done bool
}

// maxLine is where LineWriter splits a line that never ends, as the
// engine's json-file driver does at 16 KiB.
const maxLine = 16 << 10

// Lines returns a LineWriter calling fn.
func Lines(fn func(line string)) *LineWriter { return &LineWriter{fn: fn, max: maxLine} }

func (w *LineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return 0, errors.New("docker: write to a closed LineWriter")
	}
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.fn(string(bytes.TrimSuffix(w.buf[:i], []byte("\r"))))
		w.buf = w.buf[i+1:]
	}
	for len(w.buf) >= w.max {
		w.fn(string(w.buf[:w.max]))
		w.buf = w.buf[w.max:]
	}
	// Keep the backing array from growing with everything ever written.
	w.buf = append([]byte(nil), w.buf...)
	return len(p), nil
}

// Close hands over the last, unterminated line, if any.
func (w *LineWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done && len(w.buf) > 0 {
		w.fn(string(w.buf))
	}
	w.buf, w.done = nil, true
	return nil
}
