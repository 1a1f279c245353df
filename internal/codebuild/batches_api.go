package codebuild

import (
	"context"
	"errors"
	"time"

	"overcast"
	api "overcast/internal/api/codebuild"
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
	var status *string
	if filter != nil {
		status = filter.Status
	}
	return listNewestFirst(ctx, s.Store, batchesTable, prefix, listing[buildBatch]{
		keep:  func(b buildBatch) bool { return status == nil || *b.Batch.BuildBatchStatus == *status },
		since: func(b buildBatch) time.Time { return *b.Batch.StartTime },
		id:    func(b buildBatch) string { return *b.Batch.Id },
	}, order, token, size)
}

func (s *Service) StopBuildBatch(ctx context.Context, in *api.StopBuildBatchInput) (*api.StopBuildBatchOutput, error) {
	out, err := s.changeBatch(ctx, *in.Id, func(b *buildBatch) error {
		b.StopRequested = !service.Deref(b.Batch.Complete)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.StopBuildBatchOutput{BuildBatch: out}, nil
}

// RetryBuildBatch runs a completed batch's builds again: all of them, or
// those that did not succeed. Each group keeps its earlier builds in
// priorBuildSummaryList.
func (s *Service) RetryBuildBatch(ctx context.Context, in *api.RetryBuildBatchInput) (*api.RetryBuildBatchOutput, error) {
	failedOnly := service.Deref(in.RetryType) == "RETRY_FAILED_BUILDS"
	out, err := s.changeBatch(ctx, service.Deref(in.Id), func(b *buildBatch) error {
		if !service.Deref(b.Batch.Complete) {
			return invalidInput("Build batch %s is still in progress: only a completed batch can be retried", *b.Batch.Id)
		}
		for i := range b.Batch.BuildGroups {
			g := &b.Batch.BuildGroups[i]
			if g.CurrentBuildSummary == nil || failedOnly && service.Deref(g.CurrentBuildSummary.BuildStatus) == statusSucceeded {
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
		startBatchPhase(pb, phase, s.Now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.RetryBuildBatchOutput{BuildBatch: out}, nil
}

// changeBatch changes the record of the batch id names with change, keeps
// it among the active batches while it is not complete, and wakes the
// controller.
func (s *Service) changeBatch(ctx context.Context, id string, change func(*buildBatch) error) (*api.BuildBatch, error) {
	sc := overcast.ScopeOf(ctx)
	key := sc.Key(buildBatchID(id))
	var out api.BuildBatch
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		b, version, err := getBuildBatch(tx, sc, id)
		if err != nil {
			return err
		}
		if err := change(b); err != nil {
			return err
		}
		if _, err := store.PutJSON(tx, batchesTable, key, b, version); err != nil {
			return err
		}
		out = b.Batch
		if service.Deref(b.Batch.Complete) {
			return nil
		}
		_, err = tx.Put(activeBatchesTable, key, nil, store.AnyVersion)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.batches.Enqueue(key)
	return &out, nil
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
