package cloudfront_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"overcast/internal/awstest"
)

// TestEdgeServesDeployedDistribution goes through the control plane to
// the edge: a deployed distribution answers at its DomainName from its
// origin, caches, and an invalidation makes the next request a miss.
func TestEdgeServesDeployedDistribution(t *testing.T) {
	var fetches atomic.Int32
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Cache-Control", "max-age=3600")
		io.WriteString(w, "hello from the origin")
	}))
	defer origin.Close()
	_, port, _ := net.SplitHostPort(origin.Listener.Addr().String())
	p, _ := strconv.Atoi(port)

	srv := awstest.Start(t)
	c := cloudfront.NewFromConfig(srv.Config())
	cfg := config("edge")
	cfg.Origins.Items[0].CustomOriginConfig.HTTPPort = aws.Int32(int32(p))
	d := create(t, c, cfg).Distribution
	waitDeployed(t, c, aws.ToString(d.Id))

	get := func() (string, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/index.html", nil)
		req.Host = aws.ToString(d.DomainName)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body), resp.Header.Get("X-Cache")
	}
	for i, want := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
		body, cache := get()
		if body != "hello from the origin" || cache != want {
			t.Errorf("request %d: got %q, X-Cache %q; want the origin's body, %q", i+1, body, cache, want)
		}
	}
	inv := awstest.Call(t, c.CreateInvalidation, &cloudfront.CreateInvalidationInput{DistributionId: d.Id, InvalidationBatch: batch("purge", "/*")})
	awstest.WaitFor(t, "invalidation completed", func() bool {
		got := awstest.Call(t, c.GetInvalidation, &cloudfront.GetInvalidationInput{DistributionId: d.Id, Id: inv.Invalidation.Id})
		return aws.ToString(got.Invalidation.Status) == "Completed"
	})
	if _, cache := get(); cache != "Miss from cloudfront" {
		t.Errorf("after the invalidation: got X-Cache %q, want a miss", cache)
	}
	if n := fetches.Load(); n != 2 {
		t.Errorf("got %d origin fetches, want 2 (the first miss and the one after the invalidation)", n)
	}

	// A restarted overcast deploys the distribution to its new edge again.
	srv.Restart(t)
	c = cloudfront.NewFromConfig(srv.Config())
	waitDeployed(t, c, aws.ToString(d.Id))
	awstest.WaitFor(t, "the edge serves the distribution after a restart", func() bool {
		body, _ := get()
		return body == "hello from the origin"
	})
}
