package iam

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	api "overcast/internal/api/iam"
	"overcast/internal/store"
)

const maxAccessKeysPerUser = 2

// keyOwner is whose access keys an operation works on: a user, or the
// account's root when no user is named and the root is calling.
type keyOwner struct {
	user string // "" for the root
}

func (s *Service) keyOwnerOf(ctx context.Context, userName *string) (keyOwner, error) {
	if userName != nil && *userName != "" {
		return keyOwner{user: *userName}, nil
	}
	name, root, err := callerUser(ctx)
	if err != nil {
		return keyOwner{}, err
	}
	if root {
		return keyOwner{}, nil
	}
	return keyOwner{user: name}, nil
}

// ownerKeys returns the owner's key IDs and a function saving a new list.
func ownerKeys(tx store.Tx, acct string, o keyOwner, now time.Time) (keys []string, save func([]string) error, u userRec, err error) {
	if o.user != "" {
		u, version, err := users.load(tx, acct, o.user)
		if err != nil {
			return nil, nil, u, err
		}
		return u.AccessKeys, func(ids []string) error {
			next := u
			next.AccessKeys = ids
			return users.table.save(tx, acct, u, version, next)
		}, u, nil
	}
	var a accountRec
	version, err := store.GetJSON(tx, accountsTable, acct, &a)
	if errors.Is(err, store.ErrNotFound) {
		a, version, err = accountRec{Created: now}, 0, nil
	}
	if err != nil {
		return nil, nil, u, err
	}
	return a.RootKeys, func(ids []string) error {
		a.RootKeys = ids
		_, err := store.PutJSON(tx, accountsTable, acct, a, version)
		return err
	}, u, nil
}

