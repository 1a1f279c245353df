package iam

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/iam"
	"overcast/internal/store"
)

// A user's SSH public keys and service-specific credentials are records
// keyed by their ID, each naming the account and user it belongs to, with
// the user record listing the IDs (so that DeleteUser sees them):
//
//	iam.ssh-keys              <key ID>          sshKeyRec
//	iam.service-credentials   <credential ID>   serviceCredRec
const (
	sshKeysTable     = "iam.ssh-keys"
	serviceCredTable = "iam.service-credentials"
)

// ownedRec is what every kind of user-owned credential record has.
type ownedRec struct {
	ID       string    `json:"id"`
	Account  string    `json:"account"`
	UserName string    `json:"user"`
	Status   string    `json:"status"`
	Created  time.Time `json:"created"`
}

func (o *ownedRec) owned() *ownedRec { return o }

// userCredKind is one kind of user-owned credential.
type userCredKind[T any, P interface {
	*T
	owned() *ownedRec
}] struct {
	table string
	// ids is where the user record lists this kind's IDs.
	ids func(*userRec) *[]string
	// notFound is the NoSuchEntity for an ID.
	notFound func(id string) error
}

// load reads the credential id of the user acct/user: NoSuchEntity when
// there is none or it is someone else's.
func (k userCredKind[T, P]) load(tx store.Tx, acct, user, id string) (T, int64, error) {
	var v T
	version, err := store.GetJSON(tx, k.table, id, &v)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (P(&v).owned().Account != acct || !strings.EqualFold(P(&v).owned().UserName, user))) {
		return v, 0, k.notFound(id)
	}
	return v, version, err
}

// create stores v for its user, refusing with check (given the user's
// other credentials of this kind) first.
func (k userCredKind[T, P]) create(ctx context.Context, s *Service, v T, check func(others []T) error) error {
	o := P(&v).owned()
	return users.modify(ctx, s, o.UserName, func(tx store.Tx, u *userRec) error {
		others, err := k.all(tx, o.Account, *k.ids(u))
		if err != nil {
			return err
		}
		if err := check(others); err != nil {
			return err
		}
		o.UserName = u.Name
		if _, err := store.PutJSON(tx, k.table, o.ID, v, 0); err != nil {
			return err
		}
		*k.ids(u) = append(slices.Clone(*k.ids(u)), o.ID)
		return nil
	})
}

func (k userCredKind[T, P]) all(tx store.Tx, acct string, ids []string) ([]T, error) {
	out := make([]T, 0, len(ids))
	for _, id := range ids {
		var v T
		if _, err := store.GetJSON(tx, k.table, id, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// list returns the user's credentials of this kind, oldest first.
func (k userCredKind[T, P]) list(ctx context.Context, s *Service, user string) ([]T, error) {
	var out []T
	err := s.Store.View(ctx, func(tx store.Tx) error {
		u, _, err := users.load(tx, accountOf(ctx), user)
		if err != nil {
			return err
		}
		out, err = k.all(tx, accountOf(ctx), *k.ids(&u))
		return err
	})
	slices.SortStableFunc(out, func(a, b T) int { return P(&a).owned().Created.Compare(P(&b).owned().Created) })
	return out, err
}

// get reads the user's credential id: NoSuchEntity for an unknown user
// or credential.
func (k userCredKind[T, P]) get(ctx context.Context, s *Service, user, id string) (v T, err error) {
	err = s.Store.View(ctx, func(tx store.Tx) error {
		v, _, err = k.loadFor(tx, accountOf(ctx), user, id)
		return err
	})
	return v, err
}

// loadFor is load after checking the user exists.
func (k userCredKind[T, P]) loadFor(tx store.Tx, acct, user, id string) (T, int64, error) {
	if _, _, err := users.load(tx, acct, user); err != nil {
		var zero T
		return zero, 0, err
	}
	return k.load(tx, acct, user, id)
}

// change runs fn on the user's credential id and saves it.
func (k userCredKind[T, P]) change(ctx context.Context, s *Service, user, id string, fn func(P) error) (T, error) {
	acct := accountOf(ctx)
	var out T
	err := s.update(ctx, func(tx store.Tx) error {
		v, version, err := k.loadFor(tx, acct, user, id)
		if err != nil {
			return err
		}
		if err := fn(&v); err != nil {
			return err
		}
		out = v
		_, err = store.PutJSON(tx, k.table, id, v, version)
		return err
	})
	return out, err
}

// setStatus is the Update operations: Active or Inactive.
func (k userCredKind[T, P]) setStatus(ctx context.Context, s *Service, user, id, status string) error {
	if status == api.StatusTypeExpired {
		return constraintError("status", status, "Member must satisfy enum value set: [Active, Inactive]")
	}
	_, err := k.change(ctx, s, user, id, func(v P) error {
		v.owned().Status = status
		return nil
	})
	return err
}

// remove deletes the user's credential id.
func (k userCredKind[T, P]) remove(ctx context.Context, s *Service, user, id string) error {
	return users.modify(ctx, s, user, func(tx store.Tx, u *userRec) error {
		_, version, err := k.load(tx, accountOf(ctx), u.Name, id)
		if err != nil {
			return err
		}
		if err := tx.Delete(k.table, id, version); err != nil {
			return err
		}
		*k.ids(u) = slices.DeleteFunc(slices.Clone(*k.ids(u)), func(x string) bool { return x == id })
		return nil
	})
}

// lookup reads a credential by ID alone, for the data planes that
// authenticate with it; found is false when there is none.
func (k userCredKind[T, P]) lookup(ctx context.Context, s *Service, id string) (v T, found bool, err error) {
	err = s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, k.table, id, &v)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		found = err == nil
		return err
	})
	return v, found, err
}

// rename follows a user's new name in each of its credentials of this kind.
func (k userCredKind[T, P]) rename(tx store.Tx, u *userRec) error {
	for _, id := range *k.ids(u) {
		var v T
		version, err := store.GetJSON(tx, k.table, id, &v)
		if err != nil {
			return err
		}
		P(&v).owned().UserName = u.Name
		if _, err := store.PutJSON(tx, k.table, id, v, version); err != nil {
			return err
		}
	}
	return nil
}

// userCaller is the IAM user acct/name as a caller.
func (s *Service) userCaller(ctx context.Context, acct, name string) (overcast.Caller, error) {
	var u userRec
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		u, _, err = users.load(tx, acct, name)
		return err
	})
	if err != nil {
		return overcast.Caller{}, err
	}
	return callerOfUser(acct, u), nil
}

func callerOfUser(acct string, u userRec) overcast.Caller {
	return overcast.Caller{AccountID: acct, Kind: overcast.PrincipalUser, ARN: users.arn(acct, u.Path, u.Name), UserID: u.ID}
}
