package cloudfront

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/cloudfront"
	"overcast/internal/awsproto"
	"overcast/internal/controller"
	"overcast/internal/store"
)

// invalidation is one invalidation batch of a distribution, keyed
// "<account>/<distribution>/<id>".
type invalidation struct {
	ID             string
	DistributionID string
	Created        time.Time
	Batch          *api.InvalidationBatch
	Completed      bool
}

const invalidationsTable = "cloudfront.invalidations"

func (inv *invalidation) wire() *api.Invalidation {
	status := "InProgress"
	if inv.Completed {
		status = "Completed"
	}
	return &api.Invalidation{Id: &inv.ID, Status: &status, CreateTime: new(inv.Created), InvalidationBatch: inv.Batch}
}

func (s *Service) CreateInvalidation(ctx context.Context, in *api.CreateInvalidationRequest) (*api.CreateInvalidationResult, error) {
	account := overcast.ScopeOf(ctx).Account
	distID, batch := *in.DistributionId, in.InvalidationBatch
	if err := checkPaths(batch.Paths); err != nil {
		return nil, err
	}
	inv := &invalidation{ID: s.newID("I"), DistributionID: distID, Created: s.Now(), Batch: batch}
	created := true
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		if _, _, err := s.distributions.get(tx, account, distID); err != nil {
			return err
		}
		prefix := accountKey(account, distID) + "/"
		same, err := store.FilterJSON(tx, invalidationsTable, store.ScanOptions{Prefix: prefix}, func(old invalidation) bool {
			return *old.Batch.CallerReference == *batch.CallerReference
		})
		if err != nil {
			return err
		}
		if len(same) > 0 {
			if !slices.Equal(same[0].Batch.Paths.Items, batch.Paths.Items) {
				return &awsproto.Error{Code: "InvalidationBatchAlreadyExists", Status: http.StatusConflict,
					Message: "Invalidation batch specified already exists: " + same[0].ID}
			}
			inv, created = &same[0], false
			return nil
		}
		_, err = store.PutJSON(tx, invalidationsTable, prefix+inv.ID, inv, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	if created {
		s.invalidations.Enqueue(accountKey(account, distID) + "/" + inv.ID)
	}
	return &api.CreateInvalidationResult{Invalidation: inv.wire(),
		Location: s.location("distribution", distID+"/invalidation/"+inv.ID)}, nil
}

// checkPaths checks an invalidation's paths as CloudFront does: each
// starts with a slash and may end, and only end, with a *.
func checkPaths(paths *api.Paths) error {
	if err := quantityMatches("Paths", paths.Quantity, len(paths.Items)); err != nil {
		return err
	}
	if len(paths.Items) == 0 {
		return api.NewInvalidArgument("The parameter Paths must contain at least one path.")
	}
	for _, p := range paths.Items {
		if !strings.HasPrefix(p, "/") {
			return api.NewInvalidArgument("Your request contains one or more invalid invalidation paths: %s", p)
		}
		if i := strings.IndexByte(p, '*'); i >= 0 && i != len(p)-1 {
			return api.NewInvalidArgument("Your request contains one or more invalid invalidation paths: %s", p)
		}
	}
	return nil
}

func (s *Service) GetInvalidation(ctx context.Context, in *api.GetInvalidationRequest) (*api.GetInvalidationResult, error) {
	account := overcast.ScopeOf(ctx).Account
	var inv invalidation
	err := s.Store.View(ctx, func(tx store.Tx) error {
		if _, _, err := s.distributions.get(tx, account, *in.DistributionId); err != nil {
			return err
		}
		_, err := store.GetJSON(tx, invalidationsTable, accountKey(account, *in.DistributionId)+"/"+*in.Id, &inv)
		if errors.Is(err, store.ErrNotFound) {
			return api.NewNoSuchInvalidation("The specified invalidation does not exist.")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.GetInvalidationResult{Invalidation: inv.wire()}, nil
}

// ListInvalidations lists a distribution's invalidations, the most recent
// first, as CloudFront does.
func (s *Service) ListInvalidations(ctx context.Context, in *api.ListInvalidationsRequest) (*api.ListInvalidationsResult, error) {
	account := overcast.ScopeOf(ctx).Account
	var all []invalidation
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		if _, _, err := s.distributions.get(tx, account, *in.DistributionId); err != nil {
			return err
		}
		all, err = store.FilterJSON[invalidation](tx, invalidationsTable, store.ScanOptions{Prefix: accountKey(account, *in.DistributionId) + "/"}, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(all, func(a, b invalidation) int { return b.Created.Compare(a.Created) })
	p, err := list(all, func(inv invalidation) string { return inv.ID }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &api.InvalidationList{Marker: p.Marker, NextMarker: p.NextMarker, MaxItems: p.MaxItems, IsTruncated: p.IsTruncated, Quantity: p.Quantity}
	for _, inv := range p.Items {
		out.Items = append(out.Items, api.InvalidationSummary{Id: new(inv.ID), CreateTime: new(inv.Created), Status: inv.wire().Status})
	}
	return &api.ListInvalidationsResult{InvalidationList: out}, nil
}

// inProgressInvalidations counts the distribution's invalidations not yet
// completed.
func (s *Service) inProgressInvalidations(tx store.Tx, account, distID string) (int, error) {
	pending, err := store.FilterJSON(tx, invalidationsTable, store.ScanOptions{Prefix: accountKey(account, distID) + "/"},
		func(inv invalidation) bool { return !inv.Completed })
	return len(pending), err
}

// pendingInvalidations are the invalidations not completed: a restart
// resumes them.
func (s *Service) pendingInvalidations(ctx context.Context) ([]string, error) {
	var keys []string
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, invalidationsTable, store.ScanOptions{}, func(key string, inv invalidation, _ int64) error {
			if !inv.Completed {
				keys = append(keys, key)
			}
			return nil
		})
	})
	return keys, err
}

// reconcileInvalidation has the edge drop what an invalidation names, then
// records it Completed.
func (s *Service) reconcileInvalidation(ctx context.Context, key string) (controller.Result, error) {
	var inv invalidation
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, invalidationsTable, key, &inv)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && inv.Completed) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if err := s.opts.Edge.Invalidate(ctx, inv.DistributionID, inv.Batch.Paths.Items); err != nil {
		return controller.Result{}, err
	}
	return controller.Result{}, store.UpdateRetry(ctx, s.Store, 3, func(tx store.Tx) error {
		var current invalidation
		version, err := store.GetJSON(tx, invalidationsTable, key, &current)
		if err != nil {
			return err
		}
		current.Completed = true
		_, err = store.PutJSON(tx, invalidationsTable, key, current, version)
		return err
	})
}
