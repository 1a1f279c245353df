package app_test

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"testing"

	"overcast/internal/app"
)

// TestGeoIPConfig: a database that does not open stops overcast up with
// the flag's name; a header is trusted only when configured.
func TestGeoIPConfig(t *testing.T) {
	wantRunError(t, app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), GeoIPDB: filepath.Join(t.TempDir(), "absent.mmdb")}, "--geoip-db")

	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), GeoIPHeader: "X-Viewer-Country"})
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Viewer-Country", "NZ")
	if got := m.GeoIP().Country(r, netip.MustParseAddr("192.0.2.1")); got != "NZ" {
		t.Errorf("country with the trusted header: got %q, want NZ", got)
	}
}
