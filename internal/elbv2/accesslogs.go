package elbv2

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LogBuckets writes access logs to S3 as ELB's log delivery does: as the
// service principal, which the bucket policy must allow. The app adapts
// internal/s3 to it (the adapter CloudWatch Logs' exports use).
type LogBuckets interface {
	PutObject(ctx context.Context, principal, sourceARN, bucket, key string, body io.Reader, size int64) error
}

const (
	// logDeliveryPrincipal is the principal ELB's bucket policies name
	// to let access logs in.
	logDeliveryPrincipal = "logdelivery.elasticloadbalancing.amazonaws.com"
	// logInterval is how often an Application Load Balancer delivers its
	// access logs.
	logInterval = 5 * time.Minute
)

// accessLog holds one load balancer's access log entries until they are
// delivered.
type accessLog struct {
	mu             sync.Mutex
	bucket, prefix string // where they go, as configured when the entries were written
	ip             string // the load balancer node's address, in the file name
	entries        bytes.Buffer
}

func (a *accessLog) configure(bucket, prefix, ip string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.bucket, a.prefix, a.ip = bucket, prefix, ip
}

func (a *accessLog) add(line []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries.Write(line)
}

// take empties the buffer and returns what it held and where it goes.
func (a *accessLog) take() (bucket, prefix, ip string, data []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	data = bytes.Clone(a.entries.Bytes())
	a.entries.Reset()
	return a.bucket, a.prefix, a.ip, data
}

// logEntry is what one request's access log entry says, filled in as the
// request goes.
type logEntry struct {
	received     time.Time
	priority     string // of the rule that matched: "0" for the default; "-" for none
	action       string
	target       string
	group        string
	targetStatus int
	targetTime   time.Duration
	trace        string
	redirect     string
}

