package codebuild

import (
	"context"
	"errors"

	"overcast"
	api "overcast/internal/api/codebuild"
	"overcast/internal/awsproto"
	"overcast/internal/service"
	"overcast/internal/store"
)

func (s *Service) BatchGetBuildBatches(ctx context.Context, in *api.BatchGetBuildBatchesInput) (*api.BatchGetBuildBatchesOutput, error) {
	sc := overcast.ScopeOf(ctx)
	found, missing, err := batchGet(ctx, s.Store, in.Ids, func(tx store.Tx, id string) (api.BuildBatch, error) {
		b, _, err := getBuildBatch(tx, sc, id)
		if err != nil {
			return api.BuildBatch{}, err
		}
		return b.Batch, nil
	})
	if err != nil {
		return nil, err
	}
	return &api.BatchGetBuildBatchesOutput{BuildBatches: found, BuildBatchesNotFound: missing}, nil
}

func (s *Service) ListBuildBatches(ctx context.Context, in *api.ListBuildBatchesInput) (*api.ListBuildBatchesOutput, error) {
	ids, next, err := s.listBuildBatches(ctx, overcast.ScopeOf(ctx).Prefix(), in.Filter, in.SortOrder, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &api.ListBuildBatchesOutput{Ids: ids, NextToken: next}, nil
}

func (s *Service) ListBuildBatchesForProject(ctx context.Context, in *api.ListBuildBatchesForProjectInput) (*api.ListBuildBatchesForProjectOutput, error) {
	sc := overcast.ScopeOf(ctx)
	name := projectName(service.Deref(in.ProjectName))
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, _, err := getProject(tx, sc, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	ids, next, err := s.listBuildBatches(ctx, sc.Key(name+":"), in.Filter, in.SortOrder, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &api.ListBuildBatchesForProjectOutput{Ids: ids, NextToken: next}, nil
}

// listBuildBatches pages through the IDs of the batches under prefix,
// newest first unless order says ASCENDING.
func (s *Service) listBuildBatches(ctx context.Context, prefix string, filter *api.BuildBatchFilter, order, token *string, size *int32) ([]string, *string, error) {
	status := ""
	if filter != nil {
		status = service.Deref(filter.Status)
	}
	var all []buildBatch
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		all, err = store.FilterJSON(tx, batchesTable, store.ScanOptions{Prefix: prefix}, func(b buildBatch) bool {
			return status == "" || *b.Batch.BuildBatchStatus == status
		})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	sortBy(all, func(b buildBatch) string { return timeKey(*b.Batch.StartTime) + *b.Batch.Id }, service.DerefOr(order, "DESCENDING"))
	return pageOf(service.Map(all, func(b buildBatch) string { return *b.Batch.Id }), token, awsproto.PageSize(size, listPageSize))
}

func (s *Service) StopBuildBatch(ctx context.Context, in *api.StopBuildBatchInput) (*api.StopBuildBatchOutput, error) {
	sc := overcast.ScopeOf(ctx)
	var out api.BuildBatch
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		b, version, err := getBuildBatch(tx, sc, *in.Id)
		if err != nil {
			return err
		}
		out = b.Batch
		if service.Deref(b.Batch.Complete) {
			return nil
		}
		b.StopRequested = true
		_, err = store.PutJSON(tx, batchesTable, sc.Key(*b.Batch.Id), b, version)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.batches.Enqueue(sc.Key(*out.Id))
	return &api.StopBuildBatchOutput{BuildBatch: &out}, nil
}

// RetryBuildBatch runs a completed batch's builds again: all of them, or
// those that did not succeed. Each group keeps its earlier builds in
// priorBuildSummaryList.
func (s *Service) RetryBuildBatch(ctx context.Context, in *api.RetryBuildBatchInput) (*api.RetryBuildBatchOutput, error) {
	sc := overcast.ScopeOf(ctx)
	retryType := service.DerefOr(in.RetryType, "RETRY_ALL_BUILDS")
	var out api.BuildBatch
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		b, version, err := getBuildBatch(tx, sc, service.Deref(in.Id))
		if err != nil {
			return err
		}
		if !service.Deref(b.Batch.Complete) {
			return invalidInput("Build batch %s is still in progress: only a completed batch can be retried", *b.Batch.Id)
		}
		now := s.Now()
		for i := range b.Batch.BuildGroups {
			g := &b.Batch.BuildGroups[i]
			if g.CurrentBuildSummary == nil {
				continue
			}
			if retryType == "RETRY_FAILED_BUILDS" && service.Deref(g.CurrentBuildSummary.BuildStatus) == statusSucceeded {
				continue
			}
			g.PriorBuildSummaryList = append(g.PriorBuildSummaryList, *g.CurrentBuildSummary)
			g.CurrentBuildSummary = nil
		}
		b.Attempt++
		b.StopRequested = false
		pb := &b.Batch
		pb.Complete, pb.EndTime, pb.BuildBatchStatus = new(false), nil, new(statusInProgress)
		phase := batchPhaseRun
		if len(b.Tasks) == 0 { // it failed reading its batchspec: read it again
			phase = batchPhaseDownload
		}
		startBatchPhase(pb, phase, now)
		key := sc.Key(*pb.Id)
		if _, err := store.PutJSON(tx, batchesTable, key, b, version); err != nil {
			return err
		}
		out = b.Batch
		_, err = tx.Put(activeBatchesTable, key, nil, store.AnyVersion)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.batches.Enqueue(sc.Key(*out.Id))
	return &api.RetryBuildBatchOutput{BuildBatch: &out}, nil
}

// DeleteBuildBatch deletes a completed batch and its builds.
func (s *Service) DeleteBuildBatch(ctx context.Context, in *api.DeleteBuildBatchInput) (*api.DeleteBuildBatchOutput, error) {
	sc := overcast.ScopeOf(ctx)
	var builds []string
	err := s.Store.View(ctx, func(tx store.Tx) error {
		b, _, err := getBuildBatch(tx, sc, *in.Id)
		if err != nil {
			return err
		}
		if !service.Deref(b.Batch.Complete) {
			return invalidInput("Build batch %s is still in progress: stop it before deleting it", *b.Batch.Id)
		}
		for _, g := range b.Batch.BuildGroups {
			for _, sum := range g.PriorBuildSummaryList {
				builds = append(builds, buildID(*sum.Arn))
			}
			if g.CurrentBuildSummary != nil {
				builds = append(builds, buildID(*g.CurrentBuildSummary.Arn))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	deleted, err := s.BatchDeleteBuilds(ctx, &api.BatchDeleteBuildsInput{Ids: builds})
	if err != nil {
		return nil, err
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		err := tx.Delete(batchesTable, sc.Key(buildBatchID(*in.Id)), store.AnyVersion)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteBuildBatchOutput{StatusCode: new("BATCH_DELETED"), BuildsDeleted: deleted.BuildsDeleted,
		BuildsNotDeleted: deleted.BuildsNotDeleted}, nil
}
