package app

import (
	"context"
	"errors"
	"time"

	"overcast"
	"overcast/internal/gateway"
	"overcast/internal/s3"
)

// keyStores asks each store in turn: STS knows temporary credentials, IAM
// long-term keys, and under --strict the root keys.
type keyStores []gateway.KeyStore

func (ks keyStores) LookupAccessKey(ctx context.Context, id string) (overcast.Credentials, error) {
	for _, k := range ks {
		c, err := k.LookupAccessKey(ctx, id)
		if !errors.Is(err, overcast.ErrUnknownAccessKey) {
			return c, err
		}
	}
	return overcast.Credentials{}, overcast.ErrUnknownAccessKey
}

// RecordAccessKeyUse tells the stores that track key use.
func (ks keyStores) RecordAccessKeyUse(ctx context.Context, id, service, region string) error {
	var errs []error
	for _, k := range ks {
		if rec, ok := k.(gateway.UsageRecorder); ok {
			errs = append(errs, rec.RecordAccessKeyUse(ctx, id, service, region))
		}
	}
	return errors.Join(errs...)
}

// s3Keys gives S3 the secrets it needs to verify browser POST uploads.
func s3Keys(ks keyStores, now func() time.Time) s3.KeyLookup {
	return func(ctx context.Context, id string) (string, overcast.Caller, bool, error) {
		c, err := ks.LookupAccessKey(ctx, id)
		switch {
		case errors.Is(err, overcast.ErrUnknownAccessKey):
			return "", overcast.Caller{}, false, nil
		case err != nil:
			return "", overcast.Caller{}, false, err
		case c.Inactive || (!c.Expires.IsZero() && !now().Before(c.Expires)):
			return "", overcast.Caller{}, false, nil
		}
		return c.SecretAccessKey, c.Caller, true, nil
	}
}

// RootSecret is the secret of the root keys --strict accepts: access key
// "test" for the default account, or an account's 12-digit ID for that
// account. Without them nobody could create the first IAM user.
const RootSecret = "test"

// rootKeys is the bootstrap KeyStore of --strict.
type rootKeys struct{}

func (rootKeys) LookupAccessKey(ctx context.Context, id string) (overcast.Credentials, error) {
	account, ok := overcast.AccountFromAccessKey(id)
	if id == "test" {
		account, ok = overcast.DefaultAccountID, true
	}
	if !ok {
		return overcast.Credentials{}, overcast.ErrUnknownAccessKey
	}
	return overcast.Credentials{SecretAccessKey: RootSecret, Caller: overcast.RootCaller(account, "")}, nil
}
