// Package geoip finds the country of a viewer's address, for CloudFront's
// geo restriction and the choice of an edge location: in a MaxMind-format
// database (GeoLite2/GeoIP2 Country or City, or ip-location-db's country
// databases) and, only when a flag enables it, in a request header that
// tests set.
//
// It is the only package that imports the MaxMind DB reader.
package geoip

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// DB is an open country database. It is safe for concurrent use.
type DB struct {
	reader *maxminddb.Reader
}

// Open opens the MaxMind DB file at path.
func Open(path string) (*DB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geoip: %w", err)
	}
	return &DB{reader: r}, nil
}

// Close releases the database; Country must not be called after.
func (db *DB) Close() error { return db.reader.Close() }

// countryRecord holds the fields that name a country: GeoLite2's
// country.iso_code, and ip-location-db's country_code.
type countryRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	CountryCode string `maxminddb:"country_code"`
}

// Country is the ISO 3166-1 alpha-2 code of ip's country (IPv4-mapped
// IPv6 addresses are looked up as IPv4); ok is false when the database
// does not place ip.
func (db *DB) Country(ip netip.Addr) (iso string, ok bool) {
	if !ip.IsValid() {
		return "", false
	}
	var rec countryRecord
	if err := db.reader.Lookup(ip.Unmap()).Decode(&rec); err != nil {
		return "", false
	}
	iso = rec.Country.ISOCode
	if iso == "" {
		iso = rec.CountryCode
	}
	return iso, iso != ""
}

// Locator finds a viewer's country from the database and, when Header is
// set, from that request header first: a test (or a trusted proxy in
// front of overcast) names the country it wants to be seen from. Header
// is "" unless a flag enables it, since any viewer can send it.
type Locator struct {
	DB     *DB    // nil: no database
	Header string // "": headers are not trusted
}

// Country is the viewer's ISO country code, "" when unknown (CloudFront
// serves viewers of unknown location whatever the geo restriction). A
// header value counts only when it is a two-letter code.
func (l *Locator) Country(r *http.Request, ip netip.Addr) string {
	if l == nil {
		return ""
	}
	if l.Header != "" {
		if v := r.Header.Get(l.Header); isCountryCode(v) {
			return strings.ToUpper(v)
		}
	}
	if l.DB == nil {
		return ""
	}
	iso, _ := l.DB.Country(ip)
	return iso
}

func isCountryCode(v string) bool {
	return len(v) == 2 && isLetter(v[0]) && isLetter(v[1])
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