// countingWriter is a response writer that notes the status and the body
// bytes written, for the access log. It hides the connection's own writer
// from the proxy, which then takes its general path.
type countingWriter struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (c *countingWriter) WriteHeader(code int) {
	if c.code == 0 && code >= 200 {
		c.code = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	n, err := c.ResponseWriter.Write(p)
	c.bytes += int64(n)
	return n, err
}

func (c *countingWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// serveLogged serves a request and adds its entry to the access log.
func (lb *lbRoutes) serveLogged(w http.ResponseWriter, r *http.Request, l *listenerRoutes) {
	// Times of day are the service's clock, like the file names.
	e := &logEntry{received: lb.proxy.clock.Now(), priority: "-", action: "-"}
	cw := &countingWriter{ResponseWriter: w}
	lb.route(cw, r, l, e)
	lb.accessLog.add(e.line(lb, l, r, cw, lb.proxy.clock.Now()))
}

// line formats an entry as ALB's access log does: space-separated
// fields, "-" (or -1 for times) where a field does not apply.
func (e *logEntry) line(lb *lbRoutes, l *listenerRoutes, r *http.Request, w *countingWriter, done time.Time) []byte {
	kind := l.scheme
	switch {
	case r.ProtoMajor == 2:
		kind = "h2"
	case w.code == http.StatusSwitchingProtocols:
		kind = "ws" + strings.TrimPrefix(l.scheme, "http") // ws or wss
	}
	cipher, protocol, domain := "-", "-", "-"
	if r.TLS != nil {
		cipher = tls.CipherSuiteName(r.TLS.CipherSuite)
		protocol = strings.Replace(tls.VersionName(r.TLS.Version), "TLS 1", "TLSv1", 1)
		if r.TLS.ServerName != "" {
			domain = r.TLS.ServerName
		}
	}
	reqTime, targetTime, respTime := "-1", "-1", "-1"
	target, targetStatus := "-", "-"
	if e.target != "" {
		reqTime, respTime = "0.000", "0.000"
		target = e.target
		if e.targetStatus != 0 {
			targetTime = strconv.FormatFloat(e.targetTime.Seconds(), 'f', 3, 64)
			targetStatus = strconv.Itoa(e.targetStatus)
		}
	}
	received := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
	for k, vv := range r.Header {
		for _, v := range vv {
			received += len(k) + len(v) + 4
		}
	}
	if r.ContentLength > 0 {
		received += int(r.ContentLength)
	}
	sent := w.bytes + 17 // the status line, give or take the reason
	for k, vv := range w.Header() {
		for _, v := range vv {
			sent += int64(len(k) + len(v) + 4)
		}
	}
	request := fmt.Sprintf("%s %s://%s:%d%s %s", r.Method, l.scheme, hostOnly(r.Host), l.port, r.URL.RequestURI(), r.Proto)
	fields := []string{kind, done.UTC().Format(logTime), lb.logName, r.RemoteAddr, target, reqTime, targetTime, respTime,
		strconv.Itoa(w.code), targetStatus, strconv.Itoa(received), strconv.FormatInt(sent, 10), quoteLog(request),
		quoteLog(orDash(r.UserAgent())), cipher, protocol, orDash(e.group), quoteLog(orDash(e.trace)), quoteLog(domain), `"-"`,
		e.priority, e.received.UTC().Format(logTime), quoteLog(e.action), quoteLog(orDash(e.redirect)), `"-"`,
		quoteLog(target), quoteLog(targetStatus), `"-"`, `"-"`, "-"}
	return []byte(strings.Join(fields, " ") + "\n")
}

const logTime = "2006-01-02T15:04:05.000000Z"

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// quoteLog quotes a field as the access log does: in double quotes, with
// double quotes inside escaped.
func quoteLog(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

// logOf is the access log of a load balancer, made on first use and kept
// across changes so that no entry is lost when the routes are rebuilt.
func (p *plane) logOf(arn string) *accessLog { return entryOf(p.logs, arn) }

// deliverLogs writes each load balancer's buffered entries to its bucket,
// one gzip file per load balancer and interval, named as ELB names them.
func (s *Service) deliverLogs(ctx context.Context) error {
	if s.logBuckets == nil {
		return nil
	}
	now := s.clock.Now().UTC()
	for arn, a := range s.plane.accessLogs() {
		bucket, prefix, ip, data := a.take()
		if len(data) == 0 || bucket == "" {
			continue
		}
		sc := scopeOfRecord(arn)
		id := strings.ReplaceAll(strings.TrimPrefix(lbResource(arn), "loadbalancer/app/"), "/", ".")
		key := fmt.Sprintf("AWSLogs/%s/elasticloadbalancing/%s/%s/%s_elasticloadbalancing_%s_app.%s_%s_%s_%s.log.gz",
			sc.Account, sc.Region, now.Format("2006/01/02"), sc.Account, sc.Region, id, now.Format("20060102T1504Z"), ip, randomLogSuffix())
		if prefix != "" {
			key = prefix + "/" + key
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(data)
		zw.Close()
		if err := s.logBuckets.PutObject(ctx, logDeliveryPrincipal, arn, bucket, key, &gz, int64(gz.Len())); err != nil {
			// ELB drops what it cannot deliver, and says nothing on the
			// API: the log is where it shows.
			s.Logger.Warn("elbv2: delivering access logs", "loadBalancer", arn, "bucket", bucket, "err", err)
		}
	}
	return nil
}

// checkLogBucket writes the test file ELB writes when access logs are
// enabled; an error is the one ModifyLoadBalancerAttributes answers.
func (s *Service) checkLogBucket(ctx context.Context, lb loadBalancer, bucket, prefix string) error {
	if s.logBuckets == nil {
		return nil
	}
	sc := scopeOfRecord(lb.ARN)
	key := "AWSLogs/" + sc.Account + "/ELBAccessLogTestFile"
	if prefix != "" {
		key = prefix + "/" + key
	}
	body := "Enable AccessLog for ELB: " + lb.Name + " at " + s.clock.Now().UTC().Format(time.RFC3339) + "\n"
	if bucket == "" || s.logBuckets.PutObject(ctx, logDeliveryPrincipal, lb.ARN, bucket, key, strings.NewReader(body), int64(len(body))) != nil {
		return invalidConfiguration("Access Denied for bucket: %s. Please check S3bucket permission", bucket)
	}
	return nil
}

func randomLogSuffix() string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 12)
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return string(b)
}
