package iam

import (
	"context"
	"errors"

	"overcast"
	api "overcast/internal/api/iam"
	"overcast/internal/store"
)

// Users, groups, roles, instance profiles and customer managed policies are
// all named entities, kept alike in an entityTable. Their handlers share
// one shape for creating, reading, changing, deleting and listing them;
// what sets a kind apart there is its entityKind.

// record is a pointer to an entity record: what a record is read into and
// changed through.
type record[T any] interface {
	*T
	entity
}

// entityKind describes one kind of named entity.
type entityKind[T any, P record[T]] struct {
	// resource is the kind in ARNs and in the attachment index: "user",
	// "group", "role", "policy", "instance-profile".
	resource string
	table    entityTable
	idPrefix string
	// missing and taken are AWS's NoSuchEntity and EntityAlreadyExists
	// messages for the kind; %s is the name.
	missing, taken string
}

var (
	users = entityKind[userRec, *userRec]{resource: "user", idPrefix: userIDPrefix,
		table:   entityTable{"iam.users", "iam.users.by-path"},
		missing: "The user with name %s cannot be found.", taken: "User with name %s already exists."}
	groups = entityKind[groupRec, *groupRec]{resource: "group", idPrefix: groupIDPrefix,
		table:   entityTable{"iam.groups", "iam.groups.by-path"},
		missing: "The group with name %s cannot be found.", taken: "Group with name %s already exists."}
	roles = entityKind[roleRec, *roleRec]{resource: "role", idPrefix: roleIDPrefix,
		table:   entityTable{"iam.roles", "iam.roles.by-path"},
		missing: "The role with name %s cannot be found.", taken: "Role with name %s already exists."}
	instanceProfiles = entityKind[instanceProfileRec, *instanceProfileRec]{resource: "instance-profile",
		idPrefix: instanceProfileIDPrefix, table: entityTable{"iam.instance-profiles", "iam.instance-profiles.by-path"},
		missing: "Instance Profile %s cannot be found.", taken: "Instance Profile %s already exists."}
	// Policies are named by ARN in requests, so that is what missing says.
	policies = entityKind[policyRec, *policyRec]{resource: "policy", idPrefix: policyIDPrefix,
		table:   entityTable{"iam.policies", "iam.policies.by-path"},
		missing: "Policy %s was not found.", taken: "A policy called %s already exists. Duplicate names are not allowed."}
)

func (k entityKind[T, P]) arn(acct, path, name string) string {
	return overcast.NewARN("iam", "", acct, k.resource+path+name).String()
}

// newNamed is the identity of an entity being created: a new ID, the path
// asked for (by default "/") and the time.
func (k entityKind[T, P]) newNamed(s *Service, name string, path *string) named {
	return named{Name: name, Path: orDefault(path, "/"), ID: s.newID(k.idPrefix), Created: s.clock()}
}

func (k entityKind[T, P]) notFound(name string) error {
	return api.NewNoSuchEntityException(k.missing, name)
}

// load reads acct's entity by name, or NoSuchEntity.
func (k entityKind[T, P]) load(tx store.Tx, acct, name string) (T, int64, error) {
	var v T
	version, err := k.table.get(tx, acct, name, &v)
	if errors.Is(err, store.ErrNotFound) {
		return v, 0, k.notFound(name)
	}
	return v, version, err
}

// read is load in a transaction of its own, in the caller's account.
func (k entityKind[T, P]) read(ctx context.Context, s *Service, name string) (v T, err error) {
	err = s.Store.View(ctx, func(tx store.Tx) error {
		v, _, err = k.load(tx, accountOf(ctx), name)
		return err
	})
	return v, err
}

// update runs fn on the named entity of the caller's account, read at
// version, in a write transaction.
func (k entityKind[T, P]) update(ctx context.Context, s *Service, name string, fn func(tx store.Tx, acct string, v T, version int64) error) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		v, version, err := k.load(tx, acct, name)
		if err != nil {
			return err
		}
		return fn(tx, acct, v, version)
	})
}

// modify runs change on the named entity of the caller's account and saves
// it, in one transaction.
func (k entityKind[T, P]) modify(ctx context.Context, s *Service, name string, change func(store.Tx, P) error) error {
	return k.update(ctx, s, name, func(tx store.Tx, acct string, old T, version int64) error {
		v := old
		if err := change(tx, &v); err != nil {
			return err
		}
		return k.table.save(tx, acct, P(&old), version, P(&v))
	})
}

