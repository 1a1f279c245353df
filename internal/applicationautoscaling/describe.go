package applicationautoscaling

import (
	"context"
	"errors"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/applicationautoscaling"
	"overcast/internal/service"
	"overcast/internal/store"
)

// query is a Describe operation's request: the records of the namespace,
// of the dimension and among the resources when the request names them;
// a page of at most max (limit when max is 0) after the token, the key
// the previous page ended at; newest first or in key order.
type query struct {
	namespace, dimension *string
	resourceIDs          []string
	max, limit           int32
	token                *string
	newestFirst          bool
}

// selects is whether q asks for the records of target id.
func (q query) selects(id targetID) bool {
	return (q.dimension == nil || id.Dimension == *q.dimension) &&
		(len(q.resourceIDs) == 0 || slices.Contains(q.resourceIDs, id.ResourceID))
}

// listOf is a request's one optional resource ID as a query's list.
func listOf(id *string) []string {
	if id == nil {
		return nil
	}
	return []string{*id}
}

// ofTarget is a record of a scalable target: the target itself, its
// policies and its activities all embed their targetID.
type ofTarget interface{ coordinates() targetID }

func (id targetID) coordinates() targetID { return id }

// errPageFull ends a scan once a page has one record more than it shows.
var errPageFull = errors.New("page full")

// describe is what a Describe operation answers: the page q asks for of
// the records of table in the caller's scope that keep also accepts, as
// view shows them, and the token of the next page if there is one.
func describe[T ofTarget, V any](ctx context.Context, st store.Store, table string, q query, keep func(T) bool, view func(T) V) ([]V, *string, error) {
	prefix := overcast.ScopeOf(ctx).Key(service.Deref(q.namespace) + "|")
	opt := store.ScanOptions{Prefix: prefix, Reverse: q.newestFirst}
	if q.token != nil {
		if !strings.HasPrefix(*q.token, service.Deref(q.namespace)+"|") {
			return nil, nil, api.NewInvalidNextTokenException("Invalid token")
		}
		opt.After = overcast.ScopeOf(ctx).Key(*q.token)
	}
	size := int(q.limit)
	if q.max > 0 && q.max < q.limit {
		size = int(q.max)
	}
	out := []V{}
	var next *string
	err := st.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, table, opt, func(key string, v T, _ int64) error {
			if !q.selects(v.coordinates()) || !keep(v) {
				return nil
			}
			if len(out) == size {
				return errPageFull
			}
			out = append(out, view(v))
			next = new(strings.TrimPrefix(key, overcast.ScopeOf(ctx).Prefix()))
			return nil
		})
	})
	if errors.Is(err, errPageFull) {
		return out, next, nil
	}
	return out, nil, err
}
