package http1

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// startPair serves a listener with a Server that keeps the requests for
// host "lean.test" and hands the rest to net/http; each answers with its
// name, the request's method, path and body.
func startPair(t *testing.T, opts Options) (addr string, srv *Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	echo := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprintf(w, "%s %s %s %s", name, r.Method, r.URL.Path, body)
		}
	}
	handoff := NewListener(ln.Addr())
	std := &http.Server{Handler: echo("net/http")}
	go std.Serve(handoff)
	t.Cleanup(func() { std.Close() })
	opts.Keep = func(head []byte) bool { _, host := RequestLine(head); return host == "lean.test" }
	opts.Handoff = handoff.Push
	lean := echo("lean")
	srv = Serve(ln, func(w http.ResponseWriter, r *http.Request, _ net.Addr) { lean(w, r) }, opts)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), srv
}

// TestHandoffMidConnection: one keep-alive connection's requests are
// answered here while Keep wants them, and by net/http from the first it
// does not, body and all.
func TestHandoffMidConnection(t *testing.T) {
	addr, _ := startPair(t, Options{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	var got []string
	for _, req := range []struct{ method, host, path, body string }{
		{"GET", "lean.test", "/a", ""},
		{"POST", "lean.test", "/b", "first body"},
		{"POST", "api.test", "/c", "second body"},
		{"GET", "lean.test", "/d", ""},
	} {
		fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%s", req.method, req.path, req.host, len(req.body), req.body)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%s %s: %v", req.method, req.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got = append(got, string(body))
	}
	want := []string{"lean GET /a ", "lean POST /b first body", "net/http POST /c second body", "net/http GET /d "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
}

// TestLargeHeadHandedOff: a head that does not fit the peek buffer goes to
// net/http whole.
func TestLargeHeadHandedOff(t *testing.T) {
	addr, _ := startPair(t, Options{})
	req, _ := http.NewRequest("GET", "http://"+addr+"/big", nil)
	req.Host = "lean.test"
	req.Header.Set("X-Padding", strings.Repeat("p", 8<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "net/http GET /big " {
		t.Errorf("got %q, want net/http's answer", body)
	}
}

// TestTLSClientAnsweredAtOnce: a client that speaks TLS to the plain port
// fails its handshake on the answer, as it does with net/http, instead of
// waiting for a server hello that never comes.
func TestTLSClientAnsweredAtOnce(t *testing.T) {
	addr, _ := startPair(t, Options{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute)) // a hang fails instead of blocking the run
	err = tls.Client(c, &tls.Config{InsecureSkipVerify: true}).Handshake()
	if err == nil || isTimeout(err) || !strings.Contains(err.Error(), "does not look like a TLS handshake") {
		t.Errorf("TLS handshake with the plain port: got %v, want the answer to be no TLS", err)
	}
}

func TestDateAdded(t *testing.T) {
	for _, date := range []bool{false, true} {
		addr, _ := startPair(t, Options{Date: date})
		req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
		req.Host = "lean.test"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if _, err := http.ParseTime(resp.Header.Get("Date")); (err == nil) != date {
			t.Errorf("Date option %v: Date header %q", date, resp.Header.Get("Date"))
		}
	}
}

// TestShutdownWaitsForRequests: Shutdown returns once the request being
// answered is done, and closes idle connections at once.
func TestShutdownWaitsForRequests(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	var finished atomic.Bool
	srv := Serve(ln, func(w http.ResponseWriter, r *http.Request, _ net.Addr) {
		if r.URL.Path == "/slow" {
			close(started)
			<-release
			finished.Store(true)
		}
		io.WriteString(w, "ok")
	}, Options{})
	idle, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	// One request first, so that the server holds the connection, idle.
	fmt.Fprintf(idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	idleBr := bufio.NewReader(idle)
	resp, err := http.ReadResponse(idleBr, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	answered := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err == nil {
			resp.Body.Close()
		}
		answered <- err
	}()
	<-started
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	// The idle connection is closed while the slow request still runs.
	idle.SetReadDeadline(time.Now().Add(time.Minute)) // a hang, not a measurement
	if _, err := idleBr.ReadByte(); err != io.EOF {
		t.Errorf("idle connection: read %v, want EOF", err)
	}
	close(release)
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if !finished.Load() {
		t.Error("Shutdown returned before the request it waited for finished")
	}
	if err := <-answered; err != nil {
		t.Errorf("slow request: %v", err)
	}
}

func TestRequestLine(t *testing.T) {
	for _, tc := range []struct{ head, target, host string }{
		{"GET /a?b=c HTTP/1.1\r\nHost: d1.cloudfront.localhost:4566\r\nAccept: */*\r\n\r\n", "/a?b=c", "d1.cloudfront.localhost:4566"},
		{"GET / HTTP/1.1\r\nhost:x.test\r\n\r\n", "/", "x.test"},
		{"GET / HTTP/1.1\r\nX-Host: no\r\n\r\n", "/", ""},
		{"garbage\r\n\r\n", "", ""},
	} {
		target, host := RequestLine([]byte(tc.head))
		if target != tc.target || host != tc.host {
			t.Errorf("RequestLine(%q) = %q, %q; want %q, %q", tc.head, target, host, tc.target, tc.host)
		}
	}
}

// TestPanicClosesConnection: a handler's panic ends its connection, as
// with net/http, and the server goes on serving others.
func TestPanicClosesConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := Serve(ln, func(w http.ResponseWriter, r *http.Request, _ net.Addr) {
		if r.URL.Path == "/abort" {
			panic(http.ErrAbortHandler)
		}
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		io.WriteString(w, "ok")
	}, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer srv.Close()
	for _, path := range []string{"/abort", "/panic"} {
		if _, err := http.Get("http://" + ln.Addr().String() + path); err == nil {
			t.Errorf("GET %s answered; want the connection closed", path)
		}
	}
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatalf("GET / after the panics: %v", err)
	}
	resp.Body.Close()
}
