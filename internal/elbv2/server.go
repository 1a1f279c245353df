package elbv2

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// plainServer serves HTTP/1.1 on a plain listener with one goroutine per
// connection and nothing else: no background read per request, no
// response buffering beyond one writer. net/http's server costs about
// twice the CPU per proxied request of nginx; HTTPS listeners, which
// also speak HTTP/2, keep using it.
type plainServer struct {
	ln      net.Listener
	handler func(w http.ResponseWriter, r *http.Request, local net.Addr)

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// clientIdle is how long a client connection may stay without a read or
// write (ALB's client keep-alive, bounded by its idle timeout).
const clientIdle = 60 * time.Second

func servePlain(ln net.Listener, handler func(w http.ResponseWriter, r *http.Request, local net.Addr)) *plainServer {
	s := &plainServer{ln: ln, handler: handler, conns: map[net.Conn]struct{}{}}
	go s.accept()
	return s
}

func (s *plainServer) accept() {
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
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		go s.serve(c)
	}
}

// Close stops accepting and closes every connection.
func (s *plainServer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	return s.ln.Close()
}

func (s *plainServer) forget(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// serve reads requests off one connection and answers each in turn.
func (s *plainServer) serve(c net.Conn) {
	hijacked := false
	defer func() {
		if !hijacked {
			c.Close()
		}
		s.forget(c)
	}()
	ic := &idleConn{Conn: c, idle: clientIdle}
	limit := &headerLimit{r: ic}
	br := bufio.NewReaderSize(limit, 4<<10)
	bw := bufio.NewWriterSize(ic, 4<<10)
	remote, local := c.RemoteAddr().String(), c.LocalAddr()
	for {
		limit.left = maxHeaderBytes
		req, err := http.ReadRequest(br)
		limit.left = -1
		if err != nil {
			if !errors.Is(err, io.EOF) && !isTimeout(err) {
				w := &connResponse{bw: bw, header: http.Header{}, chunked: false}
				writeALBError(w, http.StatusBadRequest)
				bw.Flush()
			}
			return
		}
		req.RemoteAddr = remote
		if req.Header.Get("Expect") == "100-continue" && req.ProtoAtLeast(1, 1) {
			bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			bw.Flush()
		}
		w := &connResponse{conn: c, idle: ic, br: br, bw: bw, header: make(http.Header, 8), req: req, close: req.Close || !req.ProtoAtLeast(1, 1)}
		s.handler(w, req, local)
		if w.hijacked {
			hijacked = true
			return
		}
		w.finish()
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return
		}
		if bw.Flush() != nil || w.close {
			return
		}
	}
}

// maxHeaderBytes bounds a request's line and header (ALB answers 400
// past 64 KB).
const maxHeaderBytes = 64 << 10

// headerLimit stops reading after left bytes while a request's header is
// read; left < 0 is no limit (bodies).
type headerLimit struct {
	r    io.Reader
	left int
}

var errHeaderTooLarge = errors.New("elbv2: request header too large")

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

// connResponse is the http.ResponseWriter of plainServer: the status line
// and header go out with the first write, the body as it comes, with a
// Content-Length the handler set or in chunks.
type connResponse struct {
	conn        net.Conn
	idle        *idleConn
	br          *bufio.Reader
	bw          *bufio.Writer
	header      http.Header
	req         *http.Request
	wroteHeader bool
	chunked     bool
	bodyless    bool
	close       bool
	hijacked    bool
}

var _ interface {
	http.ResponseWriter
	http.Flusher
	http.Hijacker
} = (*connResponse)(nil)

func (w *connResponse) Header() http.Header { return w.header }

func (w *connResponse) WriteHeader(code int) {
	w.writeHead(code, nil, w.header.Get("Content-Length") != "")
}

// writeHead writes the status line, the header, then raw header lines
// (each ending in CRLF) and the framing: hasLength says a Content-Length
// is among them, else the body goes in chunks or until the connection
// ends.
func (w *connResponse) writeHead(code int, raw []byte, hasLength bool) {
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
	for k, vv := range w.header {
		for _, v := range vv {
			writeHeaderLine(w.bw, k, v)
		}
	}
	w.bw.Write(raw)
	w.bw.WriteString("\r\n")
}

func (w *connResponse) Write(p []byte) (int, error) {
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

func (w *connResponse) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.bw.Flush()
}

// finish ends the answer: a header if none went out, the last chunk.
func (w *connResponse) finish() {
	if !w.wroteHeader {
		w.header.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	}
	if w.chunked {
		w.bw.WriteString("0\r\n\r\n")
	}
}

// Hijack hands the connection over (an upgrade to WebSocket).
func (w *connResponse) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked = true
	w.idle.stop() // the connection's idle deadline is its new owner's business
	return w.conn, bufio.NewReadWriter(w.br, w.bw), nil
}
