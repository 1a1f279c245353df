// Package http1 serves HTTP/1.1 on plain connections with one goroutine
// per connection and nothing else: no background read per request, no
// response buffering beyond one writer, no sorted header write. net/http's
// server costs about twice the CPU per request of nginx on the hot paths
// that need none of what it adds (HTTP/2, a context cancelled when the
// client goes away); the load balancers' listeners and the CloudFront
// edge's viewers are served here.
package http1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Handler answers one request; local is the address the client reached.
type Handler func(w http.ResponseWriter, r *http.Request, local net.Addr)

// Options tune a Server.
type Options struct {
	// Idle is how long a client connection may stay without a read or
	// write starting (default 60 s).
	Idle time.Duration
	// BadRequest answers a request that cannot be parsed (nil: a bare 400).
	BadRequest func(w http.ResponseWriter)
	// Date adds a Date header to answers that have none, as net/http does.
	Date bool
	// Keep, when set, sees the head of each request (its bytes up to the
	// blank line) before it is read and says whether this server answers
	// it. If not, the connection, with what was read of it, goes to
	// Handoff, and this server lets go of it. A head too large to look at
	// is handed off too.
	Keep    func(head []byte) bool
	Handoff func(c net.Conn)
	// Logger hears of handlers that panic (default slog.Default()). As
	// with net/http, such a panic closes the connection, and
	// http.ErrAbortHandler does so quietly.
	Logger *slog.Logger
}

// Server serves one listener.
type Server struct {
	ln      net.Listener
	handler Handler
	opts    Options

	mu       sync.Mutex
	conns    map[net.Conn]*atomic.Bool // true while a request is being answered
	closing  atomic.Bool               // set under mu
	drained  chan struct{}             // closed when closing and conns is empty
	accepted sync.WaitGroup
}

// MaxHeaderBytes bounds a request's line and header (ALB answers 400
// past 64 KB).
const MaxHeaderBytes = 64 << 10

const defaultIdle = 60 * time.Second

// Serve accepts connections on ln until Close or Shutdown.
func Serve(ln net.Listener, handler Handler, opts Options) *Server {
	if opts.Idle == 0 {
		opts.Idle = defaultIdle
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{ln: ln, handler: handler, opts: opts, conns: map[net.Conn]*atomic.Bool{}, drained: make(chan struct{})}
	s.accepted.Add(1)
	go s.accept()
	return s
}

func (s *Server) accept() {
	defer s.accepted.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		s.mu.Lock()
		if s.closing.Load() {
			s.mu.Unlock()
			c.Close()
			return
		}
		busy := new(atomic.Bool)
		s.conns[c] = busy
		s.mu.Unlock()
		go s.serve(c, busy)
	}
}

// Close stops accepting and closes every connection.
func (s *Server) Close() error {
	err := s.stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
	return err
}

// Shutdown stops accepting, closes the connections waiting for a request,
// and waits for those answering one to finish, until ctx ends; then it
// closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.stop()
	s.mu.Lock()
	for c, busy := range s.conns {
		if !busy.Load() {
			c.Close()
		}
	}
	s.mu.Unlock()
	select {
	case <-s.drained:
	case <-ctx.Done():
		s.Close()
		return ctx.Err()
	}
	return err
}

func (s *Server) stop() error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		return nil
	}
	s.closing.Store(true)
	if len(s.conns) == 0 {
		close(s.drained)
	}
	s.mu.Unlock()
	err := s.ln.Close()
	s.accepted.Wait()
	return err
}

// mark records whether a connection is answering a request; it reports
// false when the server is shutting down and the connection should close
// instead of reading another.
func (s *Server) mark(busy *atomic.Bool, now bool) bool {
	busy.Store(now)
	return now || !s.closing.Load()
}

func (s *Server) forget(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if s.closing.Load() && len(s.conns) == 0 {
		close(s.drained)
	}
}

