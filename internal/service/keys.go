package service

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"overcast/internal/secretbox"
	"overcast/internal/store"
)

// keysTable holds the installation's secret keys when the store is shared.
const keysTable = "overcast.keys"

// Key returns the installation's secret key called name (the sealing key,
// ECR's token key): secretbox.KeySize random bytes made once and kept.
//
// With the store to itself, an overcast keeps it in a file of its data
// dir. Processes that share a store must all use the same key — a secret
// one sealed, a token one signed, is opened and checked by another — so
// then it lives in the store. The first process to need it there puts its
// data dir's key (made now if it has none), so that state written before
// the store was shared stays readable. Whoever can read the database can
// read the key too: the shared store is as trusted as the data dir was.
func (env *Env) Key(ctx context.Context, name string) ([]byte, error) {
	if !env.Shared {
		return secretbox.LoadOrCreateKey(filepath.Join(env.DataDir, name))
	}
	var key []byte
	err := env.Store.View(ctx, func(tx store.Tx) error {
		it, err := tx.Get(keysTable, name)
		key = it.Value
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		if key, err = secretbox.LoadOrCreateKey(filepath.Join(env.DataDir, name)); err != nil {
			return nil, err
		}
		err = store.UpdateRetry(ctx, env.Store, 3, func(tx store.Tx) error {
			it, err := tx.Get(keysTable, name)
			switch {
			case err == nil:
				key = it.Value // another process put it first: theirs wins
				return nil
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
			_, err = tx.Put(keysTable, name, key, 0)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", name, err)
	}
	if len(key) != secretbox.KeySize {
		return nil, fmt.Errorf("key %s in the store is %d bytes, want %d", name, len(key), secretbox.KeySize)
	}
	return key, nil
}
