package app_test

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"testing"

	"overcast/internal/app"
	"overcast/internal/geoip/geoiptest"
)

// TestGeoIPConfig: a database that does not open stops overcast up with
// the flag's name; one that does places viewers, and the header
// configured is trusted over it.
func TestGeoIPConfig(t *testing.T) {
	wantRunError(t, app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), GeoIPDB: filepath.Join(t.TempDir(), "absent.mmdb")}, "--geoip-db")

	db := geoiptest.Countries(t, map[string]string{"192.0.2.0/24": "AU"})
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), GeoIPDB: db, GeoIPHeader: "X-Viewer-Country"})
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	viewer := netip.MustParseAddr("192.0.2.1")
	r := httptest.NewRequest("GET", "/", nil)
	if got := m.GeoIP().Country(r, viewer); got != "AU" {
		t.Errorf("country from the database: got %q, want AU", got)
	}
	r.Header.Set("X-Viewer-Country", "NZ")
	if got := m.GeoIP().Country(r, viewer); got != "NZ" {
		t.Errorf("country with the trusted header: got %q, want NZ", got)
	}
}