// serve reads requests off one connection and answers each in turn.
func (s *Server) serve(c net.Conn, busy *atomic.Bool) {
	keepConn := false // hijacked or handed off: its new owner closes it
	defer func() {
		if p := recover(); p != nil && p != http.ErrAbortHandler {
			s.opts.Logger.Error("http1: panic serving a request", "remote", c.RemoteAddr().String(), "panic", p, "stack", string(debug.Stack()))
		}
		if !keepConn {
			c.Close()
		}
		s.forget(c)
	}()
	ic := &IdleConn{Conn: c, Idle: s.opts.Idle}
	limit := &headerLimit{r: ic}
	br := bufio.NewReaderSize(limit, 4<<10)
	bw := bufio.NewWriterSize(ic, 4<<10)
	remote, local := c.RemoteAddr().String(), c.LocalAddr()
	for {
		limit.left = MaxHeaderBytes
		if first, err := br.Peek(1); err != nil {
			return // the client went away or idled out between requests
		} else if first[0] == tlsHandshake {
			// A TLS client waits for the server's hello, and a request
			// head never comes: answering at once lets it fail fast
			// ("first record does not look like a TLS handshake"), and
			// one that tries HTTPS before HTTP, as Docker does with a
			// registry on a loopback address, goes on to HTTP without
			// waiting out its handshake timeout.
			bw.WriteString("HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTPS request to an HTTP server.\n")
			bw.Flush()
			return
		}
		if s.opts.Keep != nil {
			head, err := peekHead(br)
			if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
				return // the client went away or idled out between requests
			}
			if err != nil || !s.opts.Keep(head) {
				limit.left = -1
				ic.Stop()
				keepConn = true
				s.opts.Handoff(&bufferedConn{Conn: c, br: br})
				return
			}
		}
		req, err := http.ReadRequest(br)
		limit.left = -1
		if err != nil {
			if !errors.Is(err, io.EOF) && !isTimeout(err) {
				w := &Response{bw: bw, header: http.Header{}}
				if s.opts.BadRequest != nil {
					s.opts.BadRequest(w)
				} else {
					w.Header().Set("Content-Length", "0")
					w.WriteHeader(http.StatusBadRequest)
				}
				bw.Flush()
			}
			return
		}
		req.RemoteAddr = remote
		if req.Header.Get("Expect") == "100-continue" && req.ProtoAtLeast(1, 1) {
			bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			bw.Flush()
		}
		s.mark(busy, true)
		w := &Response{conn: c, idle: ic, br: br, bw: bw, header: make(http.Header, 8), req: req,
			close: req.Close || !req.ProtoAtLeast(1, 1), date: s.opts.Date}
		s.handler(w, req, local)
		if w.hijacked {
			keepConn = true
			return
		}
		w.finish()
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return
		}
		if bw.Flush() != nil || w.close || !s.mark(busy, false) {
			return
		}
	}
}

var headEnd = []byte("\r\n\r\n")

// tlsHandshake is the first byte of a TLS connection (the content type of
// its ClientHello record); no HTTP method starts with it.
const tlsHandshake = 0x16

// peekHead returns the request head at the start of br without consuming
// it, reading until the blank line; bufio.ErrBufferFull when it does not
// fit br's buffer.
func peekHead(br *bufio.Reader) ([]byte, error) {
	for {
		n := br.Buffered()
		b, _ := br.Peek(n) // what is there already: no read
		if i := bytes.Index(b, headEnd); i >= 0 {
			return b[:i+len(headEnd)], nil
		}
		if _, err := br.Peek(n + 1); err != nil { // waits for more
			return nil, err
		}
	}
}

// bufferedConn is a connection whose first bytes were read into br.
type bufferedConn struct {
	net.Conn
	br *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) {
	if c.br.Buffered() > 0 {
		return c.br.Read(p)
	}
	return c.Conn.Read(p)
}

// headerLimit stops reading after left bytes while a request's header is
// read; left < 0 is no limit (bodies).
type headerLimit struct {
	r    io.Reader
	left int
}

var errHeaderTooLarge = errors.New("http1: request header too large")

