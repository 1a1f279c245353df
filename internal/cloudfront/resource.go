package cloudfront

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"slices"
	"strconv"

	"overcast"
	api "overcast/internal/api/cloudfront"
	"overcast/internal/store"
)

// kind is one kind of CloudFront resource as the store keeps it. Every
// kind has the same shape on the wire (create answering an ETag, get with
// its ETag, update and delete guarded by If-Match, list paged by Marker and
// MaxItems), so every operation of every kind goes through these methods.
//
// CloudFront is global: records are keyed by account alone,
// "<account>/<id>", whatever region the request was signed for.
type kind[T any] struct {
	table string
	// notFound is the kind's NoSuch<Kind> error.
	notFound func(id string) error
	// managed are the resources AWS provides to every account (the managed
	// policies): readable by ID, listed, never updated or deleted.
	managed map[string]*T
}

// etag is the ETag of version of the resource id: it changes with every
// change of the resource, and differs between resources, so that an ETag
// of a deleted resource never matches one re-created with the same ID.
func etag(id string, version int64) string {
	sum := sha256.Sum256([]byte(id + "/" + strconv.FormatInt(version, 10)))
	return "E" + base32.StdEncoding.EncodeToString(sum[:])[:13]
}

func accountKey(account, id string) string { return account + "/" + id }

// get reads the resource id of account in tx, managed ones included (at
// version 0: they never change).
func (k kind[T]) get(tx store.Tx, account, id string) (*T, int64, error) {
	if m, ok := k.managed[id]; ok {
		return m, 0, nil
	}
	v := new(T)
	version, err := store.GetJSON(tx, k.table, accountKey(account, id), v)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, k.notFound(id)
	}
	return v, version, err
}

// read returns the resource id of the caller's account and its ETag.
func (k kind[T]) read(ctx context.Context, st store.Store, id string) (v *T, tag string, err error) {
	account := overcast.ScopeOf(ctx).Account
	err = st.View(ctx, func(tx store.Tx) error {
		var version int64
		v, version, err = k.get(tx, account, id)
		tag = etag(id, version)
		return err
	})
	return v, tag, err
}

// create stores v as the new resource id of the caller's account and
// returns its ETag. check, when not nil, runs first in the same
// transaction (names already taken, references that must exist).
func (k kind[T]) create(ctx context.Context, st store.Store, id string, v *T, check func(tx store.Tx) error) (string, error) {
	account := overcast.ScopeOf(ctx).Account
	var version int64
	err := st.Update(ctx, func(tx store.Tx) (err error) {
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		version, err = store.PutJSON(tx, k.table, accountKey(account, id), v, 0)
		return err
	})
	return etag(id, version), err
}

// matching reads the resource id for a change guarded by ifMatch, the ETag
// the caller last read: missing is InvalidIfMatchVersion, any other than
// the current one PreconditionFailed, and managed resources cannot change.
func (k kind[T]) matching(tx store.Tx, account, id string, ifMatch *string, illegal func(format string, args ...any) error) (*T, int64, error) {
	v, version, err := k.get(tx, account, id)
	if err != nil {
		return nil, 0, err
	}
	if _, ok := k.managed[id]; ok {
		return nil, 0, illegal("Managed resources cannot be changed or deleted: %s", id)
	}
	if err := checkIfMatch(ifMatch, etag(id, version)); err != nil {
		return nil, 0, err
	}
	return v, version, nil
}

// checkIfMatch checks the If-Match a change came with against the current
// ETag: missing is InvalidIfMatchVersion, another PreconditionFailed.
func checkIfMatch(ifMatch *string, current string) error {
	if ifMatch == nil || *ifMatch == "" {
		return api.NewInvalidIfMatchVersion("The If-Match version is missing or not valid for the resource.")
	}
	if *ifMatch != current {
		return api.NewPreconditionFailed("The request failed because it didn't meet the preconditions in one or more request-header fields.")
	}
	return nil
}

