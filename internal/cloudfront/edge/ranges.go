package edge

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"overcast/internal/cloudfront/edge/cache"
)

// writeRange answers a Range request from a cached 200: one satisfiable
// range gets a 206, an unsatisfiable one a 416. It reports false when the
// whole object is to be sent instead: several ranges, or a header it
// cannot read, as CloudFront does.
func (x *exchange) writeRange(ent *cache.Entry) bool {
	spec, ok := strings.CutPrefix(x.r.Header.Get("Range"), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return false
	}
	size := ent.Size
	first, last, ok := parseRange(strings.TrimSpace(spec), size)
	if !ok {
		return false
	}
	h := x.w.Header()
	if first >= size {
		h["Content-Range"] = []string{"bytes */" + strconv.FormatInt(size, 10)}
		h["Content-Length"] = []string{"0"}
		x.w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		return true
	}
	n := last - first + 1
	h["Content-Range"] = []string{"bytes " + strconv.FormatInt(first, 10) + "-" + strconv.FormatInt(last, 10) + "/" + strconv.FormatInt(size, 10)}
	h["Content-Length"] = []string{strconv.FormatInt(n, 10)}
	x.w.WriteHeader(http.StatusPartialContent)
	if x.r.Method != http.MethodHead {
		io.Copy(x.w, io.NewSectionReader(ent.Body(), first, n))
	}
	return true
}

// parseRange reads one byte range of an object of size bytes: "a-b",
// "a-" or "-n". A range whose start is past the end comes back with
// first >= size; a malformed one (a > b) is not ok.
func parseRange(spec string, size int64) (first, last int64, ok bool) {
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, false
	}
	if a == "" { // the last n bytes
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false
		}
		return max(size-n, 0), size - 1, size > 0
	}
	first, err := strconv.ParseInt(a, 10, 64)
	if err != nil || first < 0 {
		return 0, 0, false
	}
	last = size - 1
	if b != "" {
		if last, err = strconv.ParseInt(b, 10, 64); err != nil || last < first {
			return 0, 0, false
		}
		last = min(last, size-1)
	}
	return first, last, true
}
