package gateway

import (
	"net/http/httptest"
	"testing"
	"time"

	"overcast"
)

// TestOrigin: services see where a request came from, as the gateway saw
// it, for aws:SourceIp conditions and CloudTrail's sourceIPAddress.
func TestOrigin(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.7:50123"
	r.Header.Set("User-Agent", "aws-cli/2.15")
	now := time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)
	got := originOf(r, now)
	want := overcast.Origin{SourceIP: "192.0.2.7", UserAgent: "aws-cli/2.15", Time: now}
	if got != want {
		t.Errorf("originOf = %+v, want %+v", got, want)
	}
}
