package acm

import (
	"context"
	"errors"

	"overcast"
	api "overcast/internal/api/acm"
	"overcast/internal/store"
)

// accountsTable holds each account and region's configuration.
const accountsTable = "acm.accounts"

// defaultDaysBeforeExpiry is when ACM starts sending expiry events unless
// the account says otherwise.
const defaultDaysBeforeExpiry = 45

type accountConfig struct {
	DaysBeforeExpiry int32 `json:"daysBeforeExpiry"`
}

// GetAccountConfiguration reports how long before expiry ACM warns.
func (s *Service) GetAccountConfiguration(ctx context.Context) (*api.GetAccountConfigurationResponse, error) {
	sc := overcast.ScopeOf(ctx)
	cfg := accountConfig{DaysBeforeExpiry: defaultDaysBeforeExpiry}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, accountsTable, sc.Key("config"), &cfg)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.GetAccountConfigurationResponse{ExpiryEvents: &api.ExpiryEventsConfiguration{DaysBeforeExpiry: new(cfg.DaysBeforeExpiry)}}, nil
}

// PutAccountConfiguration sets how long before expiry ACM warns.
func (s *Service) PutAccountConfiguration(ctx context.Context, in *api.PutAccountConfigurationRequest) error {
	sc := overcast.ScopeOf(ctx)
	cfg := accountConfig{DaysBeforeExpiry: defaultDaysBeforeExpiry}
	if in.ExpiryEvents != nil && in.ExpiryEvents.DaysBeforeExpiry != nil {
		cfg.DaysBeforeExpiry = *in.ExpiryEvents.DaysBeforeExpiry
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := store.PutJSON(tx, accountsTable, sc.Key("config"), cfg, store.AnyVersion)
		return err
	})
}
