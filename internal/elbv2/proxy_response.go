package elbv2

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"sync"

	"overcast/internal/http1"
)

// responseHead is a target's answer head as a plain listener relays it:
// the status, the end-to-end header lines as the target wrote them, and
// how the body is framed. Parsing it into an http.Response (a map, a
// string per name and value) and writing that back cost about a tenth of
// the proxy's time per request.
type responseHead struct {
	code    int
	lines   []byte // the header lines passed on, each ending in CRLF
	length  int64  // the body's Content-Length; -1 when chunked or until the connection ends
	chunked bool
	close   bool // the target ends the connection after this answer
	stream  bool // text/event-stream: each piece goes on as it comes

	raw     []byte // all header lines read
	spans   []headerSpan
	dropped [][]byte // header names the Connection header lists
}

type headerSpan struct{ start, colon, end int } // a line of raw: name raw[start:colon]

var headPool = sync.Pool{New: func() any { return &responseHead{} }}

var errBadResponse = errors.New("elbv2: malformed answer from the target")

// maxResponseHead bounds a target's answer head (status line and header).
const maxResponseHead = 64 << 10

// read reads an answer's head, skipping interim (1xx) answers.
func (h *responseHead) read(br *bufio.Reader) error {
	for {
		if err := h.readOne(br); err != nil {
			return err
		}
		switch {
		case h.code == http.StatusSwitchingProtocols:
			return errBadResponse // no upgrade was asked for on this path
		case h.code >= 200:
			return nil
		}
	}
}

func (h *responseHead) readOne(br *bufio.Reader) error {
	*h = responseHead{lines: h.lines[:0], raw: h.raw[:0], spans: h.spans[:0], dropped: h.dropped[:0], length: -1}
	line, err := readHeadLine(br)
	if err != nil {
		return err
	}
	// HTTP/1.x NNN[ reason]
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || (line[7] != '0' && line[7] != '1') || line[8] != ' ' ||
		(len(line) > 12 && line[12] != ' ') {
		return errBadResponse
	}
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return errBadResponse
		}
		h.code = h.code*10 + int(d-'0')
	}
	if h.code < 100 {
		return errBadResponse
	}
	http10 := line[7] == '0'
	h.close = http10
	size := len(line)
	for {
		line, err := readHeadLine(br)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			break
		}
		if size += len(line); size > maxResponseHead {
			return errBadResponse
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || line[0] == ' ' || line[0] == '\t' { // no name, or an obsolete folded line
			return errBadResponse
		}
		name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
		switch {
		case equalFold(name, "Content-Length"):
			n, ok := parseLength(value)
			if !ok || (h.length >= 0 && h.length != n) {
				return errBadResponse
			}
			h.length = n
		case equalFold(name, "Transfer-Encoding"):
			h.chunked = bytes.HasSuffix(bytes.ToLower(value), []byte("chunked"))
		case equalFold(name, "Connection"):
			for token := range bytes.SplitSeq(value, []byte(",")) {
				switch token = bytes.TrimSpace(token); {
				case equalFold(token, "close"):
					h.close = true
				case equalFold(token, "keep-alive"):
					h.close = h.close && !http10
				case len(token) > 0:
					h.dropped = append(h.dropped, append([]byte(nil), token...))
				}
			}
		case equalFold(name, "Content-Type"):
			h.stream = len(value) >= 17 && equalFold(value[:17], "text/event-stream")
		}
		start := len(h.raw)
		h.raw = append(h.raw, line...)
		h.spans = append(h.spans, headerSpan{start: start, colon: start + colon, end: len(h.raw)})
	}
	if h.chunked {
		h.length = -1
	}
	for _, sp := range h.spans {
		name := h.raw[sp.start:sp.colon]
		if isHopHeader(name) || (h.chunked && equalFold(name, "Content-Length")) || h.listed(name) {
			continue
		}
		h.lines = append(h.lines, h.raw[sp.start:sp.end]...)
		h.lines = append(h.lines, '\r', '\n')
	}
	return nil
}

func (h *responseHead) listed(name []byte) bool {
	for _, d := range h.dropped {
		if bytes.EqualFold(d, name) {
			return true
		}
	}
	return false
}

// readHeadLine reads one line of a head without its line end.
func readHeadLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, errBadResponse
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

func isHopHeader(name []byte) bool {
	for _, h := range hopHeaders {
		if equalFold(name, h) {
			return true
		}
	}
	return false
}

// equalFold compares an ASCII header token with a name, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if lowerASCII(b[i]) != lowerASCII(s[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, d := range v {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int64(d-'0')
	}
	return n, true
}

// relay forwards r to the target and passes its answer on to a plain
// listener's client as it reads it: the header lines as the target wrote
// them (less the hop-by-hop ones), the body with its own framing.
func (p *proxy) relay(w *http1.Response, r *http.Request, f *forward, out *outgoing) (int, bool) {
	h := headPool.Get().(*responseHead)
	defer headPool.Put(h)
	c, err := p.pool.roundTrip(r.Context(), f.target, f.https, out, h.read)
	if err != nil {
		return proxyError(w, r, err), false
	}
	w.WriteHead(h.code, h.lines, h.length >= 0)
	reusable := !h.close
	if !w.Bodyless() {
		reusable = relayBody(w, c.br, h) && reusable
	}
	p.pool.release(f.target, c, reusable)
	return h.code, true
}

// relayBody copies the body of an answer and reports whether it was read
// to its end.
func relayBody(w *http1.Response, br *bufio.Reader, h *responseHead) bool {
	if h.length >= 0 && !h.stream {
		_, err := io.CopyN(w.Buffer(), br, h.length)
		return err == nil
	}
	var body io.Reader = br
	switch {
	case h.chunked:
		body = httputil.NewChunkedReader(br)
	case h.length >= 0:
		body = io.LimitReader(br, h.length)
	}
	buf := bufferPool.Get()
	defer bufferPool.Put(buf)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil || w.Buffer().Flush() != nil {
				return false
			}
		}
		if err == io.EOF && h.chunked {
			return skipTrailer(br) == nil
		}
		if err != nil {
			return err == io.EOF && h.length >= 0
		}
	}
}

// skipTrailer reads the trailer section after a chunked body's last chunk.
func skipTrailer(br *bufio.Reader) error {
	for {
		line, err := readHeadLine(br)
		if err != nil || len(line) == 0 {
			return err
		}
	}
}
