package app

import (
	"fmt"

	"overcast/internal/geoip"
)

// openGeoIP opens the country database the configuration names, so that
// a wrong path fails overcast up rather than every geo-restricted request.
func openGeoIP(cfg Config) (*geoip.Locator, error) {
	loc := &geoip.Locator{Header: cfg.GeoIPHeader}
	if cfg.GeoIPDB == "" {
		return loc, nil
	}
	db, err := geoip.Open(cfg.GeoIPDB)
	if err != nil {
		return nil, fmt.Errorf("app: --geoip-db: %w", err)
	}
	loc.DB = db
	return loc, nil
}

func (m *Main) closeGeoIP() error {
	if m.geo == nil || m.geo.DB == nil {
		return nil
	}
	err := m.geo.DB.Close()
	m.geo = nil
	return err
}

// GeoIP finds viewers' countries: CloudFront's edge takes it for geo
// restriction and to choose a viewer's edge location.
func (m *Main) GeoIP() *geoip.Locator { return m.geo }