// CreateAccessKey issues a long-term key for a user, or for the root.
func (s *Service) CreateAccessKey(ctx context.Context, in *api.CreateAccessKeyRequest) (*api.CreateAccessKeyResponse, error) {
	owner, err := s.keyOwnerOf(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	acct := accountOf(ctx)
	now := s.clock()
	k := accessKeyRec{ID: s.newAccessKeyID(), Secret: s.newSecretAccessKey(), Account: acct,
		Status: api.StatusTypeActive, Created: now}
	err = s.update(ctx, func(tx store.Tx) error {
		keys, save, u, err := ownerKeys(tx, acct, owner, now)
		if err != nil {
			return err
		}
		if len(keys) >= maxAccessKeysPerUser {
			return quotaExceeded("AccessKeysPerUser", maxAccessKeysPerUser)
		}
		k.UserName, k.UserID, k.UserPath = u.Name, u.ID, u.Path
		if _, err := store.PutJSON(tx, accessKeysTable, k.ID, k, 0); err != nil {
			return err
		}
		return save(append(slices.Clone(keys), k.ID))
	})
	if err != nil {
		return nil, err
	}
	s.forget(ctx, k.ID)
	out := &api.AccessKey{AccessKeyId: new(k.ID), SecretAccessKey: new(k.Secret), Status: new(k.Status), CreateDate: new(k.Created)}
	if k.UserName != "" {
		out.UserName = new(k.UserName)
	}
	return &api.CreateAccessKeyResponse{AccessKey: out}, nil
}

func (s *Service) ListAccessKeys(ctx context.Context, in *api.ListAccessKeysRequest) (*api.ListAccessKeysResponse, error) {
	owner, err := s.keyOwnerOf(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	pg, err := newPage(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	acct := accountOf(ctx)
	var recs []accessKeyRec
	err = s.Store.View(ctx, func(tx store.Tx) error {
		ids, _, _, err := ownerKeys(tx, acct, owner, time.Time{})
		if err != nil {
			return err
		}
		for _, id := range ids {
			var k accessKeyRec
			if _, err := store.GetJSON(tx, accessKeysTable, id, &k); err != nil {
				return err
			}
			recs = append(recs, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	page, next := pageSlice(recs, func(k accessKeyRec) string { return k.Created.Format(time.RFC3339) + k.ID }, pg)
	out := &api.ListAccessKeysResponse{AccessKeyMetadata: api.AccessKeyMetadataListType{}}
	for _, k := range page {
		m := api.AccessKeyMetadata{AccessKeyId: new(k.ID), Status: new(k.Status), CreateDate: new(k.Created)}
		if k.UserName != "" {
			m.UserName = new(k.UserName)
		}
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, m)
	}
	out.IsTruncated, out.Marker = truncated(next)
	return out, nil
}

// ownedKey loads a key the owner has, or NoSuchEntity.
func ownedKey(tx store.Tx, acct string, o keyOwner, id string) (accessKeyRec, int64, error) {
	var k accessKeyRec
	version, err := store.GetJSON(tx, accessKeysTable, id, &k)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (k.Account != acct || !strings.EqualFold(k.UserName, o.user))) {
		return k, 0, api.NewNoSuchEntityException("The Access Key with id %s cannot be found.", id)
	}
	return k, version, err
}

func (s *Service) UpdateAccessKey(ctx context.Context, in *api.UpdateAccessKeyRequest) error {
	owner, err := s.keyOwnerOf(ctx, in.UserName)
	if err != nil {
		return err
	}
	// The model's statusType also lists Expired, a status only AWS sets.
	if *in.Status == api.StatusTypeExpired {
		return constraintError("status", *in.Status, "Member must satisfy enum value set: [Active, Inactive]")
	}
	acct := accountOf(ctx)
	err = s.update(ctx, func(tx store.Tx) error {
		k, version, err := ownedKey(tx, acct, owner, *in.AccessKeyId)
		if err != nil {
			return err
		}
		k.Status = *in.Status
		_, err = store.PutJSON(tx, accessKeysTable, k.ID, k, version)
		return err
	})
	if err == nil {
		s.forget(ctx, *in.AccessKeyId)
	}
	return err
}

func (s *Service) DeleteAccessKey(ctx context.Context, in *api.DeleteAccessKeyRequest) error {
	owner, err := s.keyOwnerOf(ctx, in.UserName)
	if err != nil {
		return err
	}
	acct := accountOf(ctx)
	err = s.update(ctx, func(tx store.Tx) error {
		k, version, err := ownedKey(tx, acct, owner, *in.AccessKeyId)
		if err != nil {
			return err
		}
		keys, save, _, err := ownerKeys(tx, acct, owner, s.clock())
		if err != nil {
			return err
		}
		if err := tx.Delete(accessKeysTable, k.ID, version); err != nil {
			return err
		}
		if err := tx.Delete(keyUsageTable, k.ID, store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return save(slices.DeleteFunc(slices.Clone(keys), func(id string) bool { return id == k.ID }))
	})
	if err == nil {
		s.forget(ctx, *in.AccessKeyId)
	}
	return err
}

// GetAccessKeyLastUsed reports a key's last use as RecordAccessKeyUse saw
// it; a key never used gets AWS's "N/A" service and region and no date.
func (s *Service) GetAccessKeyLastUsed(ctx context.Context, in *api.GetAccessKeyLastUsedRequest) (*api.GetAccessKeyLastUsedResponse, error) {
	acct := accountOf(ctx)
	var k accessKeyRec
	var used keyUsage
	var wasUsed bool
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, accessKeysTable, *in.AccessKeyId, &k)
		if errors.Is(err, store.ErrNotFound) || (err == nil && k.Account != acct) {
			return api.NewNoSuchEntityException("The Access Key with id %s cannot be found.", *in.AccessKeyId)
		}
		if err != nil {
			return err
		}
		_, err = store.GetJSON(tx, keyUsageTable, k.ID, &used)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		wasUsed = err == nil
		return err
	})
	if err != nil {
		return nil, err
	}
	last := &api.AccessKeyLastUsed{ServiceName: new("N/A"), Region: new("N/A")}
	if wasUsed {
		last = &api.AccessKeyLastUsed{LastUsedDate: new(used.At), ServiceName: new(used.Service), Region: new(used.Region)}
	}
	out := &api.GetAccessKeyLastUsedResponse{AccessKeyLastUsed: last}
	if k.UserName != "" {
		out.UserName = new(k.UserName)
	}
	return out, nil
}

// usageMinInterval is how stale a recorded last use may get: AWS itself
// reports last use with a delay, and writing on every request would put a
// store write on the path of every signed call.
const usageMinInterval = time.Minute

// usageThrottle remembers the last use written per key.
type usageThrottle struct {
	mu   sync.Mutex
	last map[string]keyUsage
}

// RecordAccessKeyUse notes that a key signed a request for service in
// region. It writes only when the service or region changed or the last
// write is more than a minute old, so the gateway may call it on every
// request. Keys IAM did not issue are ignored.
func (s *Service) RecordAccessKeyUse(ctx context.Context, accessKeyID, service, region string) error {
	if _, err := s.LookupAccessKey(ctx, accessKeyID); err != nil {
		return nil
	}
	now := s.clock()
	u := keyUsage{At: now, Service: service, Region: region}
	s.usage.mu.Lock()
	prev, ok := s.usage.last[accessKeyID]
	fresh := ok && prev.Service == service && prev.Region == region && now.Sub(prev.At) < usageMinInterval
	if !fresh {
		if len(s.usage.last) >= keyCacheMax {
			clear(s.usage.last)
		}
		s.usage.last[accessKeyID] = u
	}
	s.usage.mu.Unlock()
	if fresh {
		return nil
	}
	// Not s.update: a key's last use changes no one's permissions.
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		if _, err := tx.Get(accessKeysTable, accessKeyID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil // deleted meanwhile
			}
			return err
		}
		_, err := store.PutJSON(tx, keyUsageTable, accessKeyID, u, store.AnyVersion)
		return err
	})
}
