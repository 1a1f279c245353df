package edge

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LogSink delivers standard access log files to S3, on behalf of the
// account that owns the distribution (which enabled logging to a bucket it
// may write to, as CloudFront requires).
type LogSink interface {
	PutLog(ctx context.Context, account, bucket, key string, body []byte) error
}

// logFields is the header of a standard log file: CloudFront's fields, in
// its order.
const logFields = "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status " +
	"cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol " +
	"cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version " +
	"fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type " +
	"sc-content-len sc-range-start sc-range-end\n"

// logTarget is where one distribution's log lines go, and the lines not
// delivered yet.
type logTarget struct {
	distributionID, account, bucket, prefix string
	includeCookies                          bool

	mu    sync.Mutex
	lines bytes.Buffer
	seq   int
}

func newLogTarget(id, account, bucket, prefix string, includeCookies bool) *logTarget {
	// The bucket is named by its domain (logs.s3.amazonaws.com).
	bucket, _, _ = strings.Cut(bucket, ".s3")
	return &logTarget{distributionID: id, account: account, bucket: bucket, prefix: prefix, includeCookies: includeCookies}
}

// countingWriter counts the bytes written to the viewer, for sc-bytes.
type countingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *countingWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// logLine appends the access log line of a finished exchange.
func (x *exchange) logLine(t *logTarget, r *http.Request, start time.Time, cw *countingWriter) {
	h := cw.Header()
	taken := x.e.now().Sub(start).Seconds()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	resultType := strings.TrimSuffix(h.Get("X-Cache"), " from cloudfront")
	cookies := "-"
	if t.includeCookies {
		cookies = field(r.Header.Get("Cookie"))
	}
	headerBytes := int64(len(r.Method) + len(r.URL.RequestURI()) + 12)
	for k, v := range r.Header {
		headerBytes += int64(len(k) + len(strings.Join(v, ",")) + 4)
	}
	_, port, _ := strings.Cut(r.RemoteAddr[strings.LastIndexByte(r.RemoteAddr, ']')+1:], ":")
	fields := []string{
		start.UTC().Format("2006-01-02"), start.UTC().Format("15:04:05"), x.pop.code, strconv.FormatInt(cw.bytes, 10),
		x.ip.String(), r.Method, x.dep.dist.DomainName, field(r.URL.EscapedPath()), strconv.Itoa(cw.status),
		field(r.Header.Get("Referer")), field(r.Header.Get("User-Agent")), field(r.URL.RawQuery), cookies,
		resultType, x.id, field(r.Host), scheme, strconv.FormatInt(headerBytes+max(r.ContentLength, 0), 10),
		strconv.FormatFloat(taken, 'f', 3, 64), field(r.Header.Get("X-Forwarded-For")), tlsVersion(r), "-",
		resultType, strings.TrimPrefix(r.Proto, "HTTP/"), "-", "-", field(port), strconv.FormatFloat(taken, 'f', 3, 64),
		resultType, field(h.Get("Content-Type")), field(h.Get("Content-Length")), "-", "-",
	}
	if cr := h.Get("Content-Range"); strings.HasPrefix(cr, "bytes ") && !strings.HasPrefix(cr, "bytes */") {
		span, _, _ := strings.Cut(strings.TrimPrefix(cr, "bytes "), "/")
		fields[31], fields[32], _ = strings.Cut(span, "-")
		fields[30] = "-"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines.WriteString(strings.Join(fields, "\t"))
	t.lines.WriteByte('\n')
}

// field is a log field: URL-encoded as CloudFront does for free text,
// "-" when empty.
func field(s string) string {
	if s == "" {
		return "-"
	}
	return strings.ReplaceAll(url.PathEscape(s), "%2F", "/")
}

func tlsVersion(r *http.Request) string {
	if r.TLS == nil {
		return "-"
	}
	switch r.TLS.Version {
	case 0x0304:
		return "TLSv1.3"
	case 0x0303:
		return "TLSv1.2"
	}
	return "TLSv1"
}

// FlushLogs delivers the log lines of every distribution that has any, one
// gzip file each, named as CloudFront names them:
// <prefix><distribution ID>.YYYY-MM-DD-HH.<unique ID>.gz.
func (e *Edge) FlushLogs(ctx context.Context) error {
	if e.cfg.Logs == nil {
		return nil
	}
	var errs []error
	for _, dep := range e.routes.Load().byID {
		if dep.logging != nil {
			errs = append(errs, dep.logging.flush(ctx, e.cfg.Logs, e.now()))
		}
	}
	return errors.Join(errs...)
}

func (t *logTarget) flush(ctx context.Context, sink LogSink, now time.Time) error {
	t.mu.Lock()
	if t.lines.Len() == 0 {
		t.mu.Unlock()
		return nil
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(logFields))
	zw.Write(t.lines.Bytes())
	zw.Close()
	t.lines.Reset()
	t.seq++
	key := t.prefix + t.distributionID + "." + now.UTC().Format("2006-01-02-15") + "." + strconv.FormatInt(now.UnixNano(), 36) + strconv.Itoa(t.seq) + ".gz"
	t.mu.Unlock()
	return sink.PutLog(ctx, t.account, t.bucket, key, buf.Bytes())
}

// deliverLogs flushes the logs every interval until the edge closes.
func (e *Edge) deliverLogs(interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-e.closing.Done():
			return
		case <-tick.C:
			if err := e.FlushLogs(e.closing); err != nil {
				e.log.Warn("edge: access logs not delivered", "err", err)
			}
		}
	}
}
