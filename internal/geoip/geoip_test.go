package geoip

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"overcast/internal/geoip/geoiptest"
)

// testDB is a country database shaped as MaxMind's and ip-location-db's
// are.
func testDB(t testing.TB) *DB {
	t.Helper()
	return open(t, geoiptest.Write(t, mmdbwriter.Options{DatabaseType: "GeoLite2-Country"}, map[string]mmdbtype.Map{
		"192.0.2.0/24":     geoLite("GB"),
		"198.51.100.0/24":  geoLite("US"),
		"2001:db8::/32":    geoLite("DE"),
		"203.0.113.0/25":   {"country_code": mmdbtype.String("FR")}, // ip-location-db's shape
		"203.0.113.128/25": {"continent": mmdbtype.Map{"code": mmdbtype.String("EU")}},
	}))
}

func geoLite(iso string) mmdbtype.Map {
	return mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(iso)}}
}

func open(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestCountry(t *testing.T) {
	db := testDB(t)
	tests := []struct {
		ip     string
		want   string
		wantOK bool
	}{
		{"192.0.2.10", "GB", true},
		{"198.51.100.255", "US", true},
		{"2001:db8::1", "DE", true},
		{"::ffff:192.0.2.10", "GB", true}, // IPv4-mapped, as a dual-stack listener reports it
		{"203.0.113.5", "FR", true},
		{"203.0.113.200", "", false}, // placed, but no country
		{"10.1.2.3", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		ip, _ := netip.ParseAddr(tt.ip)
		got, ok := db.Country(ip)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Country(%s): got %q, %v, want %q, %v", tt.ip, got, ok, tt.want, tt.wantOK)
		}
	}
}

// TestCountryIPv4Database: ip-location-db ships IPv4 and IPv6 databases
// apart; an IPv6 viewer is not placed by the IPv4 one.
func TestCountryIPv4Database(t *testing.T) {
	db := open(t, geoiptest.Write(t, mmdbwriter.Options{DatabaseType: "ip-location-db", IPVersion: 4},
		map[string]mmdbtype.Map{"192.0.2.0/24": {"country_code": mmdbtype.String("JP")}}))
	for _, tt := range []struct {
		ip   string
		want string
	}{
		{"192.0.2.1", "JP"},
		{"::ffff:192.0.2.1", "JP"},
		{"2001:db8::1", ""},
	} {
		if got, _ := db.Country(netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("Country(%s): got %q, want %q", tt.ip, got, tt.want)
		}
	}
}

// TestCountriesHelper: what geoiptest writes for other packages' tests
// reads back.
func TestCountriesHelper(t *testing.T) {
	db := open(t, geoiptest.Countries(t, map[string]string{"192.0.2.0/24": "NO", "2001:db8::/32": "SE"}))
	for ip, want := range map[string]string{"192.0.2.9": "NO", "2001:db8::9": "SE"} {
		if got, _ := db.Country(netip.MustParseAddr(ip)); got != want {
			t.Errorf("Country(%s): got %q, want %q", ip, got, want)
		}
	}
}

func TestOpenMissingOrBadFile(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mmdb")
	if err := os.WriteFile(garbage, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "absent.mmdb"), garbage} {
		if db, err := Open(path); err == nil {
			db.Close()
			t.Errorf("Open(%s): got a database, want an error", path)
		}
	}
}

// TestLocator: the header counts only when a flag names it, and only a
// two-letter code; otherwise the database decides.
func TestLocator(t *testing.T) {
	db := testDB(t)
	gb := netip.MustParseAddr("192.0.2.10")
	tests := []struct {
		name    string
		locator *Locator
		header  string
		ip      netip.Addr
		want    string
	}{
		{"database", &Locator{DB: db}, "", gb, "GB"},
		{"header ignored when not enabled", &Locator{DB: db}, "JP", gb, "GB"},
		{"trusted header", &Locator{DB: db, Header: "X-Overcast-Country"}, "JP", gb, "JP"},
		{"trusted header, lower case", &Locator{DB: db, Header: "X-Overcast-Country"}, "jp", gb, "JP"},
		{"trusted header, not a code", &Locator{DB: db, Header: "X-Overcast-Country"}, "Japan", gb, "GB"},
		{"trusted header, no database", &Locator{Header: "X-Overcast-Country"}, "BR", gb, "BR"},
		{"no database", &Locator{}, "", gb, ""},
		{"unknown address", &Locator{DB: db}, "", netip.MustParseAddr("10.0.0.1"), ""},
		{"nil locator", nil, "JP", gb, ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if tt.header != "" {
			r.Header.Set("X-Overcast-Country", tt.header)
		}
		if got := tt.locator.Country(r, tt.ip); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func BenchmarkCountry(b *testing.B) {
	db := testDB(b)
	ip := netip.MustParseAddr("198.51.100.7")
	b.ReportAllocs()
	for b.Loop() {
		db.Country(ip)
	}
}