// remove deletes the named entity of the caller's account. before runs
// first in the same transaction: it refuses (DeleteConflict) while
// anything still needs the entity, and clears what refers to it.
func (k entityKind[T, P]) remove(ctx context.Context, s *Service, name string, before func(store.Tx, T) error) error {
	return k.update(ctx, s, name, func(tx store.Tx, acct string, v T, version int64) error {
		if err := before(tx, v); err != nil {
			return err
		}
		return k.table.remove(tx, acct, P(&v), version)
	})
}

// mustFirstIf is AWS's DeleteConflict for an entity that something still
// needs (present), naming what must be done first. A remove's checks are
// cmp.Or of these, in the order AWS makes them.
func mustFirstIf(present bool, what string) error {
	if !present {
		return nil
	}
	return api.NewDeleteConflictException("Cannot delete entity, must %s first.", what)
}

// ensureFree refuses a name that acct already gives an entity of the kind.
func (k entityKind[T, P]) ensureFree(tx store.Tx, acct, name string) error {
	taken, err := k.table.exists(tx, acct, name)
	if err == nil && taken {
		err = api.NewEntityAlreadyExistsException(k.taken, name)
	}
	return err
}

// insert stores a new entity, refusing a name already taken.
func (k entityKind[T, P]) insert(tx store.Tx, acct string, v T) error {
	name, _ := P(&v).ident()
	if err := k.ensureFree(tx, acct, name); err != nil {
		return err
	}
	return k.table.create(tx, acct, P(&v))
}

// create stores a new entity in the caller's account, refusing a name
// already taken; then, unless nil, runs in the same transaction.
func (k entityKind[T, P]) create(ctx context.Context, s *Service, v T, then func(tx store.Tx, acct string) error) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		if err := k.insert(tx, acct, v); err != nil || then == nil {
			return err
		}
		return then(tx, acct)
	})
}

// createDescribed is create for kinds whose answer reads the store (an
// instance profile's roles, a policy's attachment counts): describe runs
// in the creating transaction.
func createDescribed[T any, P record[T], O any](ctx context.Context, s *Service, k entityKind[T, P], v T, describe summary[T, O]) (O, error) {
	var out O
	err := k.create(ctx, s, v, func(tx store.Tx, acct string) (err error) {
		out, err = describe(tx, acct, v)
		return err
	})
	return out, err
}

// readDescribed reads the named entity of the caller's account and
// describes it, in one read transaction.
func readDescribed[T any, P record[T], O any](ctx context.Context, s *Service, k entityKind[T, P], name string, describe summary[T, O]) (out O, err error) {
	err = s.Store.View(ctx, func(tx store.Tx) error {
		acct := accountOf(ctx)
		v, _, err := k.load(tx, acct, name)
		if err != nil {
			return err
		}
		out, err = describe(tx, acct, v)
		return err
	})
	return out, err
}

// list returns a page of acct's entities whose path starts with
// pathPrefix, in path-then-name order.
func (k entityKind[T, P]) list(tx store.Tx, acct, pathPrefix string, pg page) ([]T, string, error) {
	var out []T
	next, err := pg.scan(tx, k.table.byPath, acct, pathPrefix, func(it store.Item) (bool, error) {
		var v T
		if _, err := store.GetJSON(tx, k.table.name, acct+"/"+string(it.Value), &v); err != nil {
			return false, err
		}
		out = append(out, v)
		return true, nil
	})
	return out[:min(len(out), pg.max)], next, err
}

// loadAll loads the entities that names name, in that order; records
// refer to one another by lowercased name.
func (k entityKind[T, P]) loadAll(tx store.Tx, acct string, names []string) ([]T, error) {
	out := make([]T, 0, len(names))
	for _, name := range names {
		v, _, err := k.load(tx, acct, name)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// changeMembership changes whether one entity is in another (a user in a
// group, a role in an instance profile): in one transaction it loads the
// container, then the member (AWS reports the container missing first),
// runs change on both and saves both.
func changeMembership[C any, PC record[C], M any, PM record[M]](ctx context.Context, s *Service,
	containers entityKind[C, PC], container string, members entityKind[M, PM], member string,
	change func(tx store.Tx, acct string, c PC, m PM) error) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		c, cVersion, err := containers.load(tx, acct, container)
		if err != nil {
			return err
		}
		m, mVersion, err := members.load(tx, acct, member)
		if err != nil {
			return err
		}
		newC, newM := c, m
		if err := change(tx, acct, &newC, &newM); err != nil {
			return err
		}
		if err := containers.table.save(tx, acct, PC(&c), cVersion, PC(&newC)); err != nil {
			return err
		}
		return members.table.save(tx, acct, PM(&m), mVersion, PM(&newM))
	})
}
