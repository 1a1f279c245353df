package awstest

import (
	"bytes"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// KeepRequestBodies returns cfg with a transport that hands net/http a
// copy of each request body. The SDK closes a request's body as soon as
// the response headers arrive; net/http's writer, still checking that body
// for bytes past its Content-Length, then fails and closes the connection
// under a response over 4 KiB still being read ("use of closed network
// connection"). Against AWS the network delay hides the race; an
// in-process server answers fast enough to hit it with large answers
// (EC2's).
func KeepRequestBodies(cfg aws.Config) aws.Config {
	next := http.RoundTripper(http.DefaultTransport)
	if c, ok := cfg.HTTPClient.(*http.Client); ok && c.Transport != nil {
		next = c.Transport
	}
	cfg.HTTPClient = &http.Client{Transport: ownBody{next}}
	return cfg
}

type ownBody struct{ next http.RoundTripper }

func (o ownBody) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return o.next.RoundTrip(r)
	}
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(b))
	return o.next.RoundTrip(r)
}
