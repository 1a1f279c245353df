// Package iam implements AWS Identity and Access Management: users, access
// keys, groups, roles, managed and inline policies, instance profiles. It
// is also where the gateway looks up long-term access keys.
package iam

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"overcast"
	api "overcast/internal/api/iam"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Service is the IAM API.
type Service struct {
	api.UnimplementedServer
	service.Base
	managed *managedPolicies
	keys    keyCache
	usage   usageThrottle
	// identities caches what authorization reads of users and roles.
	identities identityCache

	// peers are the processes sharing the store, told of the changes that
	// make their caches stale (peers.go); nil when the store is ours.
	peers         service.Peers
	stopListening context.CancelFunc
	listening     sync.WaitGroup
}

var _ api.Server = (*Service)(nil)

// New returns IAM.
func New(env *service.Env) *Service {
	return &Service{Base: env.Base(), managed: awsManagedPolicies(), peers: env.Peers,
		keys: keyCache{entries: map[string]cachedKey{}}, usage: usageThrottle{last: map[string]keyUsage{}}}
}

// API is IAM's API for the gateway.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: iamTable()} }

// updateAttempts bounds how often a write re-runs after losing a race with
// another writer (store.ErrConflict).
const updateAttempts = 8

func (s *Service) update(ctx context.Context, fn func(tx store.Tx) error) error {
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, fn)
	// Any write may change what some principal's policies say.
	s.forget(ctx)
	return err
}

// clock is the time IAM records: UTC, whole seconds, as AWS reports it.
func (s *Service) clock() time.Time { return s.Now().UTC().Truncate(time.Second) }

func accountOf(ctx context.Context) string { return overcast.CallerFrom(ctx).AccountID }

// LookupAccessKey resolves a long-term access key (AKIA...) for the gateway.
// It runs on every signed request, so answers are cached; every write that
// changes a key invalidates its entry, here and in the processes sharing
// the store (forget), and entries expire after keyCacheTTL in case a
// notice between them was lost.
func (s *Service) LookupAccessKey(ctx context.Context, accessKeyID string) (overcast.Credentials, error) {
	// Every key IAM issues has this shape: anything else (the "test" keys
	// of local tools, STS's ASIA keys) is not ours, without a query.
	if len(accessKeyID) != 20 || !strings.HasPrefix(accessKeyID, accessKeyIDPrefix) {
		return overcast.Credentials{}, overcast.ErrUnknownAccessKey
	}
	now := s.Now()
	e, gen, ok := s.keys.get(accessKeyID, now)
	if !ok {
		var rec accessKeyRec
		err := s.Store.View(ctx, func(tx store.Tx) error {
			_, err := store.GetJSON(tx, accessKeysTable, accessKeyID, &rec)
			return err
		})
		switch {
		case errors.Is(err, store.ErrNotFound):
			e = cachedKey{at: now}
		case err != nil:
			return overcast.Credentials{}, err
		default:
			e = cachedKey{at: now, known: true, creds: rec.credentials()}
		}
		s.keys.put(accessKeyID, gen, e)
	}
	if !e.known {
		return overcast.Credentials{}, overcast.ErrUnknownAccessKey
	}
	return e.creds, nil
}

func (k accessKeyRec) credentials() overcast.Credentials {
	c := overcast.Credentials{SecretAccessKey: k.Secret, Inactive: k.Status != api.StatusTypeActive}
	if k.UserName == "" {
		c.Caller = overcast.RootCaller(k.Account, "")
	} else {
		c.Caller = overcast.Caller{AccountID: k.Account, Kind: overcast.PrincipalUser,
			ARN: users.arn(k.Account, k.UserPath, k.UserName), UserID: k.UserID}
	}
	return c
}

const (
	keyCacheTTL = 10 * time.Second
	keyCacheMax = 10_000
)

// keyCache remembers LookupAccessKey's answers, unknown keys included.
//
// A lookup that missed reads the store and then caches what it read. If a
// write committed in between, what it read may already be stale, so every
// invalidation bumps gen, and put drops an answer read under an older gen.
type keyCache struct {
	mu      sync.RWMutex
	gen     uint64
	entries map[string]cachedKey
}

type cachedKey struct {
	at    time.Time
	known bool
	creds overcast.Credentials
}

// get returns the fresh entry for id, or the generation to pass to put.
func (c *keyCache) get(id string, now time.Time) (cachedKey, uint64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[id]
	if ok && now.Sub(e.at) < keyCacheTTL && !now.Before(e.at) {
		return e, c.gen, true
	}
	return cachedKey{}, c.gen, false
}

func (c *keyCache) put(id string, gen uint64, e cachedKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= keyCacheMax {
		clear(c.entries)
	}
	c.entries[id] = e
}

// invalidateAll forgets every key.
func (c *keyCache) invalidateAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}

// invalidate forgets ids; call it after the write that changed them
// committed.
func (c *keyCache) invalidate(ids ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, id := range ids {
		delete(c.entries, id)
	}
}

// RoleByARN returns the role an ARN names, or *api.NoSuchEntityException.
// The role is looked up in the ARN's account, not the caller's: assuming a
// role in another account is what cross-account trust is for.
func (s *Service) RoleByARN(ctx context.Context, arn string) (overcast.Role, error) {
	var r roleRec
	var acct string
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		acct, r, err = roles.loadByARN(tx, arn)
		return err
	})
	if err != nil {
		return overcast.Role{}, err
	}
	return overcast.Role{ARN: roles.arn(acct, r.Path, r.Name), RoleID: r.ID, Name: r.Name, Path: r.Path,
		AccountID: acct, AssumeRolePolicyDocument: r.Trust, MaxSessionDuration: r.MaxSession}, nil
}

// loadByARN reads the entity an ARN names, in the ARN's account, or
// NoSuchEntity.
func (k entityKind[T, P]) loadByARN(tx store.Tx, arn string) (acct string, v T, err error) {
	a, ok := overcast.ParseARN(arn)
	if !ok || a.Service != "iam" || !overcast.IsAccountID(a.AccountID) || !strings.HasPrefix(a.Resource, k.resource+"/") {
		return "", v, k.notFound(arn)
	}
	rest := strings.TrimPrefix(a.Resource, k.resource)
	i := strings.LastIndexByte(rest, '/')
	path, name := rest[:i+1], rest[i+1:]
	if name == "" {
		return "", v, k.notFound(arn)
	}
	v, _, err = k.load(tx, a.AccountID, name)
	if err == nil {
		if _, p := P(&v).ident(); p != path {
			err = k.notFound(name)
		}
	}
	return a.AccountID, v, err
}

// orDefault returns *s, or def when s is nil.
func orDefault(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}
