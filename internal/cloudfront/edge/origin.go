package edge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Buckets is what the edge needs of S3: to serve a request for an object
// of bucket as the distribution (OAC) or origin access identity named in as
// would reach S3 — the bucket policy decides, so a private bucket answers
// 403 to anyone but its distribution.
type Buckets interface {
	Serve(ctx context.Context, bucket string, r *http.Request, as Requester) (*http.Response, error)
}

// Requester is who the edge asks S3 as.
type Requester struct {
	// DistributionARN is set when an origin access control signs the
	// request (SigV4 as the service principal cloudfront.amazonaws.com,
	// with this distribution as AWS:SourceArn).
	DistributionARN string
	// OAI is the ID of the legacy origin access identity the origin names.
	OAI string
}

// originTarget is what a behaviour's TargetOriginId names: one origin, or
// an origin group's primary and secondary with the codes that fail over.
type originTarget struct {
	members  []*origin
	failover map[int]bool
}

// origin is one of a distribution's origins, ready to fetch from.
type origin struct {
	id         string
	domain     string
	path       string // OriginPath
	headers    [][2]string
	bucket     string // an S3 origin's bucket; "" for a custom origin
	requester  Requester
	protocol   string // http-only, https-only, match-viewer
	httpPort   int
	httpsPort  int
	attempts   int
	client     *http.Client
	readTimout time.Duration
	keepAlive  time.Duration // OriginKeepaliveTimeout
}

func (e *Edge) compileOrigins(d *Distribution) (map[string]*originTarget, error) {
	c := d.Config
	if c.Origins == nil || len(c.Origins.Items) == 0 {
		return nil, fmt.Errorf("edge: distribution %s has no origins", d.ID)
	}
	targets := map[string]*originTarget{}
	for i := range c.Origins.Items {
		o := &c.Origins.Items[i]
		og := &origin{
			id: deref(o.Id), domain: strings.ToLower(deref(o.DomainName)), path: strings.TrimSuffix(deref(o.OriginPath), "/"),
			attempts: int(deref(o.ConnectionAttempts)), protocol: "http-only", httpPort: 80, httpsPort: 443,
			readTimout: 30 * time.Second, keepAlive: 5 * time.Second,
		}
		if og.attempts == 0 {
			og.attempts = 3
		}
		connect := 10 * time.Second
		if o.ConnectionTimeout != nil {
			connect = time.Duration(*o.ConnectionTimeout) * time.Second
		}
		if o.CustomHeaders != nil {
			for _, h := range o.CustomHeaders.Items {
				og.headers = append(og.headers, [2]string{http.CanonicalHeaderKey(deref(h.HeaderName)), deref(h.HeaderValue)})
			}
		}
		if cc := o.CustomOriginConfig; cc != nil {
			og.protocol = deref(cc.OriginProtocolPolicy)
			og.httpPort, og.httpsPort = int(deref(cc.HTTPPort)), int(deref(cc.HTTPSPort))
			if cc.OriginReadTimeout != nil {
				og.readTimout = time.Duration(*cc.OriginReadTimeout) * time.Second
			}
			if cc.OriginKeepaliveTimeout != nil {
				og.keepAlive = time.Duration(*cc.OriginKeepaliveTimeout) * time.Second
			}
		} else if bucket, ok := s3Bucket(og.domain); ok && e.cfg.Buckets != nil {
			og.bucket = bucket
			if o.S3OriginConfig != nil {
				_, og.requester.OAI, _ = strings.Cut(deref(o.S3OriginConfig.OriginAccessIdentity), "origin-access-identity/cloudfront/")
			}
			if id := deref(o.OriginAccessControlId); id != "" {
				if oac := d.OriginAccessControls[id]; oac == nil || deref(oac.SigningBehavior) != "never" {
					og.requester.DistributionARN = d.ARN
				}
			}
		}
		og.client = e.originClient(connect, og.readTimout, og.keepAlive)
		targets[og.id] = &originTarget{members: []*origin{og}}
	}
	if c.OriginGroups != nil {
		for _, g := range c.OriginGroups.Items {
			t := &originTarget{failover: map[int]bool{}}
			if g.Members != nil {
				for _, m := range g.Members.Items {
					o := targets[deref(m.OriginId)]
					if o == nil || len(o.members) != 1 {
						return nil, fmt.Errorf("edge: origin group %s names unknown origin %q", deref(g.Id), deref(m.OriginId))
					}
					t.members = append(t.members, o.members[0])
				}
			}
			if g.FailoverCriteria != nil && g.FailoverCriteria.StatusCodes != nil {
				for _, code := range g.FailoverCriteria.StatusCodes.Items {
					t.failover[int(code)] = true
				}
			}
			targets[deref(g.Id)] = t
		}
	}
	return targets, nil
}

// s3Bucket is the bucket of an S3 REST endpoint domain
// (<bucket>.s3.amazonaws.com, <bucket>.s3.<region>.amazonaws.com, or the
// same under localhost); website endpoints (s3-website) are custom origins.
func s3Bucket(domain string) (string, bool) {
	if strings.Contains(domain, ".s3-website") {
		return "", false
	}
	bucket, _, ok := strings.Cut(domain, ".s3.")
	if !ok {
		bucket, _, ok = strings.Cut(domain, ".s3-")
	}
	if !ok || bucket == "" {
		return "", false
	}
	return bucket, true
}

// originClient is the keep-alive pool of one origin: its connection timeout
// bounds each dial, its read timeout the wait for response headers, and its
// keep-alive timeout how long an idle connection stays open.
func (e *Edge) originClient(connect, read, keepAlive time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, resolveLocalhost(addr))
		},
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       keepAlive,
		ResponseHeaderTimeout: read,
		DisableCompression:    true, // the edge passes encodings through as they are
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// resolveLocalhost sends *.localhost to the loopback address, as browsers
// and curl do, whatever the system resolver says.
func resolveLocalhost(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if h := strings.ToLower(host); h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}

// errors the edge turns into CloudFront's 502 and 504.
var (
	errOriginConnect = errors.New("edge: cannot connect to the origin")
	errOriginTimeout = errors.New("edge: the origin did not answer in time")
)

// do sends out to the origin: to S3 through Buckets, to a custom origin
// over HTTP with up to ConnectionAttempts dials.
func (o *origin) do(ctx context.Context, out *http.Request, viewerTLS bool, buckets Buckets) (*http.Response, error) {
	if o.bucket != "" {
		out.URL.Scheme, out.URL.Host = "https", o.domain
		return buckets.Serve(ctx, o.bucket, out, o.requester)
	}
	scheme, port := "http", o.httpPort
	if o.protocol == "https-only" || o.protocol == "match-viewer" && viewerTLS {
		scheme, port = "https", o.httpsPort
	}
	out.URL.Scheme = scheme
	out.URL.Host = o.domain
	if port != 0 && !(scheme == "http" && port == 80 || scheme == "https" && port == 443) {
		out.URL.Host = net.JoinHostPort(o.domain, strconv.Itoa(port))
	}
	var err error
	for range max(o.attempts, 1) {
		var resp *http.Response
		resp, err = o.client.Do(out.WithContext(ctx))
		if err == nil {
			return resp, nil
		}
		var op *net.OpError
		if !errors.As(err, &op) || op.Op != "dial" || ctx.Err() != nil {
			break // only a failed connection is attempted again
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil, fmt.Errorf("%w: %v", errOriginTimeout, err)
	}
	return nil, fmt.Errorf("%w: %v", errOriginConnect, err)
}
