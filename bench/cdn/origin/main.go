// Command origin is the CDN benchmark's origin: fixed bodies that every
// cache may keep for an hour, a slow path for request collapsing, and a
// count of the requests that reached it.
//
//	origin PORT
//
//	GET /1k, /100k      1,000 or 100,000 bytes, Cache-Control: max-age=3600
//	GET /slow/<any>     the 1k body after 200 ms (a cold key many ask for at once)
//	GET /_count         how many requests reached the origin, then resets it
package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

func main() {
	small, large := bytes.Repeat([]byte("a"), 1000), bytes.Repeat([]byte("b"), 100_000)
	var count atomic.Int64
	serve := func(w http.ResponseWriter, body []byte) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "application/octet-stream") // not compressible: every server sends the same bytes
		w.Write(body)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_count" {
			fmt.Fprint(w, count.Swap(0))
			return
		}
		count.Add(1)
		switch {
		case strings.HasSuffix(r.URL.Path, "/100k"):
			serve(w, large)
		case strings.HasPrefix(r.URL.Path, "/slow/"):
			time.Sleep(200 * time.Millisecond)
			serve(w, small)
		default:
			serve(w, small)
		}
	})
	http.ListenAndServe("127.0.0.1:"+os.Args[1], nil)
}
