package edge

import (
	"bytes"
	"compress/gzip"
	"mime"
	"strings"

	"github.com/andybalholm/brotli"

	"overcast/internal/cloudfront/edge/cache"
)

// compressible are the Content-Types CloudFront compresses.
var compressible = map[string]bool{}

func init() {
	for _, t := range strings.Fields(`application/dash+xml application/eot application/font application/font-sfnt
		application/javascript application/json application/opentype application/otf application/pdf
		application/pkcs7-mime application/protobuf application/rss+xml application/truetype application/ttf
		application/vnd.apple.mpegurl application/vnd.mapbox-vector-tile application/vnd.ms-fontobject
		application/wasm application/xhtml+xml application/xml application/x-font-opentype
		application/x-font-truetype application/x-font-ttf application/x-httpd-cgi application/x-javascript
		application/x-mpegurl application/x-opentype application/x-otf application/x-perl application/x-ttf
		font/eot font/opentype font/otf font/ttf image/svg+xml text/css text/csv text/html text/javascript
		text/js text/plain text/richtext text/tab-separated-values text/xml text/x-script text/x-component
		text/x-java-source`) {
		compressible[t] = true
	}
}

// compress returns body compressed as the viewer's normalised
// Accept-Encoding asks (Brotli before gzip), and updates meta's headers,
// when CloudFront would: status 200, 403 or 404, 1,000 to 10,000,000
// bytes, a listed Content-Type, and no Content-Encoding from the origin.
// Otherwise it returns body unchanged.
func compress(meta *cache.Entry, body []byte, ae string) []byte {
	switch meta.Status {
	case 200, 403, 404:
	default:
		return body
	}
	if len(body) < 1000 || len(body) > 10_000_000 || meta.Header.Get("Content-Encoding") != "" {
		return body
	}
	mt, _, err := mime.ParseMediaType(meta.Header.Get("Content-Type"))
	if err != nil || !compressible[mt] {
		return body
	}
	var buf bytes.Buffer
	encoding := "gzip"
	if strings.HasPrefix(ae, "br") {
		encoding = "br"
		w := brotli.NewWriterLevel(&buf, 5)
		w.Write(body)
		w.Close()
	} else {
		w, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
		w.Write(body)
		w.Close()
	}
	meta.Header = meta.Header.Clone()
	meta.Header.Set("Content-Encoding", encoding)
	meta.Header.Add("Vary", "Accept-Encoding")
	if etag := meta.Header.Get("ETag"); etag != "" && !strings.HasPrefix(etag, "W/") {
		meta.Header.Set("ETag", "W/"+etag)
	}
	return buf.Bytes()
}
