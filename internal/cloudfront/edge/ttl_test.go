package edge

import (
	"net/http"
	"testing"
	"time"
)

func TestTTLFor(t *testing.T) {
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	in := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	zeroMin := ttlLimits{Min: 0, Default: 86400 * time.Second, Max: 31536000 * time.Second}
	withMin := ttlLimits{Min: 300 * time.Second, Default: 3600 * time.Second, Max: 7200 * time.Second}
	tests := []struct {
		name         string
		cacheControl string
		expires      string
		limits       ttlLimits
		want         time.Duration
	}{
		{"no headers: DefaultTTL", "", "", zeroMin, 86400 * time.Second},
		{"no headers, min>0: DefaultTTL", "", "", withMin, 3600 * time.Second},
		{"max-age below MaxTTL", "max-age=60", "", zeroMin, 60 * time.Second},
		{"max-age above MaxTTL is clamped", "max-age=100000", "", withMin, 7200 * time.Second},
		{"max-age below MinTTL is raised", "max-age=10", "", withMin, 300 * time.Second},
		{"max-age=0, MinTTL 0: not cached", "max-age=0", "", zeroMin, 0},
		{"s-maxage beats max-age", "max-age=60, s-maxage=120", "", zeroMin, 120 * time.Second},
		{"s-maxage clamped to MaxTTL", "s-maxage=99999", "", withMin, 7200 * time.Second},
		{"max-age beats Expires", "max-age=60", in(time.Hour), zeroMin, 60 * time.Second},
		{"Expires alone", "", in(10 * time.Minute), zeroMin, 10 * time.Minute},
		{"Expires after MaxTTL", "", in(10 * time.Hour), withMin, 7200 * time.Second},
		{"Expires before MinTTL", "", in(time.Minute), withMin, 300 * time.Second},
		{"Expires in the past, MinTTL 0", "", in(-time.Hour), zeroMin, 0},
		{"Expires unreadable, MinTTL>0", "", "yesterday", withMin, 300 * time.Second},
		{"no-store, MinTTL 0: not cached", "no-store", "", zeroMin, 0},
		{"no-cache, MinTTL 0: not cached", "no-cache", "", zeroMin, 0},
		{"private, MinTTL 0: not cached", "private, max-age=600", "", zeroMin, 0},
		{"no-store, MinTTL>0: MinTTL", "no-store", "", withMin, 300 * time.Second},
		{"no-cache with max-age, MinTTL>0: MinTTL", "no-cache, max-age=3000", "", withMin, 300 * time.Second},
		{"directives are case-insensitive", "Max-Age=42", "", zeroMin, 42 * time.Second},
		{"public and max-age", "public, max-age=31", "", zeroMin, 31 * time.Second},
		{"CachingDisabled policy", "max-age=3600", "", ttlLimits{}, 0},
		{"legacy defaults", "", "", legacyTTLs, 86400 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.cacheControl != "" {
				h.Set("Cache-Control", tt.cacheControl)
			}
			if tt.expires != "" {
				h.Set("Expires", tt.expires)
			}
			if got := ttlFor(h, now, tt.limits); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