// update changes the resource id with change, guarded by ifMatch, and
// returns it with its new ETag.
func (k kind[T]) update(ctx context.Context, st store.Store, id string, ifMatch *string, change func(tx store.Tx, v *T) error) (*T, string, error) {
	account := overcast.ScopeOf(ctx).Account
	var (
		v       *T
		version int64
	)
	err := store.UpdateRetry(ctx, st, 3, func(tx store.Tx) (err error) {
		v, version, err = k.matching(tx, account, id, ifMatch, illegalUpdate)
		if err != nil {
			return err
		}
		if err := change(tx, v); err != nil {
			return err
		}
		version, err = store.PutJSON(tx, k.table, accountKey(account, id), v, version)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return v, etag(id, version), nil
}

// remove deletes the resource id, guarded by ifMatch; check, when not nil,
// may refuse (a resource still in use).
func (k kind[T]) remove(ctx context.Context, st store.Store, id string, ifMatch *string, check func(tx store.Tx, v *T, version int64) error) error {
	account := overcast.ScopeOf(ctx).Account
	return store.UpdateRetry(ctx, st, 3, func(tx store.Tx) error {
		v, version, err := k.matching(tx, account, id, ifMatch, illegalDelete)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(tx, v, version); err != nil {
				return err
			}
		}
		return tx.Delete(k.table, accountKey(account, id), version)
	})
}

func illegalUpdate(format string, args ...any) error { return api.NewIllegalUpdate(format, args...) }
func illegalDelete(format string, args ...any) error { return api.NewIllegalDelete(format, args...) }

// stored is a resource with the version the store holds it at.
type stored[T any] struct {
	Value   *T
	Version int64
}

// all returns every stored resource of account that keep keeps (nil keeps
// all), in ID order, managed ones excluded.
func (k kind[T]) all(tx store.Tx, account string, keep func(*T) bool) ([]stored[T], error) {
	var out []stored[T]
	err := store.ScanJSON(tx, k.table, store.ScanOptions{Prefix: account + "/"}, func(_ string, v T, version int64) error {
		if keep == nil || keep(&v) {
			out = append(out, stored[T]{&v, version})
		}
		return nil
	})
	return out, err
}

// page is one page of a CloudFront list: the fields every <Kind>List has.
type page[T any] struct {
	Items       []T
	Marker      *string
	NextMarker  *string
	MaxItems    *int32
	IsTruncated *bool
	Quantity    *int32
}

// defaultMaxItems is how many items a list answers when MaxItems is not
// given.
const defaultMaxItems = 100

// list pages through items as CloudFront does: the page starts after the
// item whose ID Marker names and holds at most MaxItems; NextMarker is the
// last ID of a truncated page.
func list[T any](items []T, idOf func(T) string, marker, maxItems *string) (page[T], error) {
	max := defaultMaxItems
	if maxItems != nil && *maxItems != "" {
		n, err := strconv.Atoi(*maxItems)
		if err != nil || n < 0 {
			return page[T]{}, api.NewInvalidArgument("The parameter MaxItems is invalid: %q.", *maxItems)
		}
		max = n
	}
	start := 0
	if marker != nil && *marker != "" {
		start = slices.IndexFunc(items, func(v T) bool { return idOf(v) == *marker }) + 1
		if start == 0 { // the marker is gone: what follows it in ID order
			start = slices.IndexFunc(items, func(v T) bool { return idOf(v) > *marker })
			if start < 0 {
				start = len(items)
			}
		}
	}
	rest := items[start:]
	truncated := len(rest) > max
	if truncated {
		rest = rest[:max]
	}
	p := page[T]{Items: rest, Marker: new(strOr(marker, "")), MaxItems: new(int32(max)),
		IsTruncated: new(truncated), Quantity: new(int32(len(rest)))}
	if truncated && len(rest) > 0 {
		p.NextMarker = new(idOf(rest[len(rest)-1]))
	}
	return p, nil
}

func strOr(s *string, otherwise string) string {
	if s == nil {
		return otherwise
	}
	return *s
}

// newID is an ID as CloudFront makes them: a letter and 13 upper-case
// letters and digits (E2QWRUHAPOMQZL).
func (s *Service) newID(first string) string {
	return first + s.IDs.String("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 13)
}

// notFoundf adapts a NoSuch<Kind> constructor to a kind's notFound.
func notFoundf[E error](newErr func(format string, args ...any) E, what string) func(id string) error {
	return func(id string) error { return newErr("The specified %s does not exist: %s", what, id) }
}

// quantityMatches checks a CloudFront list's Quantity against its Items,
// which CloudFront requires to agree.
func quantityMatches(name string, quantity *int32, n int) error {
	if quantity == nil || int(*quantity) != n {
		return api.NewInvalidArgument("The parameter Quantity of %s does not match the number of items (%d).", name, n)
	}
	return nil
}

// fetched is what reading or writing a resource gives: the resource, its
// ETag, or why not.
type fetched[R any] struct {
	r   R
	tag string
	err error
}

func got[R any](r R, tag string, err error) fetched[R] { return fetched[R]{r, tag, err} }

// answer makes an operation's result from what it fetched, with out,
// unless fetching failed.
func answer[R, O any](f fetched[R], out func(r R, tag *string) *O) (*O, error) {
	if f.err != nil {
		return nil, f.err
	}
	return out(f.r, &f.tag), nil
}

// summaries turns a page's items into a list's items with each.
func summaries[T, S any](p page[T], each func(T) S) []S {
	out := make([]S, 0, len(p.Items))
	for _, v := range p.Items {
		out = append(out, each(v))
	}
	return out
}
