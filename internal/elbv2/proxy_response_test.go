package elbv2

import (
	"bufio"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResponseHead(t *testing.T) {
	type head struct {
		Code          int
		Lines         string
		Length        int64
		Chunked       bool
		Close, Stream bool
	}
	for _, tc := range []struct {
		name, in string
		want     *head // nil: a malformed answer
	}{
		{"kept alive", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-A: 1\r\n\r\n",
			&head{Code: 200, Lines: "Content-Length: 5\r\nX-A: 1\r\n", Length: 5}},
		{"HTTP/1.0 ends the connection", "HTTP/1.0 200 OK\r\nX-A: 1\r\n\r\n", &head{Code: 200, Lines: "X-A: 1\r\n", Length: -1, Close: true}},
		{"HTTP/1.0 kept alive", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n",
			&head{Code: 200, Lines: "Content-Length: 0\r\n", Length: 0}},
		{"chunked wins over a length", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n",
			&head{Code: 200, Length: -1, Chunked: true}},
		{"interim answers skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
			&head{Code: 201, Lines: "Content-Length: 0\r\n", Length: 0}},
		{"names the Connection header lists", "HTTP/1.1 404 Not Found\r\nConnection: X-Hop, close\r\nx-hop: 1\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n",
			&head{Code: 404, Lines: "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n", Length: -1, Close: true}},
		{"event stream", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n\r\n",
			&head{Code: 200, Lines: "Content-Type: text/event-stream; charset=utf-8\r\n", Length: -1, Stream: true}},
		{"no reason phrase", "HTTP/1.1 204\r\n\r\n", &head{Code: 204, Length: -1}},
		{"HTTP/2 status line", "HTTP/2 200 OK\r\n\r\n", nil},
		{"status not a number", "HTTP/1.1 2x0 OK\r\n\r\n", nil},
		{"header without a colon", "HTTP/1.1 200 OK\r\nX-A\r\n\r\n", nil},
		{"folded header line", "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\n\r\n", nil},
		{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", nil},
		{"negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", nil},
		{"upgrade nobody asked for", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h responseHead
			err := h.read(bufio.NewReader(strings.NewReader(tc.in)))
			if tc.want == nil {
				if err != errBadResponse {
					t.Fatalf("got error %v, want errBadResponse", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := &head{Code: h.code, Lines: string(h.lines), Length: h.length, Chunked: h.chunked, Close: h.close, Stream: h.stream}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("head (-want +got):\n%s", diff)
			}
		})
	}
}
