// Package geoiptest writes MaxMind-format country databases for tests:
// the geo restriction of a distribution, the edge location a viewer is
// served from. Only tests import it.
package geoiptest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Countries writes a GeoLite2-Country-shaped database placing each CIDR
// block in its ISO country, and returns its path (for --geoip-db,
// geoip.Open). Documentation ranges (192.0.2.0/24, 2001:db8::/32, ...)
// may be used.
func Countries(t testing.TB, countries map[string]string) string {
	t.Helper()
	records := map[string]mmdbtype.Map{}
	for cidr, iso := range countries {
		records[cidr] = mmdbtype.Map{"country": mmdbtype.Map{
			"iso_code": mmdbtype.String(iso),
			"names":    mmdbtype.Map{"en": mmdbtype.String(iso)},
		}}
	}
	return Write(t, mmdbwriter.Options{DatabaseType: "GeoLite2-Country"}, records)
}

// Write writes a database with opts (reserved networks always allowed)
// holding records by CIDR, and returns its path.
func Write(t testing.TB, opts mmdbwriter.Options, records map[string]mmdbtype.Map) string {
	t.Helper()
	opts.IncludeReservedNetworks = true
	tree, err := mmdbwriter.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range records {
		_, network, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(network, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "country.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