func (l *headerLimit) Read(p []byte) (int, error) {
	if l.left == 0 {
		return 0, errHeaderTooLarge
	}
	if l.left > 0 && len(p) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	if l.left > 0 {
		l.left -= n
	}
	return n, err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// IdleConn is a connection that times out when no read or write has
// started on it for Idle, as ALB's connections do. The deadline moves at
// most every sixteenth of the timeout (and a second): setting it on every
// call cost four timer updates per proxied request. A call may thus time
// out up to that much early.
type IdleConn struct {
	net.Conn
	Idle  time.Duration
	moved time.Time // when the deadline was last set, to now + Idle
}

// Stop clears the deadline for good.
func (c *IdleConn) Stop() {
	c.Idle = 0
	c.Conn.SetDeadline(time.Time{})
}

func (c *IdleConn) touch() {
	if c.Idle == 0 {
		return
	}
	if now := time.Now(); now.Sub(c.moved) >= min(c.Idle/16, time.Second) {
		c.moved = now
		c.Conn.SetDeadline(now.Add(c.Idle))
	}
}

func (c *IdleConn) Read(p []byte) (int, error) {
	c.touch()
	return c.Conn.Read(p)
}

func (c *IdleConn) Write(p []byte) (int, error) {
	c.touch()
	return c.Conn.Write(p)
}

// WriteHeaderLine writes "name: value\r\n".
func WriteHeaderLine(bw *bufio.Writer, name, value string) {
	bw.WriteString(name)
	bw.WriteString(": ")
	bw.WriteString(value)
	bw.WriteString("\r\n")
}

// Response is the http.ResponseWriter of a Server: the status line and
// header go out with the first write, the body as it comes, with a
// Content-Length the handler set or in chunks.
type Response struct {
	conn        net.Conn
	idle        *IdleConn
	br          *bufio.Reader
	bw          *bufio.Writer
	header      http.Header
	req         *http.Request
	wroteHeader bool
	chunked     bool
	bodyless    bool
	close       bool
	hijacked    bool
	date        bool
}

var _ interface {
	http.ResponseWriter
	http.Flusher
	http.Hijacker
} = (*Response)(nil)

func (w *Response) Header() http.Header { return w.header }

func (w *Response) WriteHeader(code int) {
	w.WriteHead(code, nil, w.header.Get("Content-Length") != "")
}

// WriteHead writes the status line, the header, then raw header lines
// (each ending in CRLF) and the framing: hasLength says a Content-Length
// is among them, else the body goes in chunks or until the connection
// ends.
func (w *Response) WriteHead(code int, raw []byte, hasLength bool) {
	if w.wroteHeader {
		return
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		return // interim answers are not passed on
	}
	w.wroteHeader = true
	w.bodyless = code == http.StatusNoContent || code == http.StatusNotModified || (w.req != nil && w.req.Method == http.MethodHead)
	if code != http.StatusSwitchingProtocols && !w.bodyless && !hasLength {
		if w.close {
			w.header.Set("Connection", "close")
		} else {
			w.chunked = true
			w.header.Set("Transfer-Encoding", "chunked")
		}
	}
	if w.close && code != http.StatusSwitchingProtocols {
		w.header.Set("Connection", "close")
	}
	w.bw.WriteString("HTTP/1.1 ")
	w.bw.WriteString(strconv.Itoa(code))
	w.bw.WriteByte(' ')
	w.bw.WriteString(http.StatusText(code))
	w.bw.WriteString("\r\n")
	if w.date && w.header["Date"] == nil {
		WriteHeaderLine(w.bw, "Date", httpDate())
	}
	for k, vv := range w.header {
		for _, v := range vv {
			WriteHeaderLine(w.bw, k, v)
		}
	}
	w.bw.Write(raw)
	w.bw.WriteString("\r\n")
}

// Bodyless reports whether the answer has no body (HEAD, 204, 304): only
// meaningful once the head is written.
func (w *Response) Bodyless() bool { return w.bodyless }

// Buffer is the writer under the answer, for a caller relaying a body
// with its own framing after WriteHead with hasLength.
func (w *Response) Buffer() *bufio.Writer { return w.bw }

func (w *Response) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.bodyless || len(p) == 0 {
		return len(p), nil
	}
	if w.chunked {
		w.bw.WriteString(strconv.FormatInt(int64(len(p)), 16))
		w.bw.WriteString("\r\n")
		n, err := w.bw.Write(p)
		w.bw.WriteString("\r\n")
		return n, err
	}
	return w.bw.Write(p)
}

func (w *Response) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.bw.Flush()
}

// finish ends the answer: a header if none went out, the last chunk.
func (w *Response) finish() {
	if !w.wroteHeader {
		w.header.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	}
	if w.chunked {
		w.bw.WriteString("0\r\n\r\n")
	}
}

// Hijack hands the connection over (an upgrade to WebSocket).
func (w *Response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked = true
	w.idle.Stop() // the connection's idle deadline is its new owner's business
	return w.conn, bufio.NewReadWriter(w.br, w.bw), nil
}

// dates caches the Date header's value for the current second.
var dates struct {
	sync.Mutex
	unix int64
	text string
}

func httpDate() string {
	now := time.Now()
	dates.Lock()
	defer dates.Unlock()
	if s := now.Unix(); s != dates.unix {
		dates.unix, dates.text = s, now.UTC().Format(http.TimeFormat)
	}
	return dates.text
}

// RequestLine returns the request target and the Host header of a request
// head, as a Keep function needs them to route; "" for what is missing.
func RequestLine(head []byte) (target, host string) {
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	if _, after, ok := bytes.Cut(line, []byte(" ")); ok {
		target, _, _ = strings.Cut(string(after), " ")
	}
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(line, []byte(":"))
		if ok && len(name) == len("Host") && strings.EqualFold(string(name), "Host") {
			return target, string(bytes.TrimSpace(value))
		}
	}
	return target, ""
}

// Listener is the net.Listener through which a Server's Handoff passes
// connections to another server (net/http's, for what Keep turns down).
type Listener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// NewListener returns a Listener reporting addr as its address.
func NewListener(addr net.Addr) *Listener {
	return &Listener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

// Push hands c to the next Accept, or closes it once the Listener is
// closed.
func (l *Listener) Push(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}

func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *Listener) Addr() net.Addr { return l.addr }
