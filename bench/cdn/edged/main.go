// Command edged serves one CloudFront distribution from package edge on a
// plain listener, or plays its origin: the overcast side of bench/cdn,
// without the rest of the server, so that the benchmark measures the edge.
//
//	edged -origin 127.0.0.1:8081                 # 1 KB and 100 KB objects, max-age=3600
//	edged -listen 127.0.0.1:8082 -upstream 127.0.0.1:8081
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"

	api "overcast/internal/api/cloudfront"
	"overcast/internal/cloudfront/edge"
)

func main() {
	origin := flag.String("origin", "", "serve as the origin on this address")
	listen := flag.String("listen", "127.0.0.1:8082", "serve the edge on this address")
	upstream := flag.String("upstream", "127.0.0.1:8081", "the origin's address")
	flag.Parse()
	if *origin != "" {
		log.Fatal(http.ListenAndServe(*origin, http.HandlerFunc(serveOrigin)))
	}
	e, err := edge.New(edge.Config{})
	if err != nil {
		log.Fatal(err)
	}
	if err := e.Deploy(context.Background(), distribution(*upstream)); err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe(*listen, e))
}

// serveOrigin answers /<n>k with n KiB, cacheable for an hour.
func serveOrigin(w http.ResponseWriter, r *http.Request) {
	kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "k"))
	if err != nil || kb < 0 || kb > 10240 {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "max-age=3600")
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write([]byte(strings.Repeat("x", kb*1024)))
}

// distribution is E1BENCH in front of upstream with CachingOptimized.
func distribution(upstream string) *edge.Distribution {
	host, portText, err := net.SplitHostPort(upstream)
	if err != nil {
		log.Fatal(err)
	}
	port, _ := strconv.Atoi(portText)
	s := func(v string) *string { return &v }
	n := func(v int32) *int32 { return &v }
	t := func(v int64) *int64 { return &v }
	return &edge.Distribution{
		ID: "E1BENCH", DomainName: "e1bench.cloudfront.localhost",
		Config: &api.DistributionConfig{
			Origins: &api.Origins{Quantity: n(1), Items: []api.Origin{{Id: s("origin"), DomainName: s(host),
				CustomOriginConfig: &api.CustomOriginConfig{HTTPPort: n(int32(port)), HTTPSPort: n(443), OriginProtocolPolicy: s("http-only")}}}},
			DefaultCacheBehavior: &api.DefaultCacheBehavior{TargetOriginId: s("origin"), ViewerProtocolPolicy: s("allow-all"), CachePolicyId: s("optimized")},
		},
		CachePolicies: map[string]*api.CachePolicyConfig{"optimized": {Name: s("CachingOptimized"), MinTTL: t(1), DefaultTTL: t(86400), MaxTTL: t(31536000),
			ParametersInCacheKeyAndForwardedToOrigin: &api.ParametersInCacheKeyAndForwardedToOrigin{
				EnableAcceptEncodingGzip: new(true), EnableAcceptEncodingBrotli: new(true),
				HeadersConfig:      &api.CachePolicyHeadersConfig{HeaderBehavior: s("none")},
				CookiesConfig:      &api.CachePolicyCookiesConfig{CookieBehavior: s("none")},
				QueryStringsConfig: &api.CachePolicyQueryStringsConfig{QueryStringBehavior: s("none")},
			}}},
	}
}
