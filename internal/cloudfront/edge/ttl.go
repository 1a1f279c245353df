package edge

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ttlLimits are a behaviour's MinTTL, DefaultTTL and MaxTTL, from its
// cache policy or, for a legacy behaviour, from the behaviour itself.
type ttlLimits struct {
	Min, Default, Max time.Duration
}

// CloudFront's defaults for a legacy behaviour that leaves them out.
var legacyTTLs = ttlLimits{Min: 0, Default: 86400 * time.Second, Max: 31536000 * time.Second}

// cacheControl is what the edge reads of an origin's Cache-Control.
type cacheControl struct {
	noStore               bool // no-store, no-cache or private: CloudFront treats them alike
	maxAge, sMaxAge       time.Duration
	hasMaxAge, hasSMaxAge bool
	staleWhileRevalidate  time.Duration
	staleIfError          time.Duration
	hasStaleIfError       bool
}

func parseCacheControl(values []string) cacheControl {
	var cc cacheControl
	for _, v := range values {
		for _, d := range strings.Split(v, ",") {
			name, arg, _ := strings.Cut(strings.TrimSpace(d), "=")
			arg = strings.Trim(strings.TrimSpace(arg), `"`)
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache", "private":
				cc.noStore = true
			case "max-age":
				cc.maxAge, cc.hasMaxAge = seconds(arg)
			case "s-maxage":
				cc.sMaxAge, cc.hasSMaxAge = seconds(arg)
			case "stale-while-revalidate":
				cc.staleWhileRevalidate, _ = seconds(arg)
			case "stale-if-error":
				cc.staleIfError, cc.hasStaleIfError = seconds(arg)
			}
		}
	}
	return cc
}

// seconds parses a delta-seconds argument; a negative or malformed one is
// treated as 0, as caches do with a max-age they cannot read.
func seconds(s string) (time.Duration, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, err == nil
	}
	return time.Duration(n) * time.Second, true
}

// ttlFor is how long CloudFront keeps an origin's response, from the rules
// of "Managing how long content stays in the cache": no-store, no-cache and
// private keep it only for MinTTL; otherwise s-maxage beats max-age beats
// Expires, any of them clamped to [MinTTL, MaxTTL]; without any, DefaultTTL.
// Cache-Control from the viewer plays no part.
func ttlFor(h http.Header, now time.Time, l ttlLimits) time.Duration {
	cc := parseCacheControl(h.Values("Cache-Control"))
	return ttlFromControl(cc, h.Get("Expires"), now, l)
}

func ttlFromControl(cc cacheControl, expires string, now time.Time, l ttlLimits) time.Duration {
	if cc.noStore {
		return l.Min
	}
	var d time.Duration
	switch {
	case cc.hasSMaxAge:
		d = cc.sMaxAge
	case cc.hasMaxAge:
		d = cc.maxAge
	case expires != "":
		t, err := http.ParseTime(expires)
		if err == nil {
			d = t.Sub(now)
		} // an unreadable Expires is a date in the past
	default:
		return l.Default
	}
	return min(max(d, l.Min), l.Max)
}
